import MedLayers
import MedTensor

/// timm's `DepthwiseSeparableConv` (EfficientNet's first stage, `ds_…`): depthwise conv, BN+SiLU, squeeze-excite,
/// pointwise conv, BN (no activation), residual when the shape is unchanged.
public final class DepthwiseSeparableConv: Module, UnaryLayer {
    public let convDw: Conv2d
    public let bn1: BatchNorm2d
    public let se: SqueezeExcite?
    public let convPw: Conv2d
    public let bn2: BatchNorm2d
    public let dropPath: DropPath
    public let hasSkip: Bool

    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, seRatio: Double, dropPath: Float = 0) {
        convDw = Conv2d(inChannels: inChannels, outChannels: inChannels, kernelSize: Size2(kernelSize), stride: Size2(stride),
                        padding: Size2(timmPadding(kernel: kernelSize, stride: stride)), groups: inChannels, bias: false)
        bn1 = BatchNorm2d(inChannels)
        se = seRatio > 0 ? SqueezeExcite(channels: inChannels, reducedChannels: pythonRound(Double(inChannels) * seRatio)) : nil
        convPw = Conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: 1, bias: false)
        bn2 = BatchNorm2d(outChannels)
        self.dropPath = DropPath(p: dropPath)
        hasSkip = stride == 1 && inChannels == outChannels
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = convBatchNorm(convDw, bn1, input).silu()
        if let se { x = se(x) }
        x = convBatchNorm(convPw, bn2, x)
        return hasSkip ? dropPath(x) + input : x
    }
}

/// timm's `InvertedResidual` (MBConv, `ir_…`): 1×1 expansion, BN+SiLU, depthwise conv, BN+SiLU, squeeze-excite,
/// 1×1 projection, BN, residual when the shape is unchanged.
public final class InvertedResidual: Module, UnaryLayer {
    public let convPw: Conv2d
    public let bn1: BatchNorm2d
    public let convDw: Conv2d
    public let bn2: BatchNorm2d
    public let se: SqueezeExcite?
    public let convPwl: Conv2d
    public let bn3: BatchNorm2d
    public let dropPath: DropPath
    public let hasSkip: Bool

    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, expansion: Double, seRatio: Double, dropPath: Float = 0) {
        let mid = makeDivisible(Double(inChannels) * expansion)
        convPw = Conv2d(inChannels: inChannels, outChannels: mid, kernelSize: 1, bias: false)
        bn1 = BatchNorm2d(mid)
        convDw = Conv2d(inChannels: mid, outChannels: mid, kernelSize: Size2(kernelSize), stride: Size2(stride),
                        padding: Size2(timmPadding(kernel: kernelSize, stride: stride)), groups: mid, bias: false)
        bn2 = BatchNorm2d(mid)
        // timm's builder divides the ratio by the expansion (se_from_exp=False), then rounds mid·ratio.
        se = seRatio > 0 ? SqueezeExcite(channels: mid, reducedChannels: pythonRound(Double(mid) * (seRatio / expansion))) : nil
        convPwl = Conv2d(inChannels: mid, outChannels: outChannels, kernelSize: 1, bias: false)
        bn3 = BatchNorm2d(outChannels)
        self.dropPath = DropPath(p: dropPath)
        hasSkip = stride == 1 && inChannels == outChannels
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = convBatchNorm(convPw, bn1, input).silu()
        x = convBatchNorm(convDw, bn2, x).silu()
        if let se { x = se(x) }
        x = convBatchNorm(convPwl, bn3, x)
        return hasSkip ? dropPath(x) + input : x
    }
}

