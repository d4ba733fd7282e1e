import MedLayers
import MedTensor

/// What every encoder in MedModels (convolutional or ``VisionTransformer``) offers, with timm's semantics: the full forward (logits),
/// the trunk (`forwardFeatures`), the head, the pre-logit features that the paper's kNN and linear probe use
/// (MEDMNIST.md §1.2, §1.5), the classifier, re-initialising it for another class count, freezing the rest, and
/// input-size checks that say which size is the smallest the architecture accepts.
///
/// The pre-logit features are ``preLogits(_:)``; there is no `features(_:)` method because `features` is the
/// trunk's property in VGG, AlexNet and DenseNet, as their `features.N` / `features.denseblock1…` keys require.
public protocol ImageEncoder: UnaryLayer {
    /// timm's (or torchvision's) architecture name, e.g. `resnet18`.
    var architecture: String { get }
    /// Input channels (3 for every pretrained tag).
    var inChannels: Int { get }
    /// Width of the pre-logit features (timm's `head_hidden_size`): what ``preLogits(_:)`` returns per image.
    var numFeatures: Int { get }
    /// The final Linear layer, nil when the model was built (or reset) with 0 classes, as timm's
    /// `num_classes=0`.
    var classifier: Linear? { get }
    /// State-dict prefix of the classifier (`fc`, `head.fc`, `classifier`, `classifier.6`), for
    /// `LoadOptions(reinitializedPrefixes:)` and ``freezeBackbone()``.
    var classifierKeyPrefix: String { get }

    /// The trunk (timm's `forward_features`): [N, C, H, W] → the last feature map [N, C', H', W'] of a
    /// convolutional encoder, or a transformer's normalised tokens [N, tokens, width].
    func forwardFeatures(_ input: Tensor) -> Tensor
    /// Pooling, the pre-logit layers and (unless `preLogits`) the classifier (timm's `forward_head`).
    func forwardHead(_ features: Tensor, preLogits: Bool) -> Tensor
    /// Replaces the classifier with a freshly initialised one (PyTorch's default `nn.Linear` init, as timm's
    /// `reset_classifier`) for `numClasses` outputs; 0 removes it. The new head is trainable and in the
    /// model's current mode.
    func resetClassifier(numClasses: Int)
    /// The side of the last feature map (a transformer's patch grid) for an input side of `inputSize` pixels,
    /// or nil when some layer's output would be empty (the input is too small for the architecture) or the
    /// architecture cannot take that side at all.
    func featureMapSize(forInputSize inputSize: Int) -> Int?
}

extension ImageEncoder {
    /// Logits [N, numClasses] (or the pre-logit features when the model has no classifier, as timm).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        forwardHead(forwardFeatures(input), preLogits: false)
    }

    /// The pre-logit features [N, numFeatures]: timm's `forward_head(forward_features(x), pre_logits=True)`,
    /// DenseNet's pooled features, AlexNet's classifier without its last Linear (after the ReLU).
    public func preLogits(_ input: Tensor) -> Tensor {
        forwardHead(forwardFeatures(input), preLogits: true)
    }

    /// Number of classifier outputs (0 without a classifier).
    public var numClasses: Int { classifier?.outFeatures ?? 0 }

    /// Makes everything but the classifier untrainable (linear probing). BatchNorm running statistics still
    /// update in training mode, as in the paper's code.
    public func freezeBackbone() { freeze(except: [classifierKeyPrefix]) }

    /// Load options that keep this model's fresh classifier when a checkpoint's head has another class count
    /// (or is absent), as the paper does with ImageNet weights.
    public var replacingClassifierLoadOptions: LoadOptions { LoadOptions(reinitializedPrefixes: [classifierKeyPrefix]) }

    /// The smallest square input side the architecture accepts (every layer's output non-empty).
    public var minimumInputSize: Int {
        var size = 1
        while featureMapSize(forInputSize: size) == nil && size < 1 << 16 { size += 1 }
        return size
    }

    /// Throws ``ImageEncoderError/inputTooSmall(model:height:width:minimum:)`` when an input of this size
    /// would collapse to an empty feature map somewhere in the network.
    public func validateInputSize(height: Int, width: Int) throws {
        if featureMapSize(forInputSize: height) == nil || featureMapSize(forInputSize: width) == nil {
            throw ImageEncoderError.inputTooSmall(model: architecture, height: height, width: width, minimum: minimumInputSize)
        }
    }

    /// Checks a whole input shape: [N, inChannels, H, W] with H and W large enough. Call it on input that a
    /// user supplies before the forward pass, which traps on the same conditions.
    /// - Throws: ``ImageEncoderError/wrongInputShape(model:shape:channels:)`` or
    ///   ``ImageEncoderError/inputTooSmall(model:height:width:minimum:)``.
    public func validateInput(shape: [Int]) throws {
        guard shape.count == 4, shape[1] == inChannels, shape[0] >= 0 else {
            throw ImageEncoderError.wrongInputShape(model: architecture, shape: shape, channels: inChannels)
        }
        try validateInputSize(height: shape[2], width: shape[3])
    }

    /// A precondition with the message of ``validateInput(shape:)``, for the forward passes: a wrong shape
    /// here is the caller's bug. Input that a user supplies (a file, a dataset split) is checked by the
    /// throwing ``validateInput(shape:)`` first — the `predict` command does, and so does MedTraining's
    /// `ModelDataCompatibility.validate`, which the commands and the trainer call before the first batch.
    func checkInput(_ input: Tensor) {
        do { try validateInput(shape: input.shape) } catch { preconditionFailure("\(error)") }
    }
}

