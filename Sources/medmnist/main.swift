import Foundation
import MedTensor

/// The `medmnist` command-line tool: a thin layer over the swift-medmnist library.
let version = "0.1.0"

let subcommands: [any Subcommand.Type] = [
    SystemCommand.self, InfoCommand.self, DownloadCommand.self, EvaluateCommand.self, MontageCommand.self, VerifyCommand.self,
    PredictCommand.self, InspectCommand.self,
]

@MainActor func topLevelHelp() -> String {
    let width = subcommands.map { $0.name.count }.max() ?? 0
    let list = subcommands.map { "  \($0.name.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.summary)" }
    return """
    medmnist \(version): prototype medical image classifiers on MedMNIST+ (swift-medmnist)

    USAGE: medmnist <command> [options]
           medmnist <command> --help

    COMMANDS:
    \(list.joined(separator: "\n"))

    OPTIONS:
      --help       Show this help.
      --version    Show the version.
    """
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let first = arguments.first else {
    print(topLevelHelp())
    exit(0)
}
switch first {
case "--help", "-h", "help":
    print(topLevelHelp())
    exit(0)
case "--version":
    print("medmnist \(version)")
    exit(0)
default:
    guard let command = subcommands.first(where: { $0.name == first }) else {
        printError("medmnist: unknown command '\(first)'. Run 'medmnist --help' for the list.")
        exit(2)
    }
    let rest = Array(arguments.dropFirst())
    if rest.contains("--help") || rest.contains("-h") {
        print(command.help)
        exit(0)
    }
    do {
        try await command.run(rest)
    } catch let error as UsageError {
        printError("medmnist \(command.name): \(error)\n\n\(command.help)")
        exit(2)
    } catch {
        printError("medmnist \(command.name): \(error)")
        exit(1)
    }
}