/// timm's `EfficientNet` as `_gen_efficientnet` builds it: `conv_stem`, `bn1`, `blocks.i.j`, `conv_head`, `bn2`,
/// global pool, `classifier`; SiLU throughout, PyTorch-style symmetric padding, BatchNorm eps 1e-5. Channels
/// scale by `channelMultiplier` (rounded to multiples of 8 as timm's `round_channels`) and stage depths by
/// `depthMultiplier` (ceil). Keys and shapes equal timm's `efficientnet_b0` / `efficientnet_b4`. Every layer is
/// padded, so any input size works (28×28 gives a 1×1 final map).
public final class EfficientNet: Module, ImageEncoder {
    /// One stage of timm's `arch_def`: `ds_r1_k3_s1_e1_c16_se0.25` etc.
    public struct Stage: Sendable {
        public var depthwiseSeparable: Bool
        public var repeats: Int, kernelSize: Int, stride: Int
        public var expansion: Double, outChannels: Int, seRatio: Double
    }

    /// `_gen_efficientnet`'s seven stages.
    public static let baseStages: [Stage] = [
        Stage(depthwiseSeparable: true, repeats: 1, kernelSize: 3, stride: 1, expansion: 1, outChannels: 16, seRatio: 0.25),
        Stage(depthwiseSeparable: false, repeats: 2, kernelSize: 3, stride: 2, expansion: 6, outChannels: 24, seRatio: 0.25),
        Stage(depthwiseSeparable: false, repeats: 2, kernelSize: 5, stride: 2, expansion: 6, outChannels: 40, seRatio: 0.25),
        Stage(depthwiseSeparable: false, repeats: 3, kernelSize: 3, stride: 2, expansion: 6, outChannels: 80, seRatio: 0.25),
        Stage(depthwiseSeparable: false, repeats: 3, kernelSize: 5, stride: 1, expansion: 6, outChannels: 112, seRatio: 0.25),
        Stage(depthwiseSeparable: false, repeats: 4, kernelSize: 5, stride: 2, expansion: 6, outChannels: 192, seRatio: 0.25),
        Stage(depthwiseSeparable: false, repeats: 1, kernelSize: 3, stride: 1, expansion: 6, outChannels: 320, seRatio: 0.25),
    ]

    public let convStem: Conv2d
    public let bn1: BatchNorm2d
    public let blocks: Sequential
    public let convHead: Conv2d
    public let bn2: BatchNorm2d
    public let headDropout: Dropout
    public private(set) var classifier: Linear?

    public let architecture: String
    public let inChannels: Int
    public let numFeatures: Int
    public let classifierKeyPrefix = "classifier"
    private let strides: [Int]

    /// - Parameters:
    ///   - dropRate: dropout before the classifier (timm default 0; timm trains B0 with 0.2).
    ///   - dropPathRate: stochastic depth, block i of n dropping with `dropPathRate · i / n` (timm's rule).
    public init(channelMultiplier: Double = 1, depthMultiplier: Double = 1, numClasses: Int = 1000, inChannels: Int = 3,
                stages: [Stage] = EfficientNet.baseStages, dropRate: Float = 0, dropPathRate: Float = 0, architecture: String? = nil,
                initialization: WeightInitialization = .timm) {
        self.architecture = architecture ?? "efficientnet(w=\(channelMultiplier), d=\(depthMultiplier))"
        self.inChannels = inChannels
        let roundChannels = { (channels: Int) in makeDivisible(Double(channels) * channelMultiplier) }
        let stem = roundChannels(32)
        convStem = Conv2d(inChannels: inChannels, outChannels: stem, kernelSize: 3, stride: 2, padding: 1, bias: false)
        bn1 = BatchNorm2d(stem)
        let repeats = stages.map { Int((Double($0.repeats) * depthMultiplier).rounded(.up)) }
        let total = repeats.reduce(0, +)
        var channels = stem, index = 0
        var stageModules: [any UnaryLayer] = [], strides: [Int] = []
        for (stage, count) in zip(stages, repeats) {
            var stageBlocks: [any UnaryLayer] = []
            let out = roundChannels(stage.outChannels)
            for repeatIndex in 0..<count {
                let stride = repeatIndex == 0 ? stage.stride : 1
                let rate = dropPathRate * Float(index) / Float(total)
                if stage.depthwiseSeparable {
                    stageBlocks.append(DepthwiseSeparableConv(inChannels: channels, outChannels: out, kernelSize: stage.kernelSize,
                                                              stride: stride, seRatio: stage.seRatio / stage.expansion, dropPath: rate))
                } else {
                    stageBlocks.append(InvertedResidual(inChannels: channels, outChannels: out, kernelSize: stage.kernelSize, stride: stride,
                                                        expansion: stage.expansion, seRatio: stage.seRatio, dropPath: rate))
                }
                strides.append(stride)
                channels = out
                index += 1
            }
            stageModules.append(Sequential(stageBlocks))
        }
        blocks = Sequential(stageModules)
        self.strides = strides
        numFeatures = roundChannels(1280)
        convHead = Conv2d(inChannels: channels, outChannels: numFeatures, kernelSize: 1, bias: false)
        bn2 = BatchNorm2d(numFeatures)
        headDropout = Dropout(p: dropRate)
        classifier = numClasses > 0 ? Linear(inFeatures: numFeatures, outFeatures: numClasses) : nil
        super.init()
        if initialization == .timm { initializeWeights() }
    }

