import Foundation

extension ResultsReport {
    /// The CSV's columns; the `paper_*` and `*_diff` ones only with the paper comparison on.
    public var csvHeader: [String] {
        ["level", "dataset", "scheme", "model", "size", "seeds", "acc_mean", "acc_std", "auc_mean", "auc_std", "seconds",
         "datasets", "expected_datasets"]
            + (comparesWithPaper ? ["paper_acc", "paper_acc_std", "paper_auc", "paper_auc_std", "acc_diff", "auc_diff"] : [])
    }

    /// The report as CSV (RFC 4180, `\n` line ends): one line per dataset cell and per average, missing ones
    /// included with empty metric fields (`seeds` 0), in percent with 4 decimals. `seeds` is the seed count of
    /// a dataset cell and the dataset count of an average; `datasets`/`expected_datasets` are filled for averages.
    public func csv() -> String {
        var lines = [csvHeader.joined(separator: ",")]
        for row in datasetRows + averageRows {
            var fields = [row.level.rawValue, Self.csvField(row.dataset), row.scheme.rawValue, Self.csvField(row.model), "\(row.size)",
                          "\(row.seeds)", number(row.accMean), number(row.accStd), number(row.aucMean), number(row.aucStd),
                          number(row.seconds, 3), row.datasets.map(String.init) ?? "", row.expectedDatasets.map(String.init) ?? ""]
            if comparesWithPaper {
                fields += [number(row.paper?.acc), number(row.paper?.accStd), number(row.paper?.auc), number(row.paper?.aucStd),
                           number(row.accDifference), number(row.aucDifference)]
            }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

private func number(_ value: Double?, _ digits: Int = 4) -> String { value.map { fixed($0, digits) } ?? "" }
