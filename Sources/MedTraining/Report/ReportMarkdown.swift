import Foundation

extension ResultsReport {
    /// The report as Markdown: the average over datasets, then each dataset, each with one table per scheme
    /// (rows: models; columns: ACC and AUC at each size), as the paper lays out its figures. A cell reads
    /// `mean±std` over seeds in percent, `mean` alone for a single seed (kNN), `—` when missing, and
    /// `(k/n seeds)` after it when it has fewer seeds than the scheme's fullest cell. A partial average (not every
    /// dataset present) carries `(k/n sets)`. With the paper comparison: `ours [paper, ours − paper]`.
    public func markdown() -> String {
        var lines: [String] = ["# MedMNIST+ results", ""]
        let cells = datasetRows
        let missing = cells.filter(\.isMissing).count
        lines.append("\(table.recordCount) result records\(sources.isEmpty ? "" : " from " + sources.map { "`\($0)`" }.joined(separator: ", ")): "
            + "\(table.datasets.count) datasets × \(table.sizes.count) sizes × \(table.models.count) models × \(table.schemes.count) schemes, "
            + "\(cells.count - missing) of \(cells.count) cells present.")
        lines.append("")
        lines.append("Test ACC and AUC in %, mean ± std over seeds (std with ddof = \(table.ddof)); `—` is a missing cell. "
            + "The average over datasets is the mean of the per-dataset means ± the mean of the per-dataset stds; "
            + "`(k/n sets)` marks an average over only k of the n datasets.")
        if comparesWithPaper {
            lines.append("")
            lines.append("Paper comparison: `ours [paper, ours − paper]` where the paper publishes the cell "
                + "(averages: MEDMNIST.md §1.7; per dataset: kNN ACC §1.8, VGG16 end-to-end §1.9).")
            if !comparesAveragesWithPaper {
                lines.append("The paper's averages are over its 12 datasets and these results cover \(table.datasets.count), "
                    + "so the averages are not compared.")
            }
        }
        lines.append("")
        let averages = Dictionary(uniqueKeysWithValues: averageRows.map { (RowKey($0), $0) })
        lines.append("## Average over \(table.datasets.count) datasets (\(table.datasets.joined(separator: ", ")))")
        lines += schemeTables { averages[RowKey(scheme: $0, model: $1, size: $2, dataset: "average")] }
        let byKey = Dictionary(uniqueKeysWithValues: cells.map { (RowKey($0), $0) })
        for dataset in table.datasets {
            lines.append("## \(dataset)")
            lines += schemeTables { byKey[RowKey(scheme: $0, model: $1, size: $2, dataset: dataset)] }
        }
        if includesWilcoxon {
            let (acc, auc) = comparisons
            lines += wilcoxonSection("ACC", acc)
            lines += wilcoxonSection("AUC", auc)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func schemeTables(_ row: (ExperimentScheme, String, Int) -> ReportRow?) -> [String] {
        var lines: [String] = []
        for scheme in table.schemes {
            let expectedSeeds = table.expectedSeeds(for: scheme)
            lines.append("")
            lines.append("### \(scheme.rawValue)")
            lines.append("")
            let header = ["Model"] + table.sizes.map { "ACC \($0)" } + table.sizes.map { "AUC \($0)" }
            lines.append("| " + header.joined(separator: " | ") + " |")
            lines.append("|" + String(repeating: "---|", count: header.count))
            for model in table.models {
                var cells = [model]
                for metric in [Metric.acc, .auc] {
                    for size in table.sizes {
                        cells.append(row(scheme, model, size).map { Self.cellText($0, metric, expectedSeeds: expectedSeeds) } ?? "—")
                    }
                }
                lines.append("| " + cells.joined(separator: " | ") + " |")
            }
        }
        lines.append("")
        return lines
    }

    enum Metric { case acc, auc }

    static func cellText(_ row: ReportRow, _ metric: Metric, expectedSeeds: Int) -> String {
        let mean = metric == .acc ? row.accMean : row.aucMean
        let std = metric == .acc ? row.accStd : row.aucStd
        var text: String
        if let mean {
            text = fixed(mean)
            if let std, row.level == .average || row.seeds > 1 { text += "±" + fixed(std) }
            if row.level == .dataset, row.seeds < expectedSeeds { text += " (\(row.seeds)/\(expectedSeeds) seeds)" }
            if row.level == .average, let present = row.datasets, let expected = row.expectedDatasets, present < expected {
                text += " (\(present)/\(expected) sets)"
            }
        } else {
            text = "—"
        }
        if let paper = row.paper, let published = metric == .acc ? paper.acc : paper.auc {
            let difference = metric == .acc ? row.accDifference : row.aucDifference
            text += " [" + fixed(published) + (difference.map { ", " + signed($0) } ?? "") + "]"
        }
        return text
    }

    private func wilcoxonSection(_ name: String, _ comparisons: [PairwiseComparison]) -> [String] {
        let pairs = table.models.count * (table.models.count - 1) / 2
        var lines = [
            "## Pairwise Wilcoxon signed-rank tests, \(name)", "",
            "Paired samples: the seed-mean test \(name) of every scheme × size × dataset cell both models have; "
                + "two-sided, as scipy.stats.wilcoxon; Bonferroni over \(pairs) pairs (significant: adjusted p < 0.05, "
                + "i.e. p < \(String(format: "%.2g", 0.05 / Double(max(pairs, 1))))).", "",
            "| Model A | Model B | pairs | median A − B | W | p | method | adjusted p | significant |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for c in comparisons {
            let p = c.test.map { String(format: "%.3g", $0.pValue) } ?? "—"
            let adjusted = c.adjustedP.map { String(format: "%.3g", $0) } ?? "—"
            let verdict = c.isSignificant ? (c.medianDifference > 0 ? "yes, A better" : "yes, B better") : "no"
            lines.append("| \(c.modelA) | \(c.modelB) | \(c.pairs) | \(signed(c.medianDifference)) | "
                + "\(c.test.map { fixed($0.statistic, 1) } ?? "—") | \(p) | \(c.test?.method.rawValue ?? "—") | \(adjusted) | \(verdict) |")
        }
        lines.append("")
        return lines
    }
}

/// A row's place in the tables.
struct RowKey: Hashable {
    var scheme: ExperimentScheme
    var model: String
    var size: Int
    var dataset: String
    init(scheme: ExperimentScheme, model: String, size: Int, dataset: String) {
        self.scheme = scheme
        self.model = model
        self.size = size
        self.dataset = dataset
    }
    init(_ row: ReportRow) { self.init(scheme: row.scheme, model: row.model, size: row.size, dataset: row.dataset) }
}

/// `82.34`: fixed-point with `digits` decimals.
func fixed(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

/// `+0.12` / `−0.24` (a true minus sign).
func signed(_ value: Double) -> String {
    let text = fixed(abs(value))
    return (value < 0 && text != fixed(0) ? "−" : "+") + text
}