    /// timm's `_init_weight_goog`: convolutions N(0, 2/fan-out) with fan-out = k²·out/groups and zero bias;
    /// the classifier U(±1/√out) with zero bias.
    private func initializeWeights() {
        for (_, module) in namedModules() {
            guard let conv = module as? Conv2d else { continue }
            let s = conv.weight.shape
            conv.weight.reinitialize(Initializer.normal(s, std: (2 / Float(s[0] * s[2] * s[3] / conv.groups)).squareRoot()))
            TimmInit.zeroBias(conv)
        }
        if let classifier {
            classifier.weight.reinitialize(Initializer.uniform(classifier.weight.shape, bound: 1 / Float(classifier.outFeatures).squareRoot()))
            TimmInit.zeroBias(classifier)
        }
    }

    public func forwardFeatures(_ input: Tensor) -> Tensor {
        checkInput(input)
        var x = convBatchNorm(convStem, bn1, input).silu()
        x = blocks(x)
        return convBatchNorm(convHead, bn2, x).silu()
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
        var size = slidingOutput(inputSize, kernel: 3, stride: 2, padding: 1)
        for stride in strides where stride > 1 { size = slidingOutput(size, kernel: 3, stride: stride, padding: 1) }
        return size
    }

    /// timm `efficientnet_b0` (channel ×1.0, depth ×1.0): 5.3M parameters with 1000 classes.
    public static func efficientnetB0(numClasses: Int = 1000, dropRate: Float = 0, dropPathRate: Float = 0,
                                      initialization: WeightInitialization = .timm) -> EfficientNet {
        EfficientNet(channelMultiplier: 1.0, depthMultiplier: 1.0, numClasses: numClasses, dropRate: dropRate,
                     dropPathRate: dropPathRate, architecture: "efficientnet_b0", initialization: initialization)
    }

    /// timm `efficientnet_b4` (channel ×1.4, depth ×1.8): 19.3M parameters with 1000 classes.
    public static func efficientnetB4(numClasses: Int = 1000, dropRate: Float = 0, dropPathRate: Float = 0,
                                      initialization: WeightInitialization = .timm) -> EfficientNet {
        EfficientNet(channelMultiplier: 1.4, depthMultiplier: 1.8, numClasses: numClasses, dropRate: dropRate,
                     dropPathRate: dropPathRate, architecture: "efficientnet_b4", initialization: initialization)
    }
}

/// timm's `make_divisible(v, divisor, round_limit=0.9)`: nearest multiple of `divisor` (at least `divisor`),
/// bumped up one step if that lost more than 10%.
func makeDivisible(_ value: Double, divisor: Int = 8) -> Int {
    var result = max(divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
    if Double(result) < 0.9 * value { result += divisor }
    return result
}

/// Python's `round` on a float: to nearest, ties to even.
func pythonRound(_ value: Double) -> Int { Int(value.rounded(.toNearestOrEven)) }
