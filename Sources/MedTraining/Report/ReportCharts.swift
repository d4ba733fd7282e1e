extension ResultsReport {
    /// The charts, by file name: for each scheme `acc-<scheme>.svg` and `auc-<scheme>.svg` (the average over
    /// datasets against resolution, one line per model; only complete averages are drawn, and the subtitle says
    /// when some were left out), and `cost.svg` (mean seconds per cell against resolution on a log scale, a
    /// colour per model and a dash per scheme).
    public func charts() -> [String: String] {
        var charts: [String: String] = [:]
        let setText = table.datasets.count == 1 ? table.datasets[0] : "average over \(table.datasets.count) datasets"
        for scheme in table.schemes {
            for metric in [Metric.acc, .auc] {
                var partial = 0
                let series = table.models.enumerated().map { index, model in
                    SVGLineChart.Series(name: model, values: table.sizes.map { size in
                        guard let average = table.average(scheme: scheme, model: model, size: size) else { return nil }
                        guard average.isComplete else { partial += 1; return nil }
                        return metric == .acc ? average.accMean : average.aucMean
                    }, colour: index)
                }
                let name = metric == .acc ? "ACC" : "AUC"
                var subtitle = setText
                if partial > 0 { subtitle += "; \(partial) partial average\(partial == 1 ? "" : "s") (a dataset missing) not drawn" }
                let chart = SVGLineChart(title: "Test \(name) against resolution: \(scheme.rawValue)", subtitle: subtitle,
                                         xLabel: "Input resolution (pixels, log scale)", yLabel: "Test \(name) (%)",
                                         xValues: table.sizes, series: series)
                charts["\(name.lowercased())-\(scheme.rawValue).svg"] = chart.svg()
            }
        }
        let dashes: [ExperimentScheme: String?] = [.endToEnd: nil, .linearProbe: "7 4", .cachedLinearProbe: "2 3", .knn: "10 3 2 3"]
        var series: [SVGLineChart.Series] = []
        for (index, model) in table.models.enumerated() {
            for scheme in table.schemes {
                series.append(SVGLineChart.Series(
                    name: "\(model), \(scheme.rawValue)",
                    values: table.sizes.map { table.average(scheme: scheme, model: model, size: $0)?.seconds },
                    colour: index, dash: dashes[scheme] ?? nil))
            }
        }
        // One legend line per model (its colour) and per scheme (its dash), rather than one per pair.
        var cost = SVGLineChart(title: "Cost per cell against resolution", subtitle: "wall time of one run, mean over datasets and seeds",
                                xLabel: "Input resolution (pixels, log scale)", yLabel: "Seconds per cell (log scale)",
                                xValues: table.sizes, series: series.map { var s = $0; s.inLegend = false; return s })
        cost.logY = true
        cost.legendKeys = table.models.enumerated().map { SVGLineChart.LegendKey(name: $1, colour: $0) }
            + table.schemes.map { SVGLineChart.LegendKey(name: $0.rawValue, dash: dashes[$0] ?? nil) }
        charts["cost.svg"] = cost.svg()
        return charts
    }
}
