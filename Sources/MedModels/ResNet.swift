import MedLayers
import MedTensor

/// timm's `BasicBlock` (ResNet-18/34): two 3×3 convolutions and a residual connection.
public final class BasicBlock: Module, UnaryLayer {
    public static let expansion = 1
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    /// 1×1 strided projection of the shortcut (`downsample.0` conv, `downsample.1` BN) where the shape changes.
    public let downsample: Sequential?
    public let dropPath: DropPath

    public init(inChannels: Int, planes: Int, stride: Int, downsample: Sequential?, dropPath: Float = 0) {
        conv1 = Conv2d(inChannels: inChannels, outChannels: planes, kernelSize: 3, stride: Size2(stride), padding: 1, bias: false)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(inChannels: planes, outChannels: planes * Self.expansion, kernelSize: 3, padding: 1, bias: false)
        bn2 = BatchNorm2d(planes * Self.expansion)
        self.downsample = downsample
        self.dropPath = DropPath(p: dropPath)
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let shortcut = downsample.map { projectShortcut($0, input) } ?? input
        var x = convBatchNorm(conv1, bn1, input).relu()
        x = convBatchNorm(conv2, bn2, x)
        return (dropPath(x) + shortcut).relu()
    }

    /// timm's `zero_init_last`: the residual branch starts as zero.
    func zeroInitLast() { bn2.weight?.reinitialize(.zeros([bn2.channels])) }
}

/// timm's `Bottleneck` (ResNet-50 and deeper): 1×1 reduce, 3×3 (strided), 1×1 expand ×4, residual.
public final class Bottleneck: Module, UnaryLayer {
    public static let expansion = 4
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let conv3: Conv2d
    public let bn3: BatchNorm2d
    public let downsample: Sequential?
    public let dropPath: DropPath

    public init(inChannels: Int, planes: Int, stride: Int, downsample: Sequential?, dropPath: Float = 0) {
        let outChannels = planes * Self.expansion
        conv1 = Conv2d(inChannels: inChannels, outChannels: planes, kernelSize: 1, bias: false)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(inChannels: planes, outChannels: planes, kernelSize: 3, stride: Size2(stride), padding: 1, bias: false)
        bn2 = BatchNorm2d(planes)
        conv3 = Conv2d(inChannels: planes, outChannels: outChannels, kernelSize: 1, bias: false)
        bn3 = BatchNorm2d(outChannels)
        self.downsample = downsample
        self.dropPath = DropPath(p: dropPath)
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let shortcut = downsample.map { projectShortcut($0, input) } ?? input
        var x = convBatchNorm(conv1, bn1, input).relu()
        x = convBatchNorm(conv2, bn2, x).relu()
        x = convBatchNorm(conv3, bn3, x)
        return (dropPath(x) + shortcut).relu()
    }

    func zeroInitLast() { bn3.weight?.reinitialize(.zeros([bn3.channels])) }
}

/// The `downsample` Sequential (conv, BN) applied with the BatchNorm folded in evaluation mode.
private func projectShortcut(_ downsample: Sequential, _ input: Tensor) -> Tensor {
    convBatchNorm(downsample[0] as! Conv2d, downsample[1] as! BatchNorm2d, input)
}

/// timm's `ResNet` with the default ("b", torchvision) stem: 7×7/2 conv, BN, ReLU, 3×3/2 max pool, four stages
/// `layer1…layer4`, global average pool, `fc`. Keys and shapes equal timm's `resnet18` / `resnet50`.
public final class ResNet: Module, ImageEncoder {
    public enum Block: String, Sendable { case basic, bottleneck }

    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let maxpool: MaxPool2d
    public let layer1: Sequential
    public let layer2: Sequential
    public let layer3: Sequential
    public let layer4: Sequential
    public let globalPool: GlobalAvgPool
    public private(set) var fc: Linear?

    public let architecture: String
    public let inChannels: Int
    public let numFeatures: Int
    public let headDropout: Dropout
    public let classifierKeyPrefix = "fc"
    public var classifier: Linear? { fc }

