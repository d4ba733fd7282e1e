import Foundation
import MedIO
import MedTensor

/// How strictly ``Module/loadStateDict(_:options:)`` matches a checkpoint to a model.
public struct LoadOptions: Sendable {
    /// When false, missing and unexpected keys are reported but not errors (shape mismatches still are).
    public var strict = true
    /// Key patterns that may be absent from the checkpoint (`*` matches any run of characters). By default
    /// `*.num_batches_tracked`, which checkpoints from older PyTorch versions lack.
    public var allowedMissing: [String] = ["*.num_batches_tracked", "num_batches_tracked"]
    /// Key prefixes of a classifier being replaced (the paper swaps the ImageNet head for one with the
    /// dataset's class count): under them, keys whose shape differs, or that are absent or unexpected,
    /// keep the model's own fresh initialisation instead of failing.
    public var reinitializedPrefixes: [String] = []

    public init(strict: Bool = true, allowedMissing: [String]? = nil, reinitializedPrefixes: [String] = []) {
        self.strict = strict
        if let allowedMissing { self.allowedMissing = allowedMissing }
        self.reinitializedPrefixes = reinitializedPrefixes
    }

    public static let strict = LoadOptions()

    func isAllowedMissing(_ key: String) -> Bool {
        allowedMissing.contains { globMatches($0, key) } || isReinitialized(key)
    }

    func isReinitialized(_ key: String) -> Bool {
        reinitializedPrefixes.contains { key == $0 || key.hasPrefix($0 + ".") }
    }
}

/// What a load did.
public struct LoadReport: Sendable, Equatable {
    /// Keys the model has that the checkpoint lacks (allowed ones only, or all when not strict).
    public var missing: [String] = []
    /// Keys in the checkpoint that the model does not have (when not strict, or under a reinitialised prefix).
    public var unexpected: [String] = []
    /// Keys left with the model's initialisation because of a reinitialised prefix.
    public var reinitialized: [String] = []
    /// Number of tensors copied into the model.
    public var loaded = 0
}

/// A checkpoint that does not fit the model. Lists every problem at once, each with the nearest key.
public struct StateDictMismatch: Error, CustomStringConvertible, Sendable {
    public struct Problem: Sendable, Equatable {
        public enum Kind: String, Sendable { case missing, unexpected, shapeMismatch = "shape mismatch", wrongType = "wrong dtype" }
        public let kind: Kind
        public let key: String
        public let detail: String
    }

    public let problems: [Problem]
    /// Where the checkpoint came from, when it was a file.
    public var source: String?

    public var description: String {
        let header = "the checkpoint\(source.map { " \($0)" } ?? "") does not match the model (\(problems.count) problem\(problems.count == 1 ? "" : "s")):"
        return ([header] + problems.map { "  \($0.kind.rawValue): '\($0.key)'\($0.detail.isEmpty ? "" : " — \($0.detail)")" })
            .joined(separator: "\n")
    }
}

extension Module {
    /// Every tensor that a checkpoint of this model holds, with PyTorch's keys and dtypes, in PyTorch's
    /// order: per module, parameters, then buffers (Float32; `num_batches_tracked` as Int64), then children.
    public func stateDict() -> [(key: String, array: TypedArray)] {
        var entries: [(String, TypedArray)] = []
        for (path, module) in namedModules() {
            let prefix = path.isEmpty ? "" : path + "."
            let direct = module.namedDirectParameters
            for (key, parameter) in direct where !parameter.isBuffer {
                entries.append((prefix + key, TypedArray(floats: parameter.value.scalars, shape: parameter.shape)))
            }
            for (key, parameter) in direct where parameter.isBuffer {
                entries.append((prefix + key, TypedArray(floats: parameter.value.scalars, shape: parameter.shape)))
            }
            for (key, buffer) in module.namedDirectIntegerBuffers {
                entries.append((prefix + key, TypedArray(int64s: buffer.values, shape: buffer.shape)))
            }
        }
        return entries
    }