/// How a model's parameters are initialised when it is built.
public enum WeightInitialization: Sendable, Equatable {
    /// timm's scheme for the architecture, as `timm.create_model` gives it (Kaiming-normal convolutions,
    /// zero-initialised last BatchNorm of ResNet blocks, EfficientNet's TensorFlow-style init, …).
    case timm
    /// Only the layers' own PyTorch defaults: faster for big models (VGG16: about 1.7 s instead of 5.4 here) when
    /// a checkpoint is about to overwrite every weight anyway.
    case layerDefaults
}

/// What can be wrong with an encoder's input.
public enum ImageEncoderError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Some layer's output would be empty; `minimum` is the smallest square side that works.
    case inputTooSmall(model: String, height: Int, width: Int, minimum: Int)
    /// Not [N, channels, H, W].
    case wrongInputShape(model: String, shape: [Int], channels: Int)

    public var description: String {
        switch self {
        case let .inputTooSmall(model, height, width, minimum):
            "\(model): input \(height)×\(width) is too small: the feature maps would collapse to nothing; " +
                "the smallest input this architecture accepts is \(minimum)×\(minimum) (the paper zero-pads small images to 224×224)"
        case let .wrongInputShape(model, shape, channels):
            "\(model): expected an input of shape [N, \(channels), H, W], got \(shape)"
        }
    }
}

// MARK: shared helpers

/// Output side of a convolution or (floor-mode) pooling window, as PyTorch computes it; nil when the input
/// (or an earlier layer's output, passed as nil) is too small.
func slidingOutput(_ size: Int?, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) -> Int? {
    guard let size, size > 0 else { return nil }
    let span = size + 2 * padding - dilation * (kernel - 1) - 1
    return span < 0 ? nil : span / stride + 1
}

/// `(k − 1) / 2 · dilation` style symmetric padding as timm's `get_padding`.
func timmPadding(kernel: Int, stride: Int = 1, dilation: Int = 1) -> Int {
    ((stride - 1) + dilation * (kernel - 1)) / 2
}

/// A Linear layer with PyTorch's default initialisation, in the given mode.
func freshLinear(_ inFeatures: Int, _ outFeatures: Int, training: Bool) -> Linear? {
    guard outFeatures > 0 else { return nil }
    let linear = Linear(inFeatures: inFeatures, outFeatures: outFeatures)
    linear.train(training)
    return linear
}

extension Parameter {
    /// Re-draws the values (construction-time initialisation that differs from the layer default).
    func reinitialize(_ values: Tensor) { assign(values) }
}

/// timm's weight initialisations, applied after construction.
enum TimmInit {
    /// `kaiming_normal_(mode='fan_out', nonlinearity='relu')` on a conv weight: N(0, 2/(out·kh·kw)).
    static func kaimingNormalFanOut(_ conv: Conv2d) {
        let s = conv.weight.shape
        conv.weight.reinitialize(Initializer.kaimingNormal(s, fanOut: s[0] * s[2] * s[3]))
    }

    /// `kaiming_normal_()` (mode fan_in, relu gain): N(0, 2/(in/groups·kh·kw)).
    static func kaimingNormalFanIn(_ conv: Conv2d) {
        let s = conv.weight.shape
        conv.weight.reinitialize(Initializer.normal(s, std: (2 / Float(s[1] * s[2] * s[3])).squareRoot()))
    }

    static func zeroBias(_ conv: Conv2d) { conv.bias?.reinitialize(.zeros(conv.bias!.shape)) }
    static func zeroBias(_ linear: Linear) { linear.bias?.reinitialize(.zeros(linear.bias!.shape)) }

    /// `init_weights_vit_timm` (ViT, EVA-02): every Linear below `module` N(0, 0.02²) truncated to ±2, bias 0.
    static func truncatedNormalLinears(in module: Module) {
        for (_, child) in module.namedModules() {
            guard let linear = child as? Linear else { continue }
            linear.weight.reinitialize(Initializer.truncatedNormal(linear.weight.shape, std: 0.02))
            zeroBias(linear)
        }
    }
}