    /// - Parameters:
    ///   - block: `.basic` (ResNet-18/34) or `.bottleneck` (ResNet-50/101/152).
    ///   - layers: blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18, [3, 4, 6, 3] for ResNet-50.
    ///   - channels: `planes` per stage (outputs are planes × expansion); timm's default (64, 128, 256, 512).
    ///   - dropRate: dropout before `fc` in training (timm's `drop_rate`, default 0).
    ///   - dropPathRate: stochastic depth, scaled linearly over the blocks from 0 (timm's rule).
    public init(block: Block, layers: [Int], channels: [Int] = [64, 128, 256, 512], numClasses: Int = 1000,
                inChannels: Int = 3, stemWidth: Int = 64, dropRate: Float = 0, dropPathRate: Float = 0,
                architecture: String? = nil, initialization: WeightInitialization = .timm) {
        precondition(layers.count == 4 && channels.count == 4, "ResNet: four stages expected, got layers \(layers), channels \(channels)")
        self.architecture = architecture ?? "resnet(\(block.rawValue), \(layers))"
        self.inChannels = inChannels
        conv1 = Conv2d(inChannels: inChannels, outChannels: stemWidth, kernelSize: 7, stride: 2, padding: 3, bias: false)
        bn1 = BatchNorm2d(stemWidth)
        maxpool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        let expansion = block == .basic ? BasicBlock.expansion : Bottleneck.expansion
        let totalBlocks = layers.reduce(0, +)
        var inplanes = stemWidth, blockIndex = 0
        var stages: [Sequential] = []
        for (stage, (planes, count)) in zip(channels, layers).enumerated() {
            let stride = stage == 0 ? 1 : 2
            var blocks: [any UnaryLayer] = []
            for index in 0..<count {
                var downsample: Sequential? = nil
                if index == 0 && (stride != 1 || inplanes != planes * expansion) {
                    downsample = Sequential(
                        Conv2d(inChannels: inplanes, outChannels: planes * expansion, kernelSize: 1, stride: Size2(stride), bias: false),
                        BatchNorm2d(planes * expansion))
                }
                let rate = totalBlocks > 1 ? dropPathRate * Float(blockIndex) / Float(totalBlocks - 1) : 0
                let s = index == 0 ? stride : 1
                switch block {
                case .basic: blocks.append(BasicBlock(inChannels: inplanes, planes: planes, stride: s, downsample: downsample, dropPath: rate))
                case .bottleneck: blocks.append(Bottleneck(inChannels: inplanes, planes: planes, stride: s, downsample: downsample, dropPath: rate))
                }
                inplanes = planes * expansion
                blockIndex += 1
            }
            stages.append(Sequential(blocks))
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3])
        globalPool = GlobalAvgPool()
        numFeatures = inplanes
        headDropout = Dropout(p: dropRate)
        fc = numClasses > 0 ? Linear(inFeatures: inplanes, outFeatures: numClasses) : nil
        super.init()
        if initialization == .timm { initializeWeights() }
    }

    /// timm's `init_weights`: Kaiming-normal (fan-out) convolutions, the last BN of each block at zero.
    private func initializeWeights() {
        for (_, module) in namedModules() {
            if let conv = module as? Conv2d { TimmInit.kaimingNormalFanOut(conv) }
            if let block = module as? BasicBlock { block.zeroInitLast() }
            if let block = module as? Bottleneck { block.zeroInitLast() }
        }
    }

    public func forwardFeatures(_ input: Tensor) -> Tensor {
        checkInput(input)
        var x = convBatchNorm(conv1, bn1, input).relu()
        x = maxpool(x)
        x = layer1(x)
        x = layer2(x)
        x = layer3(x)
        return layer4(x)
    }

    public func forwardHead(_ features: Tensor, preLogits: Bool) -> Tensor {
        let x = headDropout(globalPool(features))
        guard !preLogits, let fc else { return x }
        return fc(x)
    }

    public func resetClassifier(numClasses: Int) {
        fc = freshLinear(numFeatures, numClasses, training: isTraining)
    }

    public func featureMapSize(forInputSize inputSize: Int) -> Int? {
        var size = slidingOutput(inputSize, kernel: 7, stride: 2, padding: 3)
        size = slidingOutput(size, kernel: 3, stride: 2, padding: 1)
        for _ in 0..<3 { size = slidingOutput(size, kernel: 3, stride: 2, padding: 1) }
        return size
    }

    // MARK: timm's configurations

    /// timm `resnet18`: BasicBlock × (2, 2, 2, 2), 11.7M parameters with 1000 classes.
    public static func resnet18(numClasses: Int = 1000, dropRate: Float = 0, dropPathRate: Float = 0,
                                initialization: WeightInitialization = .timm) -> ResNet {
        ResNet(block: .basic, layers: [2, 2, 2, 2], numClasses: numClasses, dropRate: dropRate,
               dropPathRate: dropPathRate, architecture: "resnet18", initialization: initialization)
    }

    /// timm `resnet50`: Bottleneck × (3, 4, 6, 3), 25.6M parameters with 1000 classes.
    public static func resnet50(numClasses: Int = 1000, dropRate: Float = 0, dropPathRate: Float = 0,
                                initialization: WeightInitialization = .timm) -> ResNet {
        ResNet(block: .bottleneck, layers: [3, 4, 6, 3], numClasses: numClasses, dropRate: dropRate,
               dropPathRate: dropPathRate, architecture: "resnet50", initialization: initialization)
    }
}
