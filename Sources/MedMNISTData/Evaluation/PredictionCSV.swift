import Foundation
import MedIO

/// The prediction file the `medmnist` package's `Evaluator.evaluate(y_score, save_folder, run)` writes:
/// `pd.DataFrame(y_score).to_csv(path, header=None)` — one line per sample, `index,score0,score1,…`, floats in
/// Python's shortest round-trip form — named `{flag}{size_flag}_{split}_[AUC]{auc:.3f}_[ACC]{acc:.3f}@{run}.csv`.
public enum PredictionCSV {
    /// `{flag}{size_flag}_{split}_[AUC]{auc:.3f}_[ACC]{acc:.3f}@{run}.csv`; `size_flag` is empty at 28.
    public static func standardFileName(flag: String, size: Int, split: Split, metrics: Metrics, run: String) -> String {
        let sizeFlag = size == 28 ? "" : "_\(size)"
        return "\(flag)\(sizeFlag)_\(split.rawValue)_[AUC]\(String(format: "%.3f", metrics.auc))_[ACC]\(String(format: "%.3f", metrics.acc))@\(run).csv"
    }

    /// The package's default `run`: `time.time()` as Python prints it.
    public static func defaultRun() -> String { String(Date().timeIntervalSince1970) }

    /// The CSV text for `scores` (1-D or 2-D).
    public static func contents(_ scores: ScoreArray) -> String {
        precondition(scores.shape.count == 1 || scores.shape.count == 2, "PredictionCSV: scores must be 1-D or 2-D, not \(scores.shape)")
        let rows = scores.shape[0]
        let columns = scores.shape.count == 2 ? scores.shape[1] : 1
        var text = ""
        text.reserveCapacity(rows * (columns * 20 + 8))
        for row in 0..<rows {
            text += String(row)
            for column in 0..<columns {
                text += ","
                text += format(scores.values[row * columns + column], single: scores.isSinglePrecision)
            }
            text += "\n"
        }
        return text
    }

    /// Python's `repr` of a float64 (or numpy's of a float32): Swift's shortest round-trip description uses the
    /// same digits and the same switch to exponent form. NaN is written as an empty field, as pandas does.
    static func format(_ value: Double, single: Bool) -> String {
        if value.isNaN { return "" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return single ? Float(value).description : value.description
    }

    /// Writes the CSV into `folder` under its standard name and returns the path.
    @discardableResult
    public static func write(
        _ scores: ScoreArray, flag: String, size: Int, split: Split, metrics: Metrics, run: String, folder: URL
    ) throws -> URL {
        let url = folder.appendingPathComponent(standardFileName(flag: flag, size: size, split: split, metrics: metrics, run: run))
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw FileError.system(path: folder.path, operation: "create the folder", reason: error.localizedDescription)
        }
        try AtomicFile.write(contents(scores), to: url)
        return url
    }

    /// Reads a prediction CSV back as `parse_and_evaluate` does (`index_col=0`, sorted by index).
    public static func read(contentsOf url: URL) throws -> ScoreArray {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw FileError.system(path: url.path, operation: "read", reason: error.localizedDescription)
        }
        var rows: [(Int, [Double])] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count >= 2, let index = Int(fields[0]) else {
                throw DataFileError.csv(path: url.path, line: number + 1, reason: "is not 'index,score,…'")
            }
            var values: [Double] = []
            for field in fields.dropFirst() {
                if field.isEmpty { values.append(.nan); continue }
                guard let value = Double(field) else {
                    throw DataFileError.csv(path: url.path, line: number + 1, reason: "'\(field)' is not a number")
                }
                values.append(value)
            }
            if let first = rows.first, first.1.count != values.count {
                throw DataFileError.csv(path: url.path, line: number + 1, reason: "has \(values.count) scores, line 1 has \(first.1.count)")
            }
            rows.append((index, values))
        }
        rows.sort { $0.0 < $1.0 }
        let columns = rows.first?.1.count ?? 0
        return ScoreArray(shape: [rows.count, columns], values: rows.flatMap(\.1))
    }
}
