import MedLayers
import MedTensor

/// timm's `ConvMlp`, VGG's pre-logits: the torchvision classifier's two 4096-wide Linear layers as a 7×7
/// convolution (`fc1`) and a 1×1 convolution (`fc2`), each followed by ReLU, dropout between them. Feature
/// maps smaller than the kernel are first average-pooled *up* to it (timm: "keep the input size >= 7x7"), so
/// 64- and 128-pixel inputs (2×2 and 4×4 maps) work; larger maps give a larger output that the head pools.
public final class ConvMlp: Module, UnaryLayer {
    public let fc1: Conv2d
    public let drop: Dropout
    public let fc2: Conv2d
    public let kernelSize: Int

    public init(inFeatures: Int, outFeatures: Int = 4096, kernelSize: Int = 7, mlpRatio: Double = 1, dropRate: Float = 0) {
        let mid = Int(Double(outFeatures) * mlpRatio)
        fc1 = Conv2d(inChannels: inFeatures, outChannels: mid, kernelSize: Size2(kernelSize))
        drop = Dropout(p: dropRate)
        fc2 = Conv2d(inChannels: mid, outChannels: outFeatures, kernelSize: 1)
        self.kernelSize = kernelSize
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        let (height, width) = (x.shape[2], x.shape[3])
        if height < kernelSize || width < kernelSize {
            x = x.adaptiveAvgPool2d(outputSize: Size2(max(kernelSize, height), max(kernelSize, width)))
        }
        x = fc1(x).relu()
        x = drop(x)
        return fc2(x).relu()
    }
}

/// timm's `ClassifierHead` with average pooling: global pool (flattened), dropout, `fc`.
public final class ClassifierHead: Module, UnaryLayer {
    public let globalPool: GlobalAvgPool
    public let drop: Dropout
    public internal(set) var fc: Linear?

    public init(inFeatures: Int, numClasses: Int, dropRate: Float = 0) {
        globalPool = GlobalAvgPool()
        drop = Dropout(p: dropRate)
        fc = numClasses > 0 ? Linear(inFeatures: inFeatures, outFeatures: numClasses) : nil
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input, preLogits: false) }

    public func forward(_ input: Tensor, preLogits: Bool) -> Tensor {
        let x = drop(globalPool(input))
        guard !preLogits, let fc else { return x }
        return fc(x)
    }
}

/// timm's `VGG` (no BatchNorm): `features.N` as `nn.Sequential` indices (conv, ReLU, …, max pool),
/// `pre_logits` (``ConvMlp``), `head` (``ClassifierHead``). Keys and shapes equal timm's `vgg16`.
///
/// Five 2×2 max pools need at least 32×32 pixels: 28-pixel MedMNIST images must be padded (as the paper
/// does, to 224) or upscaled.
public final class VGG: Module, ImageEncoder {
    /// One entry per layer of the configuration: output channels of a 3×3 conv, or `nil` for a max pool.
    public typealias Configuration = [Int?]

    public let features: Sequential
    public let preLogitsLayer: ConvMlp
    public let head: ClassifierHead

    public let architecture: String
    public let inChannels: Int
    public let numFeatures: Int
    public let classifierKeyPrefix = "head.fc"
    public var classifier: Linear? { head.fc }
    private let configuration: Configuration

    public override var keyOverrides: [String: String] { ["preLogitsLayer": "pre_logits"] }

    /// - Parameters:
    ///   - configuration: timm's `cfgs` list with `nil` for `'M'` (see ``vgg16Configuration``).
    ///   - hiddenSize: width of the pre-logits (`head_hidden_size`, 4096 in every timm VGG).
    ///   - mlpRatio: `fc1` width as a fraction of `hiddenSize`.
    public init(configuration: Configuration, numClasses: Int = 1000, inChannels: Int = 3, hiddenSize: Int = 4096,
                mlpRatio: Double = 1, dropRate: Float = 0, architecture: String? = nil,
                initialization: WeightInitialization = .timm) {
        self.architecture = architecture ?? "vgg\(configuration.compactMap { $0 }.count + 3)"
        self.inChannels = inChannels
        self.configuration = configuration
        var layers: [any UnaryLayer] = []
        var channels = inChannels
        for entry in configuration {
            if let width = entry {
                layers.append(Conv2d(inChannels: channels, outChannels: width, kernelSize: 3, padding: 1))
                layers.append(ReLU())
                channels = width
            } else {
                layers.append(MaxPool2d(kernelSize: 2, stride: 2))
            }
        }
        features = Sequential(layers)
        preLogitsLayer = ConvMlp(inFeatures: channels, outFeatures: hiddenSize, kernelSize: 7, mlpRatio: mlpRatio, dropRate: dropRate)
        head = ClassifierHead(inFeatures: hiddenSize, numClasses: numClasses, dropRate: dropRate)
        numFeatures = hiddenSize
        super.init()
        guard initialization == .timm else { return }
        // timm's `_initialize_weights`: Kaiming-normal (fan-out) convolutions with zero bias; Linear N(0, 0.01), zero bias.
        for (_, module) in namedModules() {
            if let conv = module as? Conv2d { TimmInit.kaimingNormalFanOut(conv); TimmInit.zeroBias(conv) }
        }
        if let fc = head.fc {
            fc.weight.reinitialize(Initializer.normal(fc.weight.shape, std: 0.01))
            TimmInit.zeroBias(fc)
        }
    }

    public func forwardFeatures(_ input: Tensor) -> Tensor {
        checkInput(input)
        return features(input)
    }

    public func forwardHead(_ features: Tensor, preLogits: Bool) -> Tensor {
        head.forward(preLogitsLayer(features), preLogits: preLogits)
    }

    public func resetClassifier(numClasses: Int) {
        head.fc = freshLinear(numFeatures, numClasses, training: isTraining)
    }

    public func featureMapSize(forInputSize inputSize: Int) -> Int? {
        var size: Int? = inputSize
        for entry in configuration {
            size = entry == nil ? slidingOutput(size, kernel: 2, stride: 2) : slidingOutput(size, kernel: 3, padding: 1)
        }
        return size
    }

    /// timm's `cfgs['vgg16']`: [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M].
    public static let vgg16Configuration: Configuration =
        [64, 64, nil, 128, 128, nil, 256, 256, 256, nil, 512, 512, 512, nil, 512, 512, 512, nil]

    /// timm `vgg16` (138M parameters with 1000 classes).
    public static func vgg16(numClasses: Int = 1000, dropRate: Float = 0, initialization: WeightInitialization = .timm) -> VGG {
        VGG(configuration: vgg16Configuration, numClasses: numClasses, dropRate: dropRate, architecture: "vgg16",
            initialization: initialization)
    }
}
