import MedMNISTData
import MedModels

/// Whether a model fits a dataset split and the transform that feeds it — channels, smallest input size,
/// class count and task — checked once, before the first batch, so that a mismatch is a message naming it
/// instead of a trap inside a forward pass, a transform or a loss.
///
/// It lives in MedTraining because it needs both sides: the encoders (MedModels) and the data (MedMNISTData),
/// which do not depend on each other. The commands and the trainer call it the same way:
/// ```swift
/// let model = try ModelRegistry.create("resnet18", numClasses: train.numClasses)
/// let transform = ImageTransform.paper(normalization: .imagenet)
/// try ModelDataCompatibility.validate(model: model, for: train, transform: transform)
/// let loader = try BatchLoader(train, transform: transform, batchSize: 64, shuffle: true)
/// ```
public enum ModelDataCompatibility {
    /// What the model's output is used for.
    public enum Use: Sendable, Equatable {
        /// Its logits score the data's classes (training, evaluation, prediction): it needs a classifier with
        /// one output per class (per label for multi-label sets; 2 for binary sets, as in the paper).
        case logits
        /// Its pre-logit features (kNN, linear probe): the classifier is not used, so it is not checked.
        case features
    }

    /// Checks `model` against a loaded split as `transform` will present it.
    ///
    /// A catalog split needs exactly its class count; custom data (``MedMNISTSplit/info`` nil), whose
    /// class count is read off its labels, needs at least that many outputs.
    /// - Parameter modelTask: the task the model's classifier was trained for, when known (a checkpoint's
    ///   record): a multi-label head (one sigmoid per label) does not fit a multi-class, binary or ordinal set
    ///   (one softmax over classes), nor the reverse.
    /// - Throws: ``ModelDataMismatch`` naming the first mismatch.
    public static func validate(
        model: any ImageEncoder, for split: MedMNISTSplit, transform: ImageTransform, use: Use = .logits,
        modelTask: MedMNISTTask? = nil
    ) throws {
        try check(
            model: model, dataset: split.flag, size: split.size, task: split.task, numClasses: split.numClasses,
            exactClassCount: split.info != nil, layout: split.images.layout, sampleShape: split.images.sampleShape,
            transform: transform, use: use, modelTask: modelTask)
    }

    /// Checks `model` against a catalog set at `size` before anything is downloaded or loaded; the same rules
    /// as ``validate(model:for:transform:use:modelTask:)-(_,MedMNISTSplit,_,_,_)``.
    /// - Throws: ``ModelDataMismatch`` naming the first mismatch.
    public static func validate(
        model: any ImageEncoder, for info: DatasetInfo, size: Int, transform: ImageTransform, use: Use = .logits,
        modelTask: MedMNISTTask? = nil
    ) throws {
        try check(
            model: model, dataset: info.flag, size: size, task: info.task, numClasses: info.numClasses,
            exactClassCount: true, layout: info.imageLayout, sampleShape: info.sampleShape(size: size),
            transform: transform, use: use, modelTask: modelTask)
    }

    private static func check(
        model: any ImageEncoder, dataset: String, size: Int, task: MedMNISTTask, numClasses: Int, exactClassCount: Bool,
        layout: ImageLayout, sampleShape: [Int], transform: ImageTransform, use: Use, modelTask: MedMNISTTask?
    ) throws {
        let name = model.architecture
        guard layout != .volume else { throw ModelDataMismatch.volumes(model: name, dataset: dataset) }
        do {
            try transform.validate(for: layout)
        } catch let error as TransformError {
            throw ModelDataMismatch.transform(dataset: dataset, error)
        }
        let shape = transform.outputShape(sampleShape: sampleShape, layout: layout, batch: 1)
        guard shape[1] == model.inChannels else {
            throw ModelDataMismatch.channels(model: name, expected: model.inChannels, dataset: dataset, layout: layout, found: shape[1])
        }
        let (height, width) = (shape[2], shape[3])
        if model.featureMapSize(forInputSize: height) == nil || model.featureMapSize(forInputSize: width) == nil {
            throw ModelDataMismatch.inputTooSmall(
                model: name, dataset: dataset, size: size, height: height, width: width, minimum: model.minimumInputSize)
        }
        guard use == .logits else { return }
        if let modelTask, modelTask.isMultiLabel != task.isMultiLabel {
            throw ModelDataMismatch.task(model: name, modelTask: modelTask, dataset: dataset, task: task)
        }
        guard model.numClasses > 0 else {
            throw ModelDataMismatch.noClassifier(model: name, dataset: dataset, numClasses: numClasses)
        }
        if exactClassCount ? model.numClasses != numClasses : model.numClasses < numClasses {
            throw ModelDataMismatch.classCountMismatch(
                model: name, modelClasses: model.numClasses, dataset: dataset, task: task, dataClasses: numClasses,
                exact: exactClassCount)
        }
    }
}