    /// Writes ``stateDict()`` as safetensors (to a temporary name, then renamed).
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensorsFile(stateDict().map { ($0.key, $0.array) }, metadata: metadata).write(to: url)
    }

    /// Copies a checkpoint's tensors into this model by key. F16, BF16 and F64 tensors convert to Float32.
    /// Strict by default: one ``StateDictMismatch`` lists every missing, unexpected and mis-shaped key.
    @discardableResult
    public func loadStateDict(_ entries: [(key: String, array: TypedArray)], options: LoadOptions = .strict) throws -> LoadReport {
        let parameters = namedParameters()
        let integerBuffers = namedIntegerBuffers()
        let modelKeys = parameters.map(\.key) + integerBuffers.map(\.key)
        var checkpoint: [String: TypedArray] = [:]
        for (key, array) in entries { checkpoint[key] = array }

        var problems: [StateDictMismatch.Problem] = []
        var report = LoadReport()
        var assignments: [() -> Void] = []

        for (key, parameter) in parameters {
            guard let array = checkpoint[key] else {
                if options.isAllowedMissing(key) { report.missing.append(key); if options.isReinitialized(key) { report.reinitialized.append(key) } }
                else if !options.strict { report.missing.append(key) }
                else { problems.append(.init(kind: .missing, key: key, detail: "")) }
                continue
            }
            guard array.shape == parameter.shape else {
                if options.isReinitialized(key) { report.reinitialized.append(key); continue }
                problems.append(.init(kind: .shapeMismatch, key: key, detail: "model \(parameter.shape), checkpoint \(array.shape)"))
                continue
            }
            guard array.dtype.isFloatingPoint else {
                problems.append(.init(kind: .wrongType, key: key, detail: "expected a floating-point tensor, found \(array.dtype.rawValue)"))
                continue
            }
            assignments.append { parameter.assign(Tensor(shape: array.shape, scalars: array.floats())) }
        }
        for (key, buffer) in integerBuffers {
            guard let array = checkpoint[key] else {
                if options.isAllowedMissing(key) || !options.strict { report.missing.append(key) }
                else { problems.append(.init(kind: .missing, key: key, detail: "")) }
                continue
            }
            guard array.shape == buffer.shape, let values = try? array.int64s() else {
                problems.append(.init(kind: array.shape == buffer.shape ? .wrongType : .shapeMismatch, key: key,
                                      detail: "expected an integer tensor of shape \(buffer.shape), found \(array.dtype.rawValue) \(array.shape)"))
                continue
            }
            assignments.append { buffer.values = values }
        }
        let known = Set(modelKeys)
        for (key, _) in entries where !known.contains(key) {
            if options.isReinitialized(key) || !options.strict { report.unexpected.append(key) }
            else { problems.append(.init(kind: .unexpected, key: key, detail: "")) }
        }
        problems = withSuggestions(problems, modelKeys: modelKeys, checkpointKeys: entries.map(\.key))
        if !problems.isEmpty { throw StateDictMismatch(problems: problems) }
        // Nothing is written until the whole checkpoint is known to fit.
        for assign in assignments { assign() }
        report.loaded = assignments.count
        for (_, module) in namedModules() { module.parametersDidLoad() }
        return report
    }

    /// Loads a checkpoint file — safetensors, or a PyTorch `.pth`/`.bin` state dict (zip or legacy format,
    /// read by a restricted unpickler), told apart by content as ``CheckpointFile/read(contentsOf:)`` does;
    /// see ``loadStateDict(_:options:)``.
    @discardableResult
    public func load(contentsOf url: URL, options: LoadOptions = .strict) throws -> LoadReport {
        let entries = try CheckpointFile.read(contentsOf: url)
        do {
            return try loadStateDict(entries, options: options)
        } catch var mismatch as StateDictMismatch {
            mismatch.source = url.path
            throw mismatch
        }
    }
}

/// Adds "did you mean" to missing and unexpected keys. A missing key is most likely misspelt as one of the
/// unexpected keys (and the other way round), so those are searched first, then every key of the other side.
private func withSuggestions(_ problems: [StateDictMismatch.Problem], modelKeys: [String], checkpointKeys: [String]) -> [StateDictMismatch.Problem] {
    let missing = problems.filter { $0.kind == .missing }.map(\.key)
    let unexpected = problems.filter { $0.kind == .unexpected }.map(\.key)
    return problems.map { problem in
        switch problem.kind {
        case .missing:
            let hint = nearestKey(to: problem.key, among: unexpected, within: 3) ?? nearestKey(to: problem.key, among: checkpointKeys)
            return .init(kind: .missing, key: problem.key, detail: hint.map { "did you mean '\($0)'?" } ?? "")
        case .unexpected:
            let hint = nearestKey(to: problem.key, among: missing, within: 3) ?? nearestKey(to: problem.key, among: modelKeys)
            return .init(kind: .unexpected, key: problem.key, detail: hint.map { "did you mean '\($0)'?" } ?? "")
        default:
            return problem
        }
    }
}

/// The candidate closest to `key` by edit distance, if within `within` edits (default: half the key's length,
/// at least 3).
func nearestKey(to key: String, among candidates: [String], within limit: Int? = nil) -> String? {
    let target = Array(key.utf8)
    var best: (String, Int)? = nil
    for candidate in candidates {
        let distance = editDistance(target, Array(candidate.utf8))
        if best == nil || distance < best!.1 { best = (candidate, distance) }
    }
    guard let (name, distance) = best, distance <= (limit ?? max(3, key.count / 2)) else { return nil }
    return name
}

private func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// Shell-style match with `*` only.
func globMatches(_ pattern: String, _ text: String) -> Bool {
    let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
    if parts.count == 1 { return pattern == text }
    guard text.hasPrefix(parts[0]) else { return false }
    var rest = text.dropFirst(parts[0].count)
    for part in parts.dropFirst().dropLast() {
        guard let range = rest.range(of: part) else { return false }
        rest = rest[range.upperBound...]
    }
    return rest.hasSuffix(parts.last!) && rest.count >= parts.last!.count
}
