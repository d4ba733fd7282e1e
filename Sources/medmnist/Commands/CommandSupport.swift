import Foundation
import MedMNISTData

/// Shared option handling of the data commands.
enum DataOptions {
    /// `--root DIR`, else `MEDMNIST_ROOT`, else `~/.medmnist`.
    static func root(_ options: Arguments) -> DatasetRoot {
        options.value("root").map { DatasetRoot(path: $0) } ?? DatasetRoot()
    }

    /// `--size N` (default 28), checked against the set's available sizes.
    static func size(_ options: Arguments, for info: DatasetInfo) throws -> Int {
        let size = try options.integer("size", default: 28)
        _ = try info.file(size: size)
        return size
    }

    /// `--split NAME` with a default.
    static func split(_ options: Arguments, default fallback: Split) throws -> Split {
        guard let text = options.value("split") else { return fallback }
        guard let split = Split(parsing: text) else { throw UsageError("--split must be train, val or test, got '\(text)'") }
        return split
    }

    /// `--dataset FLAG` (or a single positional FLAG), resolved in the catalog.
    static func dataset(_ options: Arguments, positionalAllowed: Bool = false) throws -> DatasetInfo {
        if let flag = options.value("dataset") {
            guard options.positional.isEmpty else { throw UsageError("unexpected argument '\(options.positional[0])'") }
            return try MedMNISTCatalog.info(flag)
        }
        if positionalAllowed, options.positional.count == 1 { return try MedMNISTCatalog.info(options.positional[0]) }
        if options.positional.count > 1 { throw UsageError("unexpected argument '\(options.positional[1])'") }
        throw UsageError(positionalAllowed ? "name a dataset, e.g. pathmnist" : "--dataset is required")
    }

    /// A JSON string literal.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// A JSON number (NaN and infinities, which JSON lacks, as null).
    static func jsonNumber(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
}
