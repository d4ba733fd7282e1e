/// The kind of prediction a MedMNIST set asks for, spelt exactly as the `task` field of the `medmnist`
/// package's `INFO` (the raw values), because the evaluator's rules are chosen by these strings.
public enum MedMNISTTask: String, Sendable, CaseIterable, Codable {
    /// One class out of C; labels `(N, 1)` in `0..<C`; scores `(N, C)` probabilities (softmax).
    case multiClass = "multi-class"
    /// L independent yes/no labels; labels `(N, L)` of 0/1; scores `(N, L)` probabilities (sigmoid).
    case multiLabelBinary = "multi-label, binary-class"
    /// Two classes; labels `(N, 1)` of 0/1; scores `(N, 2)`, `(N, 1)` or `(N,)` — P(class 1) is the last column.
    case binaryClass = "binary-class"
    /// Ordered grades, evaluated like ``multiClass``.
    case ordinalRegression = "ordinal-regression"

    /// Parses an INFO string (`"multi-class"`) or a case name (`"multiClass"`).
    public init?(parsing text: String) {
        if let task = MedMNISTTask(rawValue: text) { self = task; return }
        guard let task = MedMNISTTask.allCases.first(where: { "\($0)" == text }) else { return nil }
        self = task
    }

    /// True when each sample carries one label column per class (`multi-label, binary-class`).
    public var isMultiLabel: Bool { self == .multiLabelBinary }
}

/// One of the three splits every MedMNIST file holds.
public enum Split: String, Sendable, CaseIterable, Codable {
    case train, val, test

    /// The npz key of the split's images: `train_images`, `val_images`, `test_images`.
    public var imagesKey: String { "\(rawValue)_images" }
    /// The npz key of the split's labels: `train_labels`, `val_labels`, `test_labels`.
    public var labelsKey: String { "\(rawValue)_labels" }

    /// Parses `train`, `val` or `test` (also `validation`), case-insensitively.
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "train": self = .train
        case "val", "valid", "validation": self = .val
        case "test": self = .test
        default: return nil
        }
    }
}

/// The number of samples in each split (`INFO[flag]['n_samples']`).
public struct SplitSizes: Sendable, Equatable, Codable {
    public var train: Int
    public var val: Int
    public var test: Int

    /// The three sizes.
    public init(train: Int, val: Int, test: Int) {
        self.train = train
        self.val = val
        self.test = test
    }

    /// The size of `split`.
    public subscript(split: Split) -> Int {
        get {
            switch split {
            case .train: train
            case .val: val
            case .test: test
            }
        }
        set {
            switch split {
            case .train: train = newValue
            case .val: val = newValue
            case .test: test = newValue
            }
        }
    }

    /// Samples over all three splits.
    public var total: Int { train + val + test }
}
