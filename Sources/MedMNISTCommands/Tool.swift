import MedTraining
import Foundation
@_exported import MedCommandLine

/// One subcommand of the `medmnist` tool: a declaration and what it does. To add a command, declare a type
/// conforming to this protocol and append it to ``MedMNISTTool/commands``; parsing, validation, `--help` and
/// exit statuses then come from ``specification``.
///
/// ```swift
/// enum HelloCommand: Command {
///     static let specification = CommandSpecification(
///         name: "hello", abstract: "Greet.", options: [Option("name", default: "world", help: "Who to greet.")])
///     static func run(_ parsed: ParsedArguments, console: any Console) async throws {
///         console.write("hello, \(parsed.string("name")!)")
///     }
/// }
/// ```
public protocol Command {
    /// Every option and argument the command takes, declared once.
    static var specification: CommandSpecification { get }
    /// Runs with arguments already parsed and checked against ``specification``. Throw ``UsageError`` for a
    /// wrong call found only now (exit 64), anything else for a failure while running (exit 1).
    static func run(_ parsed: ParsedArguments, console: any Console) async throws
}

/// The `medmnist` command-line tool, as a library: `Sources/medmnist/main.swift` only calls ``main()``,
/// and tests call ``run(_:console:)`` in-process.
public enum MedMNISTTool {
    /// The tool's version.
    public static let version = MedMNISTLibrary.version

    /// Every command, in the order `medmnist --help` lists them.
    public static var commands: [any Command.Type] {[
        TrainCommand.self, KNNCommand.self, FeaturesCommand.self, InfoCommand.self, DownloadCommand.self, VerifyCommand.self, MontageCommand.self, EvaluateCommand.self,
        InspectCommand.self, PredictCommand.self, SyntheticCommand.self, GridCommand.self, ReportCommand.self, SystemCommand.self,
    ]}

    /// The command called `name`.
    public static func command(named name: String) -> (any Command.Type)? {
        commands.first { $0.specification.name == name }
    }

    /// The top-level help: the commands, and the exit statuses.
    public static var help: String {
        let names = commands.map { $0.specification.name }
        let width = names.map(\.count).max() ?? 0
        let list = commands.map {
            "  \($0.specification.name.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.specification.abstract)"
        }
        return """
        OVERVIEW: medmnist \(version): prototype medical image classifiers on MedMNIST+ (swift-medmnist)

        USAGE: medmnist <command> [options]
               medmnist <command> --help

        COMMANDS:
        \(list.joined(separator: "\n"))

        Commands that read a dataset name it as --dataset FLAG [--size N] [--root DIR].

        OPTIONS:
          -h, --help   Show this help.
          --version    Show the version.

        EXIT STATUS:
          0   success
          1   failure while running (a missing or malformed file, a failed check, a network error)
          64  usage error (unknown command or option, missing or malformed value)
        """
    }

    /// Runs the tool with `arguments` (without the program name), writing to `console`; returns the exit status.
    public static func run(_ arguments: [String], console: some Console) async -> ExitCode {
        guard let first = arguments.first else {
            console.write(help)
            return .success
        }
        switch first {
        case "--help", "-h", "help":
            if arguments.count == 2, first == "help", let command = command(named: arguments[1]) {
                console.write(command.specification.help)
                return .success
            }
            console.write(help)
            return .success
        case "--version":
            console.write("medmnist \(version)")
            return .success
        default:
            break
        }
        guard let command = command(named: first) else {
            let error = UsageError("unknown command '\(first)'",
                                   suggestion: nearestSuggestion(for: first, among: commands.map { $0.specification.name }))
            console.writeError("medmnist: \(error)")
            console.writeError("Run 'medmnist --help' for the list of commands.")
            return .usage
        }
        let specification = command.specification
        let parsed: ParsedArguments
        do {
            parsed = try specification.parse(Array(arguments.dropFirst()))
        } catch {
            return usage(error, specification, console)
        }
        if parsed.helpRequested {
            console.write(specification.help)
            return .success
        }
        do {
            try await command.run(parsed, console: console)
            return .success
        } catch let error as UsageError {
            return usage(error, specification, console)
        } catch {
            console.writeError("medmnist \(specification.name): \(error)")
            return .failure
        }
    }

    /// Runs the tool on the process's arguments and exits with its status.
    public static func main() async -> Never {
        // A write past RLIMIT_FSIZE (a full quota) must fail with EFBIG and a message, not kill the process.
        signal(SIGXFSZ, SIG_IGN)
        let status = await run(Array(CommandLine.arguments.dropFirst()), console: StandardConsole())
        exit(status.rawValue)
    }

    private static func usage(_ error: UsageError, _ specification: CommandSpecification, _ console: some Console) -> ExitCode {
        console.writeError("medmnist \(specification.name): \(error)")
        console.writeError("USAGE: \(specification.usage)")
        console.writeError("Run 'medmnist \(specification.name) --help' for every option.")
        return .usage
    }
}
