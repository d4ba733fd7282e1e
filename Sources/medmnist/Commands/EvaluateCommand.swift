import Foundation
import MedIO
import MedMNISTData
import MedTensor

/// `medmnist evaluate --dataset FLAG --scores FILE.npy`: the package's ACC and AUC as one JSON object.
enum EvaluateCommand: Subcommand {
    static let name = "evaluate"
    static let summary = "Score predictions against a split's labels (ACC and AUC, as medmnist.Evaluator)."
    static let help = """
    USAGE: medmnist evaluate --dataset FLAG --scores FILE [--size N] [--split test] [--root DIR] [--save-csv DIR]

    Reads the split's labels from the root's .npz and prints one JSON object on stdout:
      {"dataset": ..., "size": ..., "split": ..., "task": ..., "acc": ..., "auc": ...}
    with ACC and AUC as fractions, computed exactly as medmnist.evaluator.getACC/getAUC.

    Scores are probabilities, as the package expects: softmax over classes (N, C); sigmoid per label for
    multi-label sets (N, L); for binary sets (N, 2), (N, 1) or (N,) with P(class 1) last.
    FILE is a .npy (float32/float64), or a prediction CSV in the package's format (index,score,...).

    OPTIONS:
      --size N         28 (default), 64, 128 or 224.
      --split NAME     train, val or test (default test).
      --root DIR       Folder of the .npz files (default: $MEDMNIST_ROOT or ~/.medmnist).
      --save-csv DIR   Also write the package's prediction CSV into DIR.
      --run NAME       The run tag of the CSV name (default: the current time, as the package).
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, valued: ["dataset", "size", "split", "scores", "root", "save-csv", "run"])
        let info = try DataOptions.dataset(options)
        let size = try DataOptions.size(options, for: info)
        let split = try DataOptions.split(options, default: .test)
        guard let scoresPath = options.value("scores") else { throw UsageError("--scores is required") }
        let scoresURL = URL(fileURLWithPath: scoresPath)
        guard FileManager.default.fileExists(atPath: scoresURL.path) else { throw UsageError("no such scores file: \(scoresPath)") }
        let scores: ScoreArray
        if scoresURL.pathExtension.lowercased() == "csv" {
            scores = try PredictionCSV.read(contentsOf: scoresURL)
        } else {
            scores = try ScoreArray(Npy.read(contentsOf: scoresURL))
        }
        let evaluator = try Evaluator(flag: info.flag, split: split, size: size, root: DataOptions.root(options))
        let metrics: Metrics
        if let folder = options.value("save-csv") {
            let run = options.value("run") ?? PredictionCSV.defaultRun()
            let (m, url) = try evaluator.evaluate(scores, saveTo: URL(fileURLWithPath: folder), run: run)
            metrics = m
            printError("wrote \(url.path)")
        } else {
            metrics = try evaluator.evaluate(scores)
        }
        let fields = [
            "\"dataset\": \(DataOptions.jsonString(info.flag))", "\"size\": \(size)",
            "\"split\": \(DataOptions.jsonString(split.rawValue))", "\"task\": \(DataOptions.jsonString(info.task.rawValue))",
            "\"acc\": \(DataOptions.jsonNumber(metrics.acc))", "\"auc\": \(DataOptions.jsonNumber(metrics.auc))",
        ]
        print("{" + fields.joined(separator: ", ") + "}")
    }
}
