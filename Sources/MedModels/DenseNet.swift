import MedLayers
import MedTensor

/// timm's `DenseLayer`: BN-ReLU-1×1 conv (to `bnSize·growthRate`), BN-ReLU-3×3 conv (to `growthRate`), over
/// the concatenation of every earlier feature map of its block. (timm's norms are `BatchNormAct2d`, a
/// BatchNorm with its ReLU inside; the keys are plain BatchNorm keys.)
public final class DenseLayer: Module {
    public let norm1: BatchNorm2d
    public let conv1: Conv2d
    public let norm2: BatchNorm2d
    public let conv2: Conv2d
    public let drop: Dropout

    public init(inChannels: Int, growthRate: Int, bnSize: Int, dropRate: Float = 0) {
        norm1 = BatchNorm2d(inChannels)
        conv1 = Conv2d(inChannels: inChannels, outChannels: bnSize * growthRate, kernelSize: 1, bias: false)
        norm2 = BatchNorm2d(bnSize * growthRate)
        conv2 = Conv2d(inChannels: bnSize * growthRate, outChannels: growthRate, kernelSize: 3, padding: 1, bias: false)
        drop = Dropout(p: dropRate)
        super.init()
    }

    /// The new `growthRate` channels computed from all previous feature maps of the block.
    public func callAsFunction(_ previous: [Tensor]) -> Tensor {
        let bottleneck = conv1(norm1.reluOfConcatenation(previous))
        return drop(conv2(norm2.reluOfConcatenation([bottleneck])))
    }
}

/// timm's `DenseBlock` (an `nn.ModuleDict`): `denselayer1…denselayerN`, output = all maps concatenated.
public final class DenseBlock: Module, UnaryLayer {
    public let layers: [DenseLayer]

    public init(layerCount: Int, inChannels: Int, growthRate: Int, bnSize: Int, dropRate: Float = 0) {
        layers = (0..<layerCount).map {
            DenseLayer(inChannels: inChannels + $0 * growthRate, growthRate: growthRate, bnSize: bnSize, dropRate: dropRate)
        }
        super.init()
    }

    public override var namedChildren: [(key: String, module: Module)] {
        layers.enumerated().map { ("denselayer\($0.offset + 1)", $0.element as Module) }
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var maps = [input]
        for layer in layers { maps.append(layer(maps)) }
        return Tensor.concatenate(maps, axis: 1)
    }
}

/// timm's `DenseTransition`: BN-ReLU, 1×1 conv halving the channels, 2×2 average pool.
public final class DenseTransition: Module, UnaryLayer {
    public let norm: BatchNorm2d
    public let conv: Conv2d
    public let pool: AvgPool2d

    public init(inChannels: Int, outChannels: Int) {
        norm = BatchNorm2d(inChannels)
        conv = Conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: 1, bias: false)
        pool = AvgPool2d(kernelSize: 2, stride: 2)
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { pool(conv(norm.reluOfConcatenation([input]))) }
}

/// timm's `features` `nn.Sequential(OrderedDict)`: `conv0, norm0, pool0, denseblock1, transition1, …,
/// denseblockK, norm5`, in that key order.
public final class DenseNetTrunk: Module, UnaryLayer {
    public let conv0: Conv2d
    public let norm0: BatchNorm2d
    public let pool0: MaxPool2d
    public let blocks: [DenseBlock]
    public let transitions: [DenseTransition]
    public let norm5: BatchNorm2d

    init(inChannels: Int, growthRate: Int, blockConfig: [Int], bnSize: Int, dropRate: Float) {
        let initial = 2 * growthRate
        conv0 = Conv2d(inChannels: inChannels, outChannels: initial, kernelSize: 7, stride: 2, padding: 3, bias: false)
        norm0 = BatchNorm2d(initial)
        pool0 = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        var channels = initial
        var blocks: [DenseBlock] = [], transitions: [DenseTransition] = []
        for (index, count) in blockConfig.enumerated() {
            blocks.append(DenseBlock(layerCount: count, inChannels: channels, growthRate: growthRate, bnSize: bnSize, dropRate: dropRate))
            channels += count * growthRate
            if index != blockConfig.count - 1 {
                transitions.append(DenseTransition(inChannels: channels, outChannels: channels / 2))
                channels /= 2
            }
        }
        (self.blocks, self.transitions) = (blocks, transitions)
        norm5 = BatchNorm2d(channels)
        super.init()
    }

