import Foundation

/// One subcommand of the `medmnist` tool.
protocol Subcommand {
    static var name: String { get }
    /// One line for the command list.
    static var summary: String { get }
    /// Full help: usage line and options.
    static var help: String { get }
    /// Runs with the arguments after the subcommand's name. Async so that commands can await the library's
    /// async APIs (downloads); synchronous commands satisfy it as they are.
    static func run(_ arguments: [String]) async throws
}

/// A mistake in how the tool was called: printed with the command's help, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Parses `--name value`, `--name=value` and `--flag` options and positional arguments.
struct Arguments {
    private(set) var positional: [String] = []
    private var options: [String: String] = [:]
    private var flags: Set<String> = []

    /// `valued` names the options that take a value; every other `--name` is a flag from `flagNames`.
    init(_ arguments: [String], valued: Set<String>, flagNames: Set<String> = []) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else { positional.append(argument); continue }
            var name = String(argument.dropFirst(2))
            var value: String? = nil
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if valued.contains(name) {
                if value == nil {
                    guard index < arguments.count else { throw UsageError("option --\(name) needs a value") }
                    value = arguments[index]
                    index += 1
                }
                options[name] = value
            } else if flagNames.contains(name), value == nil {
                flags.insert(name)
            } else {
                throw UsageError("unknown option --\(name)")
            }
        }
    }

    func value(_ name: String) -> String? { options[name] }
    func flag(_ name: String) -> Bool { flags.contains(name) }

    func integer(_ name: String, default fallback: Int) throws -> Int {
        guard let text = options[name] else { return fallback }
        guard let value = Int(text) else { throw UsageError("--\(name) expects an integer, got '\(text)'") }
        return value
    }
}

/// Writes to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
