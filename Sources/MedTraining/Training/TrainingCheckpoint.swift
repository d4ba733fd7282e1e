import Foundation
import MedIO
import MedLayers
import MedTensor

/// Everything a run needs to continue exactly where it stopped, in one safetensors file written atomically
/// after every epoch: the current weights (`model.*`), the best weights so far (`best.*`), the optimizer's
/// moments (`optimizer.*`) and, as JSON in the metadata, the configuration and ``TrainingProgress`` (epoch,
/// early-stopping state, history). One file, so a kill at any moment leaves either the previous epoch's state
/// or this one's, never a mixture. Random state needs no saving: every epoch's order and dropout masks come
/// from seeds derived from the run's seed and the epoch index.
struct TrainingCheckpoint {
    static let fileName = "checkpoint.safetensors"
    static let stateKey = "medmnist.training.state"
    static let configurationKey = "medmnist.training.configuration"

    var configuration: TrainingConfiguration
    var progress: TrainingProgress
    var model: [(key: String, array: TypedArray)]
    var best: [(key: String, array: TypedArray)]
    var optimizer: [(key: String, array: TypedArray)]

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let metadata = [
            Self.stateKey: String(decoding: try encoder.encode(progress), as: UTF8.self),
            Self.configurationKey: String(decoding: try encoder.encode(configuration), as: UTF8.self),
        ]
        let entries = model.map { (name: "model.\($0.key)", array: $0.array) } + best.map { (name: "best.\($0.key)", array: $0.array) }
            + optimizer.map { (name: "optimizer.\($0.key)", array: $0.array) }
        try SafeTensorsFile(entries, metadata: metadata).write(to: url)
    }

    /// - Throws: `TensorFileError` for a damaged file, ``TrainingError/resumeMismatch(checkpoint:reason:)``
    ///   for one that is not a training checkpoint.
    static func read(from url: URL) throws -> TrainingCheckpoint {
        let file = try SafeTensorsFile.read(contentsOf: url)
        let decoder = JSONDecoder()
        guard let state = file.metadata[stateKey], let configuration = file.metadata[configurationKey],
            let progress = try? decoder.decode(TrainingProgress.self, from: Data(state.utf8)),
            let settings = try? decoder.decode(TrainingConfiguration.self, from: Data(configuration.utf8))
        else { throw TrainingError.resumeMismatch(checkpoint: url.path, reason: "it is not a training checkpoint of this library") }
        func entries(_ prefix: String) -> [(key: String, array: TypedArray)] {
            file.entries.filter { $0.name.hasPrefix(prefix) }.map { (key: String($0.name.dropFirst(prefix.count)), array: $0.array) }
        }
        return TrainingCheckpoint(configuration: settings, progress: progress, model: entries("model."), best: entries("best."),
                                  optimizer: entries("optimizer."))
    }
}
