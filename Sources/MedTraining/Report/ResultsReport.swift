import Foundation

/// A report over grid results: the ``ReportTable`` and what to add to it, rendered as Markdown
/// (``markdown()``), CSV (``csv()``), JSON (``json()``) and SVG charts (``charts()``).
///
/// ```swift
/// let records = try ResultScan.scan([URL(fileURLWithPath: "results")]).map(\.record)
/// let report = ResultsReport(ReportTable(records), paper: true)
/// print(report.markdown())
/// ```
public struct ResultsReport: Sendable {
    public var table: ReportTable
    /// Show each cell beside the paper's number (``PaperResults``) and the difference.
    public var comparesWithPaper: Bool
    /// Add the pairwise Wilcoxon signed-rank tests of the models (``PairwiseComparison``).
    public var includesWilcoxon: Bool
    /// The folders read, for the header.
    public var sources: [String]

    public init(_ table: ReportTable, paper: Bool = false, wilcoxon: Bool = false, sources: [String] = []) {
        self.table = table
        comparesWithPaper = paper
        includesWilcoxon = wilcoxon
        self.sources = sources
    }

    /// The paper's averages are over its 12 datasets: compared only when the table has exactly those.
    public var comparesAveragesWithPaper: Bool {
        comparesWithPaper && Set(table.datasets) == Set(GridSelection.paper.datasets)
    }

    /// The pairwise tests on ACC and on AUC (empty unless ``includesWilcoxon``).
    public var comparisons: (acc: [PairwiseComparison], auc: [PairwiseComparison]) {
        guard includesWilcoxon else { return ([], []) }
        return (PairwiseComparison.all(table, metric: \.acc), PairwiseComparison.all(table, metric: \.auc))
    }
}
