/// What an option's or a positional argument's text must be; checked while parsing, so that a command's
/// `run` only ever sees values of the declared kind.
public enum ValueKind: Sendable, Equatable {
    /// No value: present or absent (`--force`).
    case flag
    /// Any text.
    case string
    /// A whole number (`Int`).
    case integer
    /// A whole number ≥ 0 (seeds, counts that may be zero).
    case nonNegativeInteger
    /// A whole number ≥ 1 (sizes, batch sizes).
    case positiveInteger
    /// A floating-point number.
    case double
    /// A file path; when `extensions` is not empty its extension must be one of them, compared
    /// case-insensitively (`["npy", "csv"]`, without dots).
    case path(extensions: [String])
    /// One of a fixed list of words (exact match).
    case choice([String])

    /// Whether the kind takes a value.
    public var takesValue: Bool { self != .flag }

    /// The placeholder shown in help when the declaration names none.
    var defaultPlaceholder: String {
        switch self {
        case .flag: ""
        case .string: "value"
        case .integer, .nonNegativeInteger, .positiveInteger: "n"
        case .double: "x"
        case .path(let extensions): extensions.count == 1 ? "file.\(extensions[0])" : "path"
        case .choice(let words): words.joined(separator: "|")
        }
    }

    /// Checks `text` against the kind; `label` (`--seed`, `<file>`) names it in the message.
    func validate(_ text: String, label: String) throws(UsageError) {
        switch self {
        case .flag, .string:
            return
        case .integer, .nonNegativeInteger, .positiveInteger:
            guard let value = Int(text) else { throw UsageError("\(label) expects an integer, got '\(text)'") }
            if self == .nonNegativeInteger, value < 0 { throw UsageError("\(label) must not be negative, got \(value)") }
            if self == .positiveInteger, value < 1 { throw UsageError("\(label) must be positive, got \(value)") }
        case .double:
            guard Double(text) != nil else { throw UsageError("\(label) expects a number, got '\(text)'") }
        case .path(let extensions):
            guard !text.isEmpty else { throw UsageError("\(label) expects a path, got an empty string") }
            guard !extensions.isEmpty else { return }
            let lowered = text.lowercased()
            guard extensions.contains(where: { lowered.hasSuffix("." + $0.lowercased()) }) else {
                let list = extensions.map { "." + $0 }
                let wanted = list.count == 1 ? list[0] : list.dropLast().joined(separator: ", ") + " or " + list.last!
                throw UsageError("\(label) must name a \(wanted) file, got '\(text)'")
            }
        case .choice(let words):
            guard words.contains(text) else {
                throw UsageError("\(label) must be one of \(words.joined(separator: ", ")), got '\(text)'",
                                 suggestion: nearestSuggestion(for: text, among: words))
            }
        }
    }
}

/// One `--name` option of a command, declared once: parsing, validation and help come from it.
public struct Option: Sendable {
    /// The long name without dashes (`"seed"` for `--seed`).
    public var name: String
    /// An optional one-letter name (`"o"` for `-o`).
    public var short: Character?
    /// What its value must be.
    public var kind: ValueKind
    /// The value used when the option is absent, as it would be typed; shown in help.
    public var defaultValue: String?
    /// Whether the command cannot run without it; marked `(required)` in help.
    public var isRequired: Bool
    /// Whether it may be given more than once (all values are kept, in order); otherwise a repeat is an error.
    public var isRepeatable: Bool
    /// One or two sentences for the help.
    public var help: String
    /// The placeholder of the value in help (`"flag"` shows `--dataset <flag>`); derived from `kind` when nil.
    public var valueName: String?

    /// Declares an option; see the properties for each parameter.
    public init(_ name: String, short: Character? = nil, kind: ValueKind = .string, default defaultValue: String? = nil,
                required isRequired: Bool = false, repeatable isRepeatable: Bool = false, valueName: String? = nil,
                help: String) {
        self.name = name
        self.short = short
        self.kind = kind
        self.defaultValue = defaultValue
        self.isRequired = isRequired
        self.isRepeatable = isRepeatable
        self.help = help
        self.valueName = valueName
    }

