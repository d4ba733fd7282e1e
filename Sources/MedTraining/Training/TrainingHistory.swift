import Foundation

/// One finished epoch, as the run's log line and `history.csv` row give it.
public struct EpochRecord: Sendable, Codable, Equatable {
    /// 0-based.
    public var epoch: Int
    public var learningRate: Float
    /// Mean of the per-batch training losses.
    public var trainLoss: Double
    /// Mean of the per-batch validation losses (what early stopping watches).
    public var validationLoss: Double
    public var validationACC: Double
    public var validationAUC: Double
    /// Wall time of the training pass and of the validation pass.
    public var trainSeconds: Double
    public var validationSeconds: Double
    /// Training images (or feature rows) per second.
    public var imagesPerSecond: Double

    // Spelled so that snake_case keys (metrics.json: `validation_acc`) round-trip; Foundation's conversion
    // cannot restore the acronyms' capitals.
    private enum CodingKeys: String, CodingKey {
        case epoch, learningRate, trainLoss, validationLoss, trainSeconds, validationSeconds, imagesPerSecond
        case validationACC = "validationAcc", validationAUC = "validationAuc"
    }

    /// The one-line summary printed after each epoch.
    public var summary: String {
        String(format: "epoch %d: train loss %.4f, val loss %.4f, val ACC %.2f %%, val AUC %.2f %%, lr %.3e, %.1f s (%.0f img/s)",
               epoch + 1, trainLoss, validationLoss, validationACC * 100, validationAUC * 100, Double(learningRate),
               trainSeconds + validationSeconds, imagesPerSecond)
    }

    /// The header of `history.csv`.
    public static let csvHeader = "epoch,lr,train_loss,val_loss,val_acc,val_auc,train_seconds,val_seconds,images_per_second"

    /// This epoch as a `history.csv` row (full precision, so the file round-trips).
    public var csvRow: String {
        ["\(epoch)", "\(learningRate)", "\(trainLoss)", "\(validationLoss)", "\(validationACC)", "\(validationAUC)",
         "\(trainSeconds)", "\(validationSeconds)", "\(imagesPerSecond)"].joined(separator: ",")
    }
}

/// Where a run stands: saved with every checkpoint, so that a resumed run continues exactly.
public struct TrainingProgress: Sendable, Codable, Equatable {
    /// Epochs finished (the next epoch's 0-based index).
    public var completedEpochs = 0
    /// The epoch whose weights are the best so far (lowest validation loss), nil before the first.
    public var bestEpoch: Int?
    public var bestValidationLoss: Double?
    /// Consecutive epochs since the last strictly lower validation loss.
    public var epochsWithoutImprovement = 0
    /// True once early stopping ended the run.
    public var stoppedEarly = false
    public var history: [EpochRecord] = []

    public init() {}
}