    public var outChannels: Int { norm5.channels }

    public override var namedChildren: [(key: String, module: Module)] {
        var children: [(key: String, module: Module)] = [("conv0", conv0), ("norm0", norm0), ("pool0", pool0)]
        for (index, block) in blocks.enumerated() {
            children.append(("denseblock\(index + 1)", block))
            if index < transitions.count { children.append(("transition\(index + 1)", transitions[index])) }
        }
        children.append(("norm5", norm5))
        return children
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = pool0(convBatchNorm(conv0, norm0, input).relu())
        for (index, block) in blocks.enumerated() {
            x = block(x)
            if index < transitions.count { x = transitions[index](x) }
        }
        return norm5.reluOfConcatenation([x])
    }
}

/// timm's `DenseNet` (DenseNet-BC): `features` (``DenseNetTrunk``), global average pool, `classifier`. Keys
/// and shapes equal timm's `densenet121`. The pre-logit features are the pooled `features` output (1024 for
/// DenseNet-121). Its 7×7/2 stem, max pool and three 2×2 average pools need at least 29×29 pixels.
public final class DenseNet: Module, ImageEncoder {
    public let features: DenseNetTrunk
    public let headDropout: Dropout
    public private(set) var classifier: Linear?

    public let architecture: String
    public let inChannels: Int
    public let numFeatures: Int
    public let classifierKeyPrefix = "classifier"

    /// - Parameters:
    ///   - growthRate: channels each dense layer adds (`k`, 32 for DenseNet-121).
    ///   - blockConfig: dense layers per block, (6, 12, 24, 16) for DenseNet-121.
    ///   - bnSize: bottleneck width factor (4).
    ///   - dropRate: dropout before the classifier (timm's `drop_rate`); `projDropRate` after each dense layer.
    public init(growthRate: Int = 32, blockConfig: [Int] = [6, 12, 24, 16], bnSize: Int = 4, numClasses: Int = 1000,
                inChannels: Int = 3, dropRate: Float = 0, projDropRate: Float = 0, architecture: String? = nil,
                initialization: WeightInitialization = .timm) {
        self.architecture = architecture ?? "densenet(k=\(growthRate), \(blockConfig))"
        self.inChannels = inChannels
        features = DenseNetTrunk(inChannels: inChannels, growthRate: growthRate, blockConfig: blockConfig,
                                 bnSize: bnSize, dropRate: projDropRate)
        numFeatures = features.outChannels
        headDropout = Dropout(p: dropRate)
        classifier = numClasses > 0 ? Linear(inFeatures: numFeatures, outFeatures: numClasses) : nil
        super.init()
        guard initialization == .timm else { return }
        // timm: Kaiming-normal (fan-in) convolutions; Linear bias 0.
        for (_, module) in namedModules() {
            if let conv = module as? Conv2d { TimmInit.kaimingNormalFanIn(conv) }
        }
        if let classifier { TimmInit.zeroBias(classifier) }
    }

    public func forwardFeatures(_ input: Tensor) -> Tensor {
        checkInput(input)
        return features(input)
    }

    public func forwardHead(_ features: Tensor, preLogits: Bool) -> Tensor {
        let x = headDropout(features.globalAvgPool2d())
        guard !preLogits, let classifier else { return x }
        return classifier(x)
    }

    public func resetClassifier(numClasses: Int) {
        classifier = freshLinear(numFeatures, numClasses, training: isTraining)
    }

    public func featureMapSize(forInputSize inputSize: Int) -> Int? {
        var size = slidingOutput(inputSize, kernel: 7, stride: 2, padding: 3)
        size = slidingOutput(size, kernel: 3, stride: 2, padding: 1)
        for _ in features.transitions { size = slidingOutput(size, kernel: 2, stride: 2) }
        return size
    }

    /// timm `densenet121`: growth 32, blocks (6, 12, 24, 16), 8.0M parameters with 1000 classes.
    public static func densenet121(numClasses: Int = 1000, dropRate: Float = 0,
                                   initialization: WeightInitialization = .timm) -> DenseNet {
        DenseNet(growthRate: 32, blockConfig: [6, 12, 24, 16], numClasses: numClasses, dropRate: dropRate,
                 architecture: "densenet121", initialization: initialization)
    }
}
