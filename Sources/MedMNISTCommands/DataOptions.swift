import Foundation
import MedTensor
import MedIO
import MedMNISTData

/// The options every command that reads a set declares the same way: `--dataset FLAG [--size N] [--root DIR]`,
/// and the helpers that resolve them.
enum DataOptions {
    /// `--dataset FLAG`, required unless `required` is false.
    static func dataset(required: Bool = true) -> Option {
        Option("dataset", required: required, valueName: "flag",
               help: "The MedMNIST+ set, by its flag (e.g. pathmnist, breastmnist; 'medmnist info' lists them).")
    }

    /// `--size N`, default 28.
    static let size = Option("size", kind: .positiveInteger, default: "28",
                             help: "Image size: 28, 64, 128 or 224 (3D sets: 28 or 64).")

    /// `--root DIR`.
    static let root = Option("root", kind: .path(extensions: []), valueName: "dir",
                             help: "Folder of the .npz files (default: $MEDMNIST_ROOT or ~/.medmnist).")

    /// `--split NAME` with a default.
    static func split(default fallback: Split) -> Option {
        Option("split", kind: .choice(Split.allCases.map(\.rawValue)), default: fallback.rawValue, valueName: "split",
               help: "The split: train, val or test.")
    }

    /// `--seed S`, default 0: never negative.
    static func seed(_ help: String) -> Option {
        Option("seed", kind: .nonNegativeInteger, default: "0", valueName: "seed", help: help)
    }

    /// `--precision fp32|bf16`: the matrix products of an inference pass.
    static let precision = Option("precision", kind: .choice(["fp32", "bf16"]), default: "fp32", valueName: "p",
                                  help: "fp32 (exact, the default) or bf16: matrix products with bfloat16 inputs and Float32 sums, about 1.5× faster for the transformers on CPUs with AVX512-BF16; outputs move by ~1e-2 relative (Documentation/Performance.md). Inference only.")

    /// The precision `--precision` asks for; fails (status 1) when this CPU cannot run BF16.
    static func precision(_ parsed: ParsedArguments) throws -> Precision {
        guard parsed.string("precision") == "bf16" else { return .float32 }
        guard GEMM.bfloat16Supported else {
            throw CommandFailure("--precision bf16 needs a CPU with AVX512-BF16 (AMD Zen 4 and later, Intel Cooper Lake and Sapphire Rapids and later); this one has none (see 'medmnist system')")
        }
        return .bfloat16
    }

    /// The root: `--root DIR`, else `MEDMNIST_ROOT`, else `~/.medmnist`.
    static func root(_ parsed: ParsedArguments) -> DatasetRoot {
        parsed.string("root").map { DatasetRoot(path: $0) } ?? DatasetRoot()
    }

    /// The set named by `--dataset` (or another option), from the catalog; an unknown flag is a usage error with
    /// a suggestion.
    static func info(_ parsed: ParsedArguments, option: String = "dataset") throws -> DatasetInfo {
        guard let flag = parsed.string(option) else { throw UsageError("missing required option --\(option) <flag>") }
        do {
            return try MedMNISTCatalog.info(flag)
        } catch let error as CatalogError {
            throw UsageError("--\(option): \(error)")
        }
    }

    /// `--size`, checked against the set's available sizes (a usage error otherwise).
    static func size(_ parsed: ParsedArguments, for info: DatasetInfo) throws -> Int {
        let size = parsed.integer("size")!
        do {
            _ = try info.file(size: size)
        } catch let error as CatalogError {
            throw UsageError("--size: \(error)")
        }
        return size
    }

    /// `--split`, already checked by the parser.
    static func split(_ parsed: ParsedArguments) -> Split { Split(rawValue: parsed.string("split")!)! }

    /// A JSON string literal.
    static func jsonString(_ text: String) -> String { JSONText.quoted(text) }

    /// A JSON number (NaN and infinities, which JSON lacks, as null).
    static func jsonNumber(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
}