/// How a model does not fit a dataset (see ``ModelDataCompatibility``); each message names the model, the
/// set and what to change.
public enum ModelDataMismatch: Error, Equatable, CustomStringConvertible, Sendable {
    /// The set holds 3D volumes; the encoders take 2D images.
    case volumes(model: String, dataset: String)
    /// The transform cannot run on the set's images.
    case transform(dataset: String, TransformError)
    /// The transform gives `found` channels; the model takes `expected`.
    case channels(model: String, expected: Int, dataset: String, layout: ImageLayout, found: Int)
    /// The transformed images, `height` × `width`, are smaller than the architecture's `minimum` side.
    case inputTooSmall(model: String, dataset: String, size: Int, height: Int, width: Int, minimum: Int)
    /// The model's classifier was trained for a task of the other kind (multi-label against single-label).
    case task(model: String, modelTask: MedMNISTTask, dataset: String, task: MedMNISTTask)
    /// Logits are wanted but the model was built without a classifier.
    case noClassifier(model: String, dataset: String, numClasses: Int)
    /// The classifier's width, `modelClasses`, is not the set's class (or label) count, `dataClasses`; `exact`
    /// is false for custom data, which needs at least `dataClasses`.
    case classCountMismatch(model: String, modelClasses: Int, dataset: String, task: MedMNISTTask, dataClasses: Int, exact: Bool)

    public var description: String {
        switch self {
        case let .volumes(model, dataset):
            return "\(model) is an encoder of 2D images, but \(dataset) holds 3D volumes"
        case let .transform(dataset, error):
            return "\(dataset): \(error)"
        case let .channels(model, expected, dataset, layout, found):
            let hint = expected == 3 && found == 1 ? "; set the transform's rgb (as_rgb) to replicate the grayscale channel" : ""
            return "\(model) takes \(expected)-channel images, but the transform makes \(found)-channel images of " +
                "\(dataset) (\(layout))\(hint)"
        case let .inputTooSmall(model, dataset, size, height, width, minimum):
            return "\(model) needs inputs of at least \(minimum)×\(minimum), but \(dataset) at size \(size) reaches it as " +
                "\(height)×\(width); pad (the paper pads to 224) or resize in the transform, or use a larger size"
        case let .task(model, modelTask, dataset, task):
            return "\(model)'s classifier was trained for a \(modelTask.rawValue) task, but \(dataset) is \(task.rawValue): " +
                "one sigmoid per label and one softmax over classes do not score the same thing"
        case let .noClassifier(model, dataset, numClasses):
            return "\(model) has no classifier, but scoring \(dataset) needs one with \(numClasses) outputs; build it with " +
                "numClasses: \(numClasses), or use its pre-logit features"
        case let .classCountMismatch(model, modelClasses, dataset, task, dataClasses, exact):
            let what = task.isMultiLabel ? "labels" : "classes"
            return "\(model) has \(modelClasses) outputs, but \(dataset) (\(task.rawValue)) has \(exact ? "" : "at least ")" +
                "\(dataClasses) \(what); build it with numClasses: \(dataClasses) (to load a checkpoint with another " +
                "head, use replacingClassifierLoadOptions)"
        }
    }
}
