import Foundation
import MedIO
import MedMNISTData
import MedModels
import MedTensor
import MedTraining

/// `medmnist grid`: the paper's grid (or a selection of it), sharded by the scheduler's task index, one result
/// file per cell, finished cells skipped.
enum GridCommand: Command {
    static let specification = CommandSpecification(
        name: "grid", abstract: "Run the paper's grid, or part of it, as one shard of a Slurm array or Kubernetes Indexed Job.",
        options: [
            Option("datasets", valueName: "flags", help: "Comma-separated 2D sets (default: the paper's 12)."),
            Option("sizes", valueName: "sizes", help: "Comma-separated sizes (default: 28,64,128,224)."),
            Option("models", valueName: "names", help: "Comma-separated encoders (default: the paper's 10)."),
            Option("schemes", valueName: "schemes",
                   help: "Comma-separated: end-to-end, linear-probe, cached-linear-probe, knn (default: end-to-end,linear-probe,knn)."),
            Option("seeds", valueName: "seeds", help: "Comma-separated seeds (default: the paper's 9930641,115149041,252139603; kNN uses the first)."),
            Option("init", kind: .choice(["pretrained", "random"]), default: "pretrained",
                   help: "Start from each model's default pretrained weights (the paper) or from a random initialisation."),
            Option("k", kind: .positiveInteger, default: "11", help: "Neighbours of the kNN cells."),
        ] + ExperimentOptions.training(defaultPreset: .paper) + [
            Option("results", kind: .path(extensions: []), default: "results", valueName: "dir",
                   help: "Where the result files go (results/<dataset>/<size>/<model>/<scheme>-s<seed>.json)."),
            DataOptions.root,
            .flag("offline", help: "Never download; a missing file fails its cells."),
            Option("shard", valueName: "I/N", help: "Run cells I, I+N, I+2N, … (wins over the scheduler's variables)."),
            Option("shards", kind: .positiveInteger, valueName: "n",
                   help: "The shard count under a scheduler (default: $MEDMNIST_SHARDS; Slurm: from the array)."),
            .flag("list", help: "Print the selected cells in their fixed order with their count (and this shard's), and run nothing."),
            .flag("force", help: "Rerun cells that have a result."),
            .flag("retry-failed", help: "Rerun cells whose error record says they failed."),
            .flag("keep-run-files", help: "Keep each cell's run folder (weights, history, test CSV) beside its result."),
            Option("threads", kind: .positiveInteger, help: "Kernel threads (default: $MEDTENSOR_NUM_THREADS, else every core)."),
        ],
        discussion: """
        Without selection flags: the paper's 3,360 cells (12 sets × 4 sizes × 10 encoders × (2 trained schemes × 3
        seeds + kNN)), preset paper, pretrained weights. Under a Slurm job array the shard comes from
        SLURM_ARRAY_TASK_ID (numbered through the array's MIN/MAX/COUNT; with --shards N the task ID is the index);
        under a Kubernetes Indexed Job from JOB_COMPLETION_INDEX with MEDMNIST_SHARDS or --shards. Each cell takes
        a lock file beside its result, so overlapping shards and requeued tasks never run a cell twice; a cell
        killed mid-run resumes from its run folder. Exit status 1 when a cell of this shard failed (its error
        record says why), so the scheduler marks the task failed.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) async throws {
        let selection = try selection(parsed)
        let cells = selection.cells
        let shard: Shard, worker: String
        if let text = parsed.string("shard") {
            do { shard = try Shard.parse(text) } catch let error as ShardError { throw UsageError("--shard: \(error)") }
            worker = "shard \(shard)"
        } else if let scheduled = try Shard.fromEnvironment(ProcessInfo.processInfo.environment, shards: parsed.integer("shards")) {
            (shard, worker) = (scheduled.shard, scheduled.source)
        } else {
            (shard, worker) = (.all, "local")
        }
        let mine = shard.cells(cells)
        if parsed.flag("list") {
            for (index, cell) in cells.enumerated() {
                console.write("\(index)\t\(cell.dataset)\t\(cell.size)\t\(cell.model)\t\(cell.scheme.rawValue)\t\(cell.seed)")
            }
            console.write("\(cells.count) cells; shard \(shard) (\(worker)) has \(mine.count)")
            return
        }
        if let threads = parsed.integer("threads") { Parallel.threadCount = threads }
        let template = ExperimentOptions.trainingConfiguration(parsed)
        let pretrained = parsed.string("init") == "pretrained", k = parsed.integer("k")!
        let environment = ExperimentEnvironment(root: DataOptions.root(parsed), downloader: parsed.flag("offline") ? nil : Downloader(),
                                                log: { console.write($0) })
        var runner = GridRunner(results: URL(fileURLWithPath: parsed.string("results")!), environment: environment) { cell in
            var training = template
            training.seed = UInt64(cell.seed)
            return ExperimentSpecification(model: cell.model, weights: pretrained ? .pretrained : .random,
                                           data: .catalog(flag: cell.dataset, size: cell.size), scheme: cell.scheme,
                                           training: training, k: k)
        }
        runner.force = parsed.flag("force")
        runner.retryFailed = parsed.flag("retry-failed")
        runner.keepRunFiles = parsed.flag("keep-run-files")
        runner.worker = worker
        console.write("grid: \(cells.count) cells; shard \(shard) (\(worker)): \(mine.count) cells into \(runner.results.path)")
        let summary = await runner.run(mine)
        console.write("shard \(shard): \(summary.succeeded.count) ran, \(summary.failed.count) failed, \(summary.done.count) already done, " +
                      "\(summary.previouslyFailed.count) failed before (skipped), \(summary.locked.count) running elsewhere")
        if !summary.failed.isEmpty {
            throw GridShardFailure(failed: summary.failed, results: runner.results.path)
        }
    }

    /// The cells the selection flags name, each value checked (a usage error names the bad one).
    static func selection(_ parsed: ParsedArguments) throws -> GridSelection {
        var selection = GridSelection.paper
        func list(_ name: String) -> [String]? {
            parsed.string(name).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        }
        if let datasets = list("datasets") {
            selection.datasets = try datasets.map { flag in
                let info: DatasetInfo
                do { info = try MedMNISTCatalog.info(flag) } catch let error as CatalogError { throw UsageError("--datasets: \(error)") }
                guard info.dimensions == .two else { throw UsageError("--datasets: \(info.flag) holds 3D volumes; the encoders take 2D images") }
                return info.flag
            }
        }
        if let sizes = list("sizes") {
            selection.sizes = try sizes.map { text in
                guard let size = Int(text), Dimensions.two.availableSizes.contains(size) else {
                    throw UsageError("--sizes: '\(text)' is not one of 28, 64, 128, 224")
                }
                return size
            }
        }
        if let models = list("models") {
            for model in models where !ModelRegistry.architectures.contains(ModelRegistry.split(model).architecture) {
                let hint = nearestSuggestion(for: model, among: ModelRegistry.architectures).map { " (did you mean '\($0)'?)" } ?? ""
                throw UsageError("--models: unknown model '\(model)'\(hint)")
            }
            selection.models = models
        }
        if let schemes = list("schemes") {
            selection.schemes = try schemes.map { text in
                guard let scheme = ExperimentScheme(rawValue: text) else {
                    throw UsageError("--schemes: '\(text)' is not one of \(ExperimentScheme.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return scheme
            }
        }
        if let seeds = list("seeds") {
            selection.seeds = try seeds.map { text in
                guard let seed = Int(text), seed >= 0 else { throw UsageError("--seeds: '\(text)' is not a non-negative integer") }
                return seed
            }
        }
        for (name, count) in [("datasets", selection.datasets.count), ("sizes", selection.sizes.count), ("models", selection.models.count),
                              ("schemes", selection.schemes.count), ("seeds", selection.seeds.count)] where count == 0 {
            throw UsageError("--\(name) selects nothing")
        }
        return selection
    }
}

/// Some cells of the shard failed; their error records say why.
struct GridShardFailure: Error, CustomStringConvertible {
    let failed: [GridCell]
    let results: String
    var description: String {
        "\(failed.count) cell\(failed.count == 1 ? "" : "s") failed (\(failed.prefix(3).map(\.description).joined(separator: "; "))" +
            "\(failed.count > 3 ? "; …" : "")); their .error.json records under \(results) say why, and --retry-failed reruns them"
    }
}
