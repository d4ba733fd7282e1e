import Dispatch
import Foundation
import MedIO
import MedMNISTData

/// `medmnist verify --dataset FLAG`: decode and validate every split of a file, optionally check its MD5 and
/// build the cache; `--file PATH.npz` checks any npz with the six keys as custom data.
enum VerifyCommand: Command {
    static let specification = CommandSpecification(
        name: "verify", abstract: "Decode and validate every split of a set's .npz (MD5 and cache optional).",
        options: [
            DataOptions.dataset(required: false), DataOptions.size, DataOptions.root,
            Option("split", kind: .choice(Split.allCases.map(\.rawValue)), valueName: "split",
                   help: "Only this split (train, val or test); default: all three."),
            .flag("md5", help: "Also check the file's MD5 against the catalog."),
            Option("cache", kind: .choice(CacheMode.allCases.map(\.rawValue)), default: CacheMode.off.rawValue, valueName: "mode",
                   help: "off (decode into memory), automatic (map an existing cache), or readWrite (build the decoded cache in ROOT/.cache and map it)."),
            Option("file", kind: .path(extensions: ["npz"]), help: "Check this npz as custom data instead of a catalog set."),
            Option("task", kind: .choice(MedMNISTTask.allCases.map(\.rawValue)), valueName: "task",
                   help: "With --file: the task (default: inferred from the labels)."),
        ],
        discussion: """
        Reads the train, val and test arrays (two splits at a time), checks them against the catalog (keys,
        dtypes, shapes, split sizes, label ranges; every member's CRC-32), and prints each split's shape and
        the time taken. With --file, any npz with the six keys is checked as custom data; --dataset, --size,
        --root and --md5 do not apply to it and are rejected.
        """,
        alternativeUsages: ["--file <path.npz> [--split <split>] [--task <task>] [--cache <mode>]"],
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) throws {
        let splits = parsed.string("split").map { [Split(rawValue: $0)!] } ?? Split.allCases
        let cache = CacheMode(rawValue: parsed.string("cache")!)!
        let start = DispatchTime.now()
        let results: [Result<MedMNISTSplit, any Error>]
        if let file = parsed.string("file") {
            try parsed.reject(["dataset", "size", "root", "md5"], "with --file (it checks the file as custom data)")
            let url = URL(fileURLWithPath: file), task = parsed.string("task").flatMap(MedMNISTTask.init(rawValue:))
            results = loadConcurrently(splits) { try CustomDataset.load(contentsOf: url, split: $0, task: task, cache: cache) }
        } else {
            guard parsed.isGiven("dataset") else { throw UsageError("name a set with --dataset <flag>, or a file with --file <path.npz>") }
            try parsed.reject(["task"], "without --file (a catalog set's task is known)")
            let info = try DataOptions.info(parsed)
            let size = try DataOptions.size(parsed, for: info)
            let root = DataOptions.root(parsed)
            if parsed.flag("md5") {
                try root.verify(info.file(size: size))
                console.write("md5 ok: \(try info.file(size: size).md5)")
            }
            results = loadConcurrently(splits) { try root.load(info, size: size, split: $0, cache: cache) }
        }
        for result in results {
            let split = try result.get()
            console.write("\(split.split.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) images \(split.images.shape) uint8, labels \(split.labels.shape), \(split.task.rawValue)\(split.isMemoryMapped ? ", memory-mapped" : "")")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        console.write(String(format: "ok in %.3f s", seconds))
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
