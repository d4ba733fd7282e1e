import Dispatch
import Foundation
import MedIO
import MedMNISTData

/// `medmnist verify FLAG`: decode and validate every split of a file, optionally check its MD5 and build the cache.
enum VerifyCommand: Subcommand {
    static let name = "verify"
    static let summary = "Decode and validate every split of a set's .npz (MD5 and cache optional)."
    static let help = """
    USAGE: medmnist verify FLAG [--size N] [--split NAME] [--root DIR] [--md5] [--cache MODE]
           medmnist verify --file PATH.npz [--split NAME] [--task TASK]

    Reads the train, val and test arrays (two splits at a time), checks them against the catalog (keys,
    dtypes, shapes, split sizes, label ranges; every member's CRC-32), and prints each split's shape and
    the time taken. With --file, any npz with the six keys is checked as custom data.

    OPTIONS:
      --size N       28 (default), 64, 128 or 224.
      --split NAME   Only this split (train, val or test).
      --root DIR     Folder of the .npz files (default: $MEDMNIST_ROOT or ~/.medmnist).
      --md5          Also check the file's MD5 against the catalog.
      --cache MODE   off (default: decode into memory), automatic (map an existing cache), or
                     readWrite (build the decoded cache in ROOT/.cache and map it).
      --task TASK    With --file: the task (default: inferred from the labels).
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, valued: ["size", "split", "root", "cache", "file", "task"], flagNames: ["md5"])
        let splits = try options.value("split").map { _ in [try DataOptions.split(options, default: .train)] } ?? Split.allCases
        let cacheText = options.value("cache") ?? "off"
        guard let cache = CacheMode(rawValue: cacheText) else {
            throw UsageError("--cache must be off, automatic or readWrite, got '\(cacheText)'")
        }
        let start = DispatchTime.now()
        let results: [Result<MedMNISTSplit, any Error>]
        if let file = options.value("file") {
            guard options.positional.isEmpty else { throw UsageError("--file and a dataset flag exclude each other") }
            var task: MedMNISTTask? = nil
            if let text = options.value("task") {
                guard let parsed = MedMNISTTask(parsing: text) else { throw UsageError("unknown --task '\(text)'") }
                task = parsed
            }
            let url = URL(fileURLWithPath: file), chosen = task
            results = loadConcurrently(splits) { try CustomDataset.load(contentsOf: url, split: $0, task: chosen, cache: cache) }
        } else {
            let info = try DataOptions.dataset(options, positionalAllowed: true)
            let size = try DataOptions.size(options, for: info)
            let root = DataOptions.root(options)
            if options.flag("md5") {
                try root.verify(info.file(size: size))
                print("md5 ok: \(try info.file(size: size).md5)")
            }
            results = loadConcurrently(splits) { try root.load(info, size: size, split: $0, cache: cache) }
        }
        for result in results {
            let split = try result.get()
            print("\(split.split.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) images \(split.images.shape) uint8, labels \(split.labels.shape), \(split.task.rawValue)\(split.isMemoryMapped ? ", memory-mapped" : "")")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        print(String(format: "ok in %.3f s", seconds))
    }

    /// Loads the splits, two at a time.
    static func loadConcurrently(_ splits: [Split], _ load: @Sendable @escaping (Split) throws -> MedMNISTSplit) -> [Result<MedMNISTSplit, any Error>] {
        final class Slots: @unchecked Sendable {
            var values: [Result<MedMNISTSplit, any Error>?]
            init(values: [Result<MedMNISTSplit, any Error>?]) { self.values = values }
        }
        let slots = Slots(values: Array(repeating: nil, count: splits.count))
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: splits.count) { i in
            let result = Result { try load(splits[i]) }
            lock.withLock { slots.values[i] = result }
        }
        return slots.values.map { $0! }
    }
}
