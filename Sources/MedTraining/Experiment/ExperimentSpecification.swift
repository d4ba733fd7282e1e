import MedMNISTData
import MedTensor

/// The three ways the paper evaluates an encoder, plus the cached probe (MEDMNIST.md §1.4–1.5).
public enum ExperimentScheme: String, Sendable, Codable, CaseIterable {
    /// Every weight trains (the paper's `endToEnd`).
    case endToEnd = "end-to-end"
    /// Only the classifier trains, over the backbone in training mode, images through the model every epoch
    /// (the paper's `linearProbing`).
    case linearProbe = "linear-probe"
    /// Not in the paper: features computed once with the backbone in evaluation mode (feature cache), then only
    /// the head trains on them. Orders of magnitude faster; differs from `linearProbe` in BatchNorm statistics
    /// and dropout.
    case cachedLinearProbe = "cached-linear-probe"
    /// k nearest neighbours on frozen pre-logit features, the training split as support.
    case knn

    /// The training scheme of the trained schemes, nil for kNN.
    public var trainingScheme: TrainingScheme? {
        switch self {
        case .endToEnd: .endToEnd
        case .linearProbe, .cachedLinearProbe: .linearProbe
        case .knn: nil
        }
    }

    /// True for the schemes that only read frozen features (and so share the feature cache).
    public var usesFrozenFeatures: Bool { self == .cachedLinearProbe || self == .knn }
}

/// Which data an experiment runs on.
public enum DataSelection: Sendable, Codable, Equatable {
    /// A catalog set at a size, from the dataset root (downloaded first if allowed and missing).
    case catalog(flag: String, size: Int)
    /// Any `.npz` in the MedMNIST schema; the task is inferred from the labels when nil.
    case file(path: String, task: MedMNISTTask?)

    /// Short name for logs, cache keys and result paths: `breastmnist`, or the file name without `.npz`.
    public var name: String {
        switch self {
        case .catalog(let flag, _): flag
        case .file(let path, _): String(path.split(separator: "/").last ?? "data").replacingOccurrences(of: ".npz", with: "")
        }
    }
}

/// Where a model's starting weights come from.
public enum WeightsSelection: Sendable, Codable, Equatable {
    /// Random initialisation from the run's seed (timm's initialisers).
    case random
    /// A checkpoint file: safetensors or PyTorch `.pth`/`.bin`.
    case file(path: String)
    /// The model name's pretrained tag (or the architecture's default tag), from the hub through the cache.
    case pretrained
}

/// Everything that defines one run; stored in its `metrics.json`, and a grid cell's identity.
public struct ExperimentSpecification: Sendable, Codable, Equatable {
    /// Registry name, `resnet18` or `resnet18.a1_in1k`.
    public var model: String
    public var weights: WeightsSelection
    public var data: DataSelection
    public var scheme: ExperimentScheme
    /// Training settings (kNN uses only the seed, for a random model, and the evaluation batch size).
    public var training: TrainingConfiguration
    /// Neighbours for kNN (the paper: 11).
    public var k: Int
    /// The matrix products of the frozen-feature pass (kNN, the cached probe, `features`): nil or `.float32`
    /// for exact Float32, `.bfloat16` for the opt-in BF16 inference mode (``Precision``). Trained schemes
    /// accept only Float32.
    public var precision: Precision?

    public init(model: String = "resnet18", weights: WeightsSelection = .random, data: DataSelection = .catalog(flag: "breastmnist", size: 28),
                scheme: ExperimentScheme = .endToEnd, training: TrainingConfiguration = .preset(.fast), k: Int = 11,
                precision: Precision? = nil) {
        self.model = model
        self.weights = weights
        self.data = data
        self.scheme = scheme
        self.training = training
        self.k = k
        self.precision = precision
    }

    /// The precision of the frozen-feature pass (Float32 when unset).
    public var featurePrecision: Precision { precision ?? .float32 }

    /// Throws unless the settings fit together: BF16 is for the frozen-feature schemes only.
    public func validatePrecision() throws {
        guard featurePrecision == .float32 || scheme.usesFrozenFeatures else {
            throw TrainingConfigurationError(setting: "precision", value: featurePrecision.rawValue,
                                             rule: "float32 when the model trains (bfloat16 is for kNN, the cached probe and features)")
        }
    }
}
