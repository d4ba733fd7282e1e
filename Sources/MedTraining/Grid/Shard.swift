import Foundation

/// Which part of a grid one worker runs: cells `index`, `index + count`, `index + 2·count`, … of the fixed
/// order, so that `count` workers with indices 0…count−1 cover every cell exactly once.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// - Throws: ``ShardError/outOfRange(index:count:source:)`` unless 0 ≤ index < count.
    public init(index: Int, count: Int, source: String = "--shard") throws {
        guard count >= 1, index >= 0, index < count else { throw ShardError.outOfRange(index: index, count: count, source: source) }
        self.index = index
        self.count = count
    }

    /// The whole grid in one worker.
    public static let all = try! Shard(index: 0, count: 1)

    /// This shard's cells of `cells` (in their order).
    public func cells(_ cells: [GridCell]) -> [GridCell] {
        stride(from: index, to: cells.count, by: count).map { cells[$0] }
    }

    public var description: String { "\(index)/\(count)" }

    /// `I/N` as `--shard` takes it.
    public static func parse(_ text: String) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { throw ShardError.malformed(text) }
        return try Shard(index: index, count: count)
    }

    /// The shard a scheduler gave this process, and where it came from (`slurm 17_3`, `kubernetes 3`), or nil
    /// when no scheduler variable is set. `shards` (`--shards N`, else `MEDMNIST_SHARDS`) is the count.
    ///
    /// - **Slurm job array**: `SLURM_ARRAY_TASK_ID` is an index *value*, possibly sparse. Without a count it is
    ///   numbered through the array's `SLURM_ARRAY_TASK_MIN`, `_MAX` and `_COUNT`: a range `A-B:S` maps to 0…COUNT−1,
    ///   and so does an evenly spaced list (`1,3,5`; Slurm reports its step as 1, so the spacing is derived from
    ///   MIN, MAX and COUNT). An irregular list (`2,3,7`) cannot be numbered from the environment and is an error.
    ///   With a count, the task ID *is* the shard index: resubmitting `--array=3,7 --shards 10` reruns shards 3
    ///   and 7 of ten.
    /// - **Kubernetes Indexed Job**: `JOB_COMPLETION_INDEX` is the index; Kubernetes gives no count, so `shards`
    ///   must be set.
    /// - Throws: ``ShardError``.
    public static func fromEnvironment(_ environment: [String: String], shards: Int?) throws -> (shard: Shard, source: String)? {
        let count = try shards ?? environment["MEDMNIST_SHARDS"].map { text -> Int in
            guard let value = Int(text), value >= 1 else { throw ShardError.badVariable(name: "MEDMNIST_SHARDS", value: text) }
            return value
        }
        if let text = environment["SLURM_ARRAY_TASK_ID"] {
            let id = try integer("SLURM_ARRAY_TASK_ID", text)
            let source = "slurm \(environment["SLURM_ARRAY_JOB_ID"] ?? "?")_\(id)"
            if let count { return (try Shard(index: id, count: count, source: "SLURM_ARRAY_TASK_ID with \(count) shards"), source) }
            return (try slurmShard(id: id, environment), source)
        }
        if let text = environment["JOB_COMPLETION_INDEX"] {
            let index = try integer("JOB_COMPLETION_INDEX", text)
            guard let count else { throw ShardError.missingCount(index: index) }
            return (try Shard(index: index, count: count, source: "JOB_COMPLETION_INDEX"), "kubernetes \(index)")
        }
        return nil
    }

    private static func slurmShard(id: Int, _ environment: [String: String]) throws -> Shard {
        func value(_ name: String) throws -> Int {
            guard let text = environment[name] else { throw ShardError.irregularArray(id: id, reason: "\(name) is not set") }
            return try integer(name, text)
        }
        let minimum = try value("SLURM_ARRAY_TASK_MIN"), maximum = try value("SLURM_ARRAY_TASK_MAX")
        let count = try value("SLURM_ARRAY_TASK_COUNT")
        let description = "COUNT \(count), MIN \(minimum), MAX \(maximum)"
        if count == 1 {
            guard id == minimum else { throw ShardError.irregularArray(id: id, reason: description) }
            return try Shard(index: 0, count: 1, source: "SLURM_ARRAY_TASK_ID")
        }
        let span = maximum - minimum
        guard span % (count - 1) == 0, (id - minimum) % (span / (count - 1)) == 0 else {
            throw ShardError.irregularArray(id: id, reason: "\(description): not evenly spaced")
        }
        return try Shard(index: (id - minimum) / (span / (count - 1)), count: count, source: "SLURM_ARRAY_TASK_ID")
    }

    private static func integer(_ name: String, _ text: String) throws -> Int {
        guard let value = Int(text) else { throw ShardError.badVariable(name: name, value: text) }
        return value
    }
}

/// Why a worker cannot tell which shard is its own; nothing has run.
public enum ShardError: Error, Equatable, CustomStringConvertible, Sendable {
    case malformed(String)
    case outOfRange(index: Int, count: Int, source: String)
    case badVariable(name: String, value: String)
    case missingCount(index: Int)
    case irregularArray(id: Int, reason: String)

    public var description: String {
        switch self {
        case .malformed(let text):
            "'\(text)' is not a shard: give I/N with 0 ≤ I < N (e.g. 3/10)"
        case .outOfRange(let index, let count, let source):
            "shard index \(index) from \(source) is outside 0..<\(count)"
        case .badVariable(let name, let value):
            "\(name)='\(value)' is not a valid number"
        case .missingCount(let index):
            "JOB_COMPLETION_INDEX=\(index) but no shard count: Kubernetes does not give one, so set MEDMNIST_SHARDS " +
                "(the Job's completions) or pass --shards N"
        case .irregularArray(let id, let reason):
            "SLURM_ARRAY_TASK_ID=\(id) cannot be numbered from the array's variables (\(reason)): submit a range " +
                "(--array=0-N, with %K to throttle) or an evenly spaced list, or pass --shards N to use task IDs as shard indices"
        }
    }
}
