import Foundation

/// A line chart as a self-contained SVG document (no scripts, no external fonts or styles): a title, an optional
/// subtitle, axes with ticks and labels, light grid lines, one coloured line with markers per series, and a
/// legend to the right. The x axis is logarithmic at the given tick values (the resolutions); the y axis is
/// linear or logarithmic. A nil value leaves a gap in its line.
public struct SVGLineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        /// One value per x tick, nil where missing.
        public var values: [Double?]
        /// Index into the palette.
        public var colour: Int
        /// A dash pattern (`"6 4"`), nil for a solid line.
        public var dash: String?
        /// Whether the legend lists it (false when ``SVGLineChart/legendKeys`` describe it instead).
        public var inLegend: Bool

        public init(name: String, values: [Double?], colour: Int, dash: String? = nil, inLegend: Bool = true) {
            self.name = name
            self.values = values
            self.colour = colour
            self.dash = dash
            self.inLegend = inLegend
        }
    }

    /// A legend line of its own (a colour or a dash style shared by several series); nil colour draws it grey.
    public struct LegendKey: Sendable {
        public var name: String
        public var colour: Int?
        public var dash: String?
        public init(name: String, colour: Int? = nil, dash: String? = nil) {
            self.name = name
            self.colour = colour
            self.dash = dash
        }
    }

    public var title: String
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    public var xValues: [Int]
    public var series: [Series]
    public var logY = false
    public var legendKeys: [LegendKey] = []
    public var width = 760.0
    public var height = 460.0

    /// Tableau 10: distinct on screen and in grey print.
    public static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String, xValues: [Int], series: [Series]) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xValues = xValues
        self.series = series
    }

    /// The SVG text.
    public func svg() -> String {
        let left = 78.0, right = 230.0, top = subtitle == nil ? 56.0 : 72.0, bottom = 64.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        var out: [String] = []
        out.append(##"<?xml version="1.0" encoding="UTF-8"?>"##)
        out.append(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(n(width))" height="\##(n(height))" viewBox="0 0 \##(n(width)) \##(n(height))" font-family="Helvetica, Arial, sans-serif">"##)
        out.append(##"<rect x="0" y="0" width="\##(n(width))" height="\##(n(height))" fill="#ffffff"/>"##)
        out.append(##"<text x="\##(n(width / 2))" y="26" text-anchor="middle" font-size="17" font-weight="bold" fill="#222222">\##(escape(title))</text>"##)
        if let subtitle {
            out.append(##"<text x="\##(n(width / 2))" y="46" text-anchor="middle" font-size="13" fill="#555555">\##(escape(subtitle))</text>"##)
        }
        // x: log scale over the ticks, with half a tick's gap at each end.
        let logs = xValues.map { log2(Double(max($0, 1))) }
        let pad = logs.count > 1 ? (logs.last! - logs.first!) * 0.08 : 0.5
        let xMin = (logs.first ?? 0) - pad, xMax = (logs.last ?? 1) + pad
        func x(_ index: Int) -> Double { left + (logs[index] - xMin) / (xMax - xMin) * plotWidth }
        // y: nice ticks around the data.
        let values = series.flatMap { $0.values.compactMap { $0 } }.filter { $0.isFinite && (!logY || $0 > 0) }
        let ticks = logY ? Self.logTicks(values) : Self.linearTicks(values)
        let yLow = logY ? log10(ticks.first!) : ticks.first!, yHigh = logY ? log10(ticks.last!) : ticks.last!
        func y(_ value: Double) -> Double {
            let v = logY ? log10(value) : value
            return top + plotHeight - (v - yLow) / max(yHigh - yLow, 1e-12) * plotHeight
        }
        out.append(##"<g stroke="#e3e3e3" stroke-width="1">"##)
        for tick in ticks { out.append(##"<line x1="\##(n(left))" y1="\##(n(y(tick)))" x2="\##(n(left + plotWidth))" y2="\##(n(y(tick)))"/>"##) }
        for index in xValues.indices { out.append(##"<line x1="\##(n(x(index)))" y1="\##(n(top))" x2="\##(n(x(index)))" y2="\##(n(top + plotHeight))"/>"##) }
        out.append("</g>")
        out.append(##"<rect x="\##(n(left))" y="\##(n(top))" width="\##(n(plotWidth))" height="\##(n(plotHeight))" fill="none" stroke="#444444" stroke-width="1"/>"##)
        out.append(##"<g font-size="13" fill="#333333">"##)
        for tick in ticks {
            out.append(##"<line x1="\##(n(left - 5))" y1="\##(n(y(tick)))" x2="\##(n(left))" y2="\##(n(y(tick)))" stroke="#444444"/>"##)
            out.append(##"<text x="\##(n(left - 9))" y="\##(n(y(tick) + 4.5))" text-anchor="end">\##(Self.tickLabel(tick, ticks: ticks, log: logY))</text>"##)
        }
        for (index, value) in xValues.enumerated() {
            out.append(##"<line x1="\##(n(x(index)))" y1="\##(n(top + plotHeight))" x2="\##(n(x(index)))" y2="\##(n(top + plotHeight + 5))" stroke="#444444"/>"##)
            out.append(##"<text x="\##(n(x(index)))" y="\##(n(top + plotHeight + 21))" text-anchor="middle">\##(value)</text>"##)
        }
        out.append("</g>")
        out.append(##"<text x="\##(n(left + plotWidth / 2))" y="\##(n(height - 16))" text-anchor="middle" font-size="14" fill="#222222">\##(escape(xLabel))</text>"##)
        let yMid = top + plotHeight / 2
        out.append(##"<text x="20" y="\##(n(yMid))" text-anchor="middle" font-size="14" fill="#222222" transform="rotate(-90 20 \##(n(yMid)))">\##(escape(yLabel))</text>"##)
        for line in series {
            let colour = Self.palette[line.colour % Self.palette.count]
            let dash = line.dash.map { ##" stroke-dasharray="\##($0)""## } ?? ""
            var run: [String] = []
            func flush() {
                if run.count > 1 {
                    out.append(##"<polyline fill="none" stroke="\##(colour)" stroke-width="2.2"\##(dash) points="\##(run.joined(separator: " "))"/>"##)
                }
                run = []
            }
            for (index, value) in line.values.enumerated() {
                guard let value, value.isFinite, !logY || value > 0 else { flush(); continue }
                run.append("\(n(x(index))),\(n(y(value)))")
            }
            flush()
            for (index, value) in line.values.enumerated() {
                guard let value, value.isFinite, !logY || value > 0 else { continue }
                out.append(##"<circle cx="\##(n(x(index)))" cy="\##(n(y(value)))" r="3.6" fill="\##(colour)" stroke="#ffffff" stroke-width="1"><title>\##(escape(line.name)): \##(String(format: "%.2f", value))</title></circle>"##)
            }
        }
        // Legend.
        let legendX = left + plotWidth + 18
        var legendY = top + 8
        out.append(##"<g font-size="13" fill="#222222">"##)
        for line in series where line.inLegend {
            let colour = Self.palette[line.colour % Self.palette.count]
            let dash = line.dash.map { ##" stroke-dasharray="\##($0)""## } ?? ""
            out.append(##"<line x1="\##(n(legendX))" y1="\##(n(legendY))" x2="\##(n(legendX + 26))" y2="\##(n(legendY))" stroke="\##(colour)" stroke-width="2.2"\##(dash)/>"##)
            out.append(##"<circle cx="\##(n(legendX + 13))" cy="\##(n(legendY))" r="3.6" fill="\##(colour)" stroke="#ffffff" stroke-width="1"/>"##)
            out.append(##"<text x="\##(n(legendX + 34))" y="\##(n(legendY + 4.5))">\##(escape(Self.shortened(line.name)))</text>"##)
            legendY += 20
        }
        for (index, key) in legendKeys.enumerated() {
            if index > 0, (key.colour == nil) != (legendKeys[index - 1].colour == nil) { legendY += 10 }
            let colour = key.colour.map { Self.palette[$0 % Self.palette.count] } ?? "#555555"
            let dash = key.dash.map { ##" stroke-dasharray="\##($0)""## } ?? ""
            out.append(##"<line x1="\##(n(legendX))" y1="\##(n(legendY))" x2="\##(n(legendX + 26))" y2="\##(n(legendY))" stroke="\##(colour)" stroke-width="2.2"\##(dash)/>"##)
            out.append(##"<text x="\##(n(legendX + 34))" y="\##(n(legendY + 4.5))">\##(escape(Self.shortened(key.name)))</text>"##)
            legendY += 20
        }
        out.append("</g>")
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// About six round ticks covering `values` (a step of 1, 2, 2.5 or 5 × 10ᵏ).
    static func linearTicks(_ values: [Double]) -> [Double] {
        guard var low = values.min(), var high = values.max() else { return [0, 1] }
        if high - low < 1e-9 { low -= 1; high += 1 }
        let span = high - low
        low -= span * 0.06
        high += span * 0.06
        let raw = (high - low) / 6
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let first = floor(low / step) * step, last = ceil(high / step) * step
        return stride(from: first, through: last + step * 1e-9, by: step).map { (($0 / step).rounded() * step * 1e9).rounded() / 1e9 }
    }

    /// Powers of ten covering `values`, with 2× and 5× ticks between them when the range spans few decades.
    static func logTicks(_ values: [Double]) -> [Double] {
        guard let low = values.min(), let high = values.max() else { return [1, 10] }
        let first = floor(log10(low)), last = max(ceil(log10(high)), first + 1)
        var ticks: [Double] = []
        for exponent in Int(first)...Int(last) {
            let base = pow(10, Double(exponent))
            ticks.append(base)
            if last - first <= 3 && exponent < Int(last) { ticks += [2 * base, 5 * base] }
        }
        return ticks
    }

    static func tickLabel(_ tick: Double, ticks: [Double], log: Bool) -> String {
        if log { return tick >= 1 ? String(format: "%.0f", tick) : String(format: "%g", tick) }
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        return step < 1 ? String(format: step < 0.1 ? "%.2f" : "%.1f", tick) : String(format: "%.0f", tick)
    }

    /// Legend names past 26 characters lose their middle.
    static func shortened(_ name: String) -> String {
        name.count <= 26 ? name : String(name.prefix(15)) + "…" + String(name.suffix(10))
    }

    private func n(_ value: Double) -> String { String(format: "%.1f", value) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
