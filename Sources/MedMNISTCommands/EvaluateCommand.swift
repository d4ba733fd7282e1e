import Foundation
import MedIO
import MedMNISTData
import MedTensor

/// `medmnist evaluate --dataset FLAG --scores FILE`: the package's ACC and AUC as one JSON object.
enum EvaluateCommand: Command {
    static let specification = CommandSpecification(
        name: "evaluate", abstract: "Score predictions against a split's labels (ACC and AUC, as medmnist.Evaluator).",
        options: [
            DataOptions.dataset(),
            Option("scores", kind: .path(extensions: ["npy", "csv"]), required: true, valueName: "file",
                   help: "The scores: a .npy (float32/float64) or a prediction CSV in the package's format (index,score,...)."),
            DataOptions.size, DataOptions.split(default: .test), DataOptions.root,
            Option("save-csv", kind: .path(extensions: []), valueName: "dir", help: "Also write the package's prediction CSV into this folder."),
            Option("run", valueName: "name", help: "The run tag of the CSV name (default: the current time, as the package)."),
        ],
        discussion: """
        Reads the split's labels from the root's .npz and prints one JSON object on stdout:
          {"dataset": ..., "size": ..., "split": ..., "task": ..., "acc": ..., "auc": ...}
        with ACC and AUC as fractions, computed exactly as medmnist.evaluator.getACC/getAUC.

        Scores are probabilities, as the package expects: softmax over classes (N, C); sigmoid per label for
        multi-label sets (N, L); for binary sets (N, 2), (N, 1) or (N,) with P(class 1) last.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) throws {
        let info = try DataOptions.info(parsed)
        let size = try DataOptions.size(parsed, for: info)
        let split = DataOptions.split(parsed)
        if !parsed.isGiven("save-csv") { try parsed.reject(["run"], "without --save-csv") }
        let scoresPath = parsed.string("scores")!
        let scoresURL = URL(fileURLWithPath: scoresPath)
        guard FileManager.default.fileExists(atPath: scoresURL.path) else { throw CommandFailure("no such scores file: \(scoresPath)") }
        let scores: ScoreArray
        if scoresURL.pathExtension.lowercased() == "csv" {
            scores = try PredictionCSV.read(contentsOf: scoresURL)
        } else {
            scores = try ScoreArray(Npy.read(contentsOf: scoresURL))
        }
        let evaluator = try Evaluator(flag: info.flag, split: split, size: size, root: DataOptions.root(parsed))
        let metrics: Metrics
        if let folder = parsed.string("save-csv") {
            let run = parsed.string("run") ?? PredictionCSV.defaultRun()
            // What is wrong with the scores is said of their file (file errors of the CSV pass through).
            let (m, url) = try FileError.wrapping(path: scoresPath) { try evaluator.evaluate(scores, saveTo: URL(fileURLWithPath: folder), run: run) }
            metrics = m
            console.writeError("wrote \(url.path)")
        } else {
            metrics = try FileError.wrapping(path: scoresPath) { try evaluator.evaluate(scores) }
        }
        let fields = [
            "\"dataset\": \(DataOptions.jsonString(info.flag))", "\"size\": \(size)",
            "\"split\": \(DataOptions.jsonString(split.rawValue))", "\"task\": \(DataOptions.jsonString(info.task.rawValue))",
            "\"acc\": \(DataOptions.jsonNumber(metrics.acc))", "\"auc\": \(DataOptions.jsonNumber(metrics.auc))",
        ]
        console.write("{" + fields.joined(separator: ", ") + "}")
    }
}

/// A failure while running that has no library error of its own (exit 1).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
