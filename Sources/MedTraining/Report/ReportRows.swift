/// One line of the report's CSV and JSON: a dataset's cell or an average over datasets, missing or not.
public struct ReportRow: Sendable, Equatable {
    public enum Level: String, Sendable, Codable { case dataset, average }

    public var level: Level
    /// The dataset's flag, or `average`.
    public var dataset: String
    public var scheme: ExperimentScheme
    public var model: String
    public var size: Int
    /// Seeds found (dataset rows), 0 when the cell is missing; for averages the datasets present.
    public var seeds: Int
    /// Percent; nil when missing (or, for std, undefined).
    public var accMean: Double?
    public var accStd: Double?
    public var aucMean: Double?
    public var aucStd: Double?
    /// Mean wall time per cell.
    public var seconds: Double?
    /// Averages: datasets present and datasets of the table (complete when equal).
    public var datasets: Int?
    public var expectedDatasets: Int?
    /// The published number and ours minus it (only with the paper comparison on).
    public var paper: PaperResults.Number?
    public var accDifference: Double?
    public var aucDifference: Double?

    public var isMissing: Bool { accMean == nil }
}

extension ResultsReport {
    /// Every dataset cell, missing ones included, in table order (scheme, model, size, dataset).
    public var datasetRows: [ReportRow] {
        var rows: [ReportRow] = []
        for scheme in table.schemes {
            for model in table.models {
                for size in table.sizes {
                    for dataset in table.datasets {
                        var row = ReportRow(level: .dataset, dataset: dataset, scheme: scheme, model: model, size: size, seeds: 0)
                        if let entry = table.entry(scheme: scheme, model: model, size: size, dataset: dataset) {
                            row.seeds = entry.seeds.count
                            row.accMean = entry.acc.mean
                            row.accStd = entry.acc.std
                            row.aucMean = entry.auc.mean
                            row.aucStd = entry.auc.std
                            row.seconds = entry.seconds
                        }
                        if comparesWithPaper {
                            row.paper = PaperResults.perDataset(scheme: scheme, model: model, size: size, dataset: dataset)
                            row.fillDifferences()
                        }
                        rows.append(row)
                    }
                }
            }
        }
        return rows
    }

    /// Every average over datasets, missing ones included, in table order (scheme, model, size).
    public var averageRows: [ReportRow] {
        var rows: [ReportRow] = []
        for scheme in table.schemes {
            for model in table.models {
                for size in table.sizes {
                    var row = ReportRow(level: .average, dataset: "average", scheme: scheme, model: model, size: size, seeds: 0,
                                        datasets: 0, expectedDatasets: table.datasets.count)
                    if let average = table.average(scheme: scheme, model: model, size: size) {
                        row.seeds = average.datasets
                        row.accMean = average.accMean
                        row.accStd = average.accStd
                        row.aucMean = average.aucMean
                        row.aucStd = average.aucStd
                        row.seconds = average.seconds
                        row.datasets = average.datasets
                    }
                    if comparesAveragesWithPaper {
                        row.paper = PaperResults.average(scheme: scheme, model: model, size: size)
                        if row.datasets == row.expectedDatasets { row.fillDifferences() }
                    }
                    rows.append(row)
                }
            }
        }
        return rows
    }
}

extension ReportRow {
    mutating func fillDifferences() {
        guard let paper else { return }
        accDifference = accMean.map { $0 - paper.acc }
        if let auc = paper.auc { aucDifference = aucMean.map { $0 - auc } }
    }
}
