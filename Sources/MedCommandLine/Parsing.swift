/// A mistake in how a command was called: reported with exit status ``ExitCode/usage`` (64).
public struct UsageError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What is wrong, without the command's name (`"unknown option --sed"`).
    public var message: String
    /// A close match for a misspelt name or word (`"--seed"`), shown as "did you mean".
    public var suggestion: String?

    /// A usage error with an optional suggestion.
    public init(_ message: String, suggestion: String? = nil) {
        self.message = message
        self.suggestion = suggestion
    }

    /// The message, with "; did you mean X?" when there is a suggestion.
    public var description: String { message + (suggestion.map { "; did you mean \($0)?" } ?? "") }
}

/// The exit status of a command, as swift-argument-parser uses them.
public enum ExitCode: Int32, Sendable, Equatable {
    /// It did what was asked.
    case success = 0
    /// It was called correctly but failed while running (a missing or malformed file, a network error).
    case failure = 1
    /// It was called wrongly (EX_USAGE): an unknown option, a missing required one, a malformed value.
    case usage = 64
}

/// The result of ``CommandSpecification/parse(_:)``: every value already checked against its declared kind,
/// with typed accessors that fall back to the declared default.
public struct ParsedArguments: Sendable {
    /// The declaration the arguments were parsed against.
    public let specification: CommandSpecification
    /// True when `--help` or `-h` stood where an option could; nothing else was validated then.
    public let helpRequested: Bool
    private let given: [String: [String]]
    private let positionalValues: [String: [String]]

    init(specification: CommandSpecification, helpRequested: Bool, given: [String: [String]], positionals: [String: [String]]) {
        self.specification = specification
        self.helpRequested = helpRequested
        self.given = given
        self.positionalValues = positionals
    }

    /// Whether the user gave option `name` (a default does not count).
    public func isGiven(_ name: String) -> Bool { given[name] != nil }

    /// The names of the options the user gave, in declaration order.
    public var givenOptions: [String] { specification.options.map(\.name).filter { given[$0] != nil } }

    /// The last value of option `name`, else its declared default, else nil.
    public func string(_ name: String) -> String? {
        let option = declared(name)
        return given[name]?.last ?? option.defaultValue
    }

    /// Every value of a repeatable option, in the order given (the default alone when absent).
    public func strings(_ name: String) -> [String] {
        let option = declared(name)
        return given[name] ?? option.defaultValue.map { [$0] } ?? []
    }

    /// Whether flag `name` was given.
    public func flag(_ name: String) -> Bool {
        precondition(declared(name).kind == .flag, "--\(name) is not a flag")
        return given[name] != nil
    }

    /// Option `name` as an integer (validated while parsing), else its default, else nil.
    public func integer(_ name: String) -> Int? { string(name).flatMap { Int($0) } }

    /// Option `name` as a floating-point number, else its default, else nil.
    public func double(_ name: String) -> Double? { string(name).flatMap { Double($0) } }

    /// The value(s) of positional argument `name` (several for a repeatable one; empty when absent).
    public func positional(_ name: String) -> [String] {
        precondition(specification.positionals.contains { $0.name == name }, "<\(name)> is not declared")
        return positionalValues[name] ?? []
    }

    /// Throws a usage error naming the first of `names` that was given: for options another option makes
    /// meaningless (`verify --file` with `--size`). `reason` completes "--size cannot be used …".
    public func reject(_ names: [String], _ reason: String) throws(UsageError) {
        if let name = names.first(where: isGiven) { throw UsageError("--\(name) cannot be used \(reason)") }
    }

    private func declared(_ name: String) -> Option {
        guard let option = specification.option(named: name) else { preconditionFailure("--\(name) is not declared") }
        return option
    }
}