    /// A flag (`--force`): no value, never required.
    public static func flag(_ name: String, short: Character? = nil, help: String) -> Option {
        Option(name, short: short, kind: .flag, help: help)
    }

    /// `--name <value>` (or just `--name` for a flag), as help and usage show it.
    var synopsis: String {
        kind.takesValue ? "--\(name) <\(valueName ?? kind.defaultPlaceholder)>" : "--\(name)"
    }
}

/// An argument identified by its position rather than a name (`medmnist inspect FILE...`).
public struct Positional: Sendable {
    /// The name shown in help (`"file"` shows `<file>`) and used to read it from ``ParsedArguments``.
    public var name: String
    /// What its text must be (never ``ValueKind/flag``).
    public var kind: ValueKind
    /// Whether it must be given.
    public var isRequired: Bool
    /// Whether it takes every remaining argument (only the last positional may).
    public var isRepeatable: Bool
    /// One or two sentences for the help.
    public var help: String

    /// Declares a positional argument; see the properties for each parameter.
    public init(_ name: String, kind: ValueKind = .string, required isRequired: Bool = true,
                repeatable isRepeatable: Bool = false, help: String) {
        precondition(kind != .flag, "a positional argument takes a value")
        self.name = name
        self.kind = kind
        self.isRequired = isRequired
        self.isRepeatable = isRepeatable
        self.help = help
    }

    var synopsis: String {
        let core = "<\(name)>" + (isRepeatable ? "..." : "")
        return isRequired ? core : "[\(core)]"
    }
}

/// Everything a command accepts, declared once: ``parse(_:)`` and ``help`` both come from it.
///
/// ```swift
/// let spec = CommandSpecification(
///     name: "montage", abstract: "Write a grid of samples as a PNG.",
///     options: [Option("output", kind: .path(extensions: ["png"]), required: true, help: "The PNG to write."),
///               Option("seed", kind: .nonNegativeInteger, default: "0", help: "Seed of the selection.")])
/// let parsed = try spec.parse(["--output", "a.png", "--seed=3"])
/// parsed.integer("seed")   // 3
/// ```
public struct CommandSpecification: Sendable {
    /// The command's name as typed (`"montage"`); help prefixes it with ``commandPath``.
    public var name: String
    /// One line for command lists and the top of the help.
    public var abstract: String
    /// The options, in help order.
    public var options: [Option]
    /// The positional arguments, in order.
    public var positionals: [Positional]
    /// Paragraphs shown after the usage line.
    public var discussion: String
    /// Extra usage lines for alternative forms (`"--file <path.npz> [--split <name>]"`), after the derived one.
    public var alternativeUsages: [String]
    /// What precedes the name in usage lines (`"medmnist"`), empty for a stand-alone tool.
    public var commandPath: String

    /// Declares a command; see the properties for each parameter. Option names must be unique and not `help`.
    public init(name: String, abstract: String, options: [Option] = [], positionals: [Positional] = [],
                discussion: String = "", alternativeUsages: [String] = [], commandPath: String = "") {
        precondition(Set(options.map(\.name)).count == options.count, "\(name): an option is declared twice")
        precondition(!options.contains { $0.name == "help" || $0.short == "h" }, "\(name): --help/-h are built in")
        precondition(positionals.dropLast().allSatisfy { !$0.isRepeatable }, "\(name): only the last positional repeats")
        self.name = name
        self.abstract = abstract
        self.options = options
        self.positionals = positionals
        self.discussion = discussion
        self.alternativeUsages = alternativeUsages
        self.commandPath = commandPath
    }

    /// `medmnist montage` (or just the name without a command path).
    public var fullName: String { commandPath.isEmpty ? name : "\(commandPath) \(name)" }

    /// The option called `name`, if declared.
    public func option(named name: String) -> Option? { options.first { $0.name == name } }

    /// The usage line derived from the declaration: required options first, then optional ones in brackets,
    /// then the positionals.
    public var usage: String {
        var parts = [fullName]
        parts += options.filter(\.isRequired).map(\.synopsis)
        parts += options.filter { !$0.isRequired }.map { "[\($0.synopsis)]" }
        parts += positionals.map(\.synopsis)
        return parts.joined(separator: " ")
    }
}
