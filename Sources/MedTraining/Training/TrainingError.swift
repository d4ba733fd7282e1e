import Foundation

/// Why a training run stopped before its end.
public enum TrainingError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The loss of a training batch was NaN or infinite; `epoch` and `step` are 1-based, as printed.
    /// The last good checkpoint (if the run has one) is kept.
    case nonFiniteLoss(epoch: Int, step: Int, value: Float, checkpoint: String?)
    /// `--resume` found a checkpoint written by a run with other settings.
    case resumeMismatch(checkpoint: String, reason: String)
    /// A training or validation source without samples.
    case emptySplit(String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(epoch, step, value, checkpoint):
            "training loss is \(value) at epoch \(epoch), step \(step); stopped. "
                + (checkpoint.map { "The last good checkpoint is kept at \($0) (resume with --resume after lowering the learning rate)." }
                    ?? "Try a lower learning rate.")
        case let .resumeMismatch(checkpoint, reason):
            "cannot resume from \(checkpoint): \(reason). Use another --output directory, or the same settings."
        case let .emptySplit(name):
            "the \(name) split has no samples"
        }
    }
}