extension CommandSpecification {
    /// Parses `arguments` (those after the command's name).
    ///
    /// Rules, as swift-argument-parser: `--name value` and `--name=value`; a short `-n value`; `--` ends the
    /// options (everything after it is positional); an option given twice is an error unless declared
    /// repeatable; an unknown option is an error suggesting the nearest declared one. `--help`/`-h` in an
    /// option's place sets ``ParsedArguments/helpRequested`` and stops parsing (nothing is validated); as the
    /// value of an option it is just that value. Then every required option and positional must be present.
    /// - Throws: ``UsageError``.
    public func parse(_ arguments: [String]) throws(UsageError) -> ParsedArguments {
        var given: [String: [String]] = [:]
        var loose: [String] = []
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !looksLikeOption(argument) {
                loose.append(argument)
                continue
            }
            if argument == "--" { optionsEnded = true; continue }
            if argument == "--help" || argument == "-h" {
                return ParsedArguments(specification: self, helpRequested: true, given: [:], positionals: [:])
            }
            // Split `--name=value`; a short option is `-x` (value in the next argument).
            var name: String
            var inlineValue: String? = nil
            let option: Option
            if argument.hasPrefix("--") {
                name = String(argument.dropFirst(2))
                if let equals = name.firstIndex(of: "=") {
                    inlineValue = String(name[name.index(after: equals)...])
                    name = String(name[..<equals])
                }
                if name == "help" { throw UsageError("--help takes no value") }
                guard let found = self.option(named: name) else {
                    throw UsageError("unknown option --\(name)",
                                     suggestion: nearestSuggestion(for: name, among: options.map(\.name)).map { "--" + $0 })
                }
                option = found
            } else {
                let letter = argument.dropFirst()
                guard letter.count == 1, let found = options.first(where: { $0.short == letter.first }) else {
                    let suggestion = nearestSuggestion(for: String(letter), among: options.map(\.name)).map { "--" + $0 }
                    throw UsageError("unknown option \(argument)", suggestion: suggestion)
                }
                option = found
                name = found.name
            }
            let value: String
            if option.kind.takesValue {
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard index < arguments.count else { throw UsageError("--\(name) needs a value (\(option.synopsis))") }
                    value = arguments[index]
                    index += 1
                }
                try option.kind.validate(value, label: "--\(name)")
            } else {
                guard inlineValue == nil else { throw UsageError("--\(name) is a flag and takes no value") }
                value = ""
            }
            if given[name] != nil, !option.isRepeatable { throw UsageError("--\(name) was given more than once") }
            given[name, default: []].append(value)
        }
        for option in options where option.isRequired && given[option.name] == nil {
            throw UsageError("missing required option \(option.synopsis)")
        }
        var positionals: [String: [String]] = [:]
        var remaining = loose[...]
        for positional in self.positionals {
            let taken = positional.isRepeatable ? Array(remaining) : Array(remaining.prefix(1))
            remaining = remaining.dropFirst(taken.count)
            if taken.isEmpty {
                if positional.isRequired { throw UsageError("missing required argument <\(positional.name)>") }
                continue
            }
            for text in taken { try positional.kind.validate(text, label: "<\(positional.name)>") }
            positionals[positional.name] = taken
        }
        if let extra = remaining.first { throw UsageError("unexpected argument '\(extra)'") }
        return ParsedArguments(specification: self, helpRequested: false, given: given, positionals: positionals)
    }

    /// `--x`, `-x`, `--` — but not `-` (standard input, by convention) nor a negative number (`-3`).
    private func looksLikeOption(_ argument: String) -> Bool {
        guard argument.hasPrefix("-"), argument.count > 1 else { return false }
        if !argument.hasPrefix("--"), Double(argument) != nil { return false }
        return true
    }
}

/// The candidate closest to `text` by edit distance (Levenshtein), when it is close enough to be a likely
/// misspelling (at most a third of the longer word, and at least one character kept); nil otherwise.
public func nearestSuggestion(for text: String, among candidates: [String]) -> String? {
    var best: (candidate: String, distance: Int)? = nil
    for candidate in candidates {
        let distance = editDistance(text, candidate)
        if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
    }
    guard let best else { return nil }
    let limit = max(1, max(text.count, best.candidate.count) / 3)
    // A prefix ("--num" for "--num-classes") is a likely intent too.
    if best.distance <= limit { return best.candidate }
    if text.count >= 2, let prefixed = candidates.first(where: { $0.hasPrefix(text) }) { return prefixed }
    return nil
}

/// Edit distance between two strings, by characters: insertions, deletions, substitutions and swaps of two
/// neighbouring characters each cost one (optimal string alignment), so "tset" is one edit from "test".
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { table[i][0] = i }
    for j in 0...b.count { table[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            var cost = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { cost = min(cost, table[i - 2][j - 2] + 1) }
            table[i][j] = cost
        }
    }
    return table[a.count][b.count]
}
