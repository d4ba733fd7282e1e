import Foundation

extension ResultsReport {
    /// The report as JSON (sorted snake_case keys): `ddof`, `sources`, `records`, the table's `datasets`, `sizes`,
    /// `models`, `schemes`, then `cells` (every dataset cell) and `averages` (every average over datasets), each
    /// object with the CSV's fields and `null` for a missing value, and, with the tests on, `wilcoxon` (`acc`,
    /// `auc`: one object per model pair).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let (acc, auc) = comparisons
        let document = Document(
            ddof: table.ddof, sources: sources, records: table.recordCount, datasets: table.datasets, sizes: table.sizes,
            models: table.models, schemes: table.schemes.map(\.rawValue), paperComparison: comparesWithPaper,
            cells: datasetRows, averages: averageRows,
            wilcoxon: includesWilcoxon ? WilcoxonDocument(acc: acc, auc: auc) : nil)
        return try encoder.encode(document)
    }

    private struct Document: Encodable {
        var ddof: Int
        var sources: [String]
        var records: Int
        var datasets: [String]
        var sizes: [Int]
        var models: [String]
        var schemes: [String]
        var paperComparison: Bool
        var cells: [ReportRow]
        var averages: [ReportRow]
        var wilcoxon: WilcoxonDocument?
    }

    private struct WilcoxonDocument: Encodable {
        var acc: [PairwiseComparison]
        var auc: [PairwiseComparison]
    }
}

extension ReportRow: Encodable {
    private enum CodingKeys: String, CodingKey {
        case level, dataset, scheme, model, size, seeds, accMean, accStd, aucMean, aucStd, seconds, datasets, expectedDatasets
        case paperAcc, paperAccStd, paperAuc, paperAucStd, accDiff, aucDiff
    }

    /// Every key always present, `null` when missing (so that pandas sees the same columns in every object).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(level, forKey: .level)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(scheme, forKey: .scheme)
        try c.encode(model, forKey: .model)
        try c.encode(size, forKey: .size)
        try c.encode(seeds, forKey: .seeds)
        try c.encode(accMean, forKey: .accMean)
        try c.encode(accStd, forKey: .accStd)
        try c.encode(aucMean, forKey: .aucMean)
        try c.encode(aucStd, forKey: .aucStd)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(datasets, forKey: .datasets)
        try c.encode(expectedDatasets, forKey: .expectedDatasets)
        try c.encode(paper?.acc, forKey: .paperAcc)
        try c.encode(paper?.accStd, forKey: .paperAccStd)
        try c.encode(paper?.auc, forKey: .paperAuc)
        try c.encode(paper?.aucStd, forKey: .paperAucStd)
        try c.encode(accDifference, forKey: .accDiff)
        try c.encode(aucDifference, forKey: .aucDiff)
    }
}

extension PairwiseComparison: Encodable {
    private enum CodingKeys: String, CodingKey {
        case modelA, modelB, pairs, medianDifference, statistic, pValue, method, adjustedP, significant
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelA, forKey: .modelA)
        try c.encode(modelB, forKey: .modelB)
        try c.encode(pairs, forKey: .pairs)
        try c.encode(medianDifference, forKey: .medianDifference)
        try c.encode(test?.statistic, forKey: .statistic)
        try c.encode(test?.pValue, forKey: .pValue)
        try c.encode(test?.method.rawValue, forKey: .method)
        try c.encode(adjustedP, forKey: .adjustedP)
        try c.encode(isSignificant, forKey: .significant)
    }
}
