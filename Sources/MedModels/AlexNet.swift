import MedLayers
import MedTensor

/// torchvision's `AlexNet` (the paper's AlexNet: `alexnet(weights=AlexNet_Weights.DEFAULT)` with
/// `classifier[6]` replaced by a Linear for the dataset's classes). Keys: `features.N`, `classifier.N` as
/// torchvision's `nn.Sequential` indices:
///
///     features:   0 conv 11×11/4, 1 ReLU, 2 max 3/2, 3 conv 5×5, 4 ReLU, 5 max 3/2,
///                 6 conv 3×3, 7 ReLU, 8 conv 3×3, 9 ReLU, 10 conv 3×3, 11 ReLU, 12 max 3/2
///     avgpool:    adaptive average pool to 6×6
///     classifier: 0 dropout, 1 Linear 9216→4096, 2 ReLU, 3 dropout, 4 Linear, 5 ReLU, 6 Linear → classes
///
/// The pre-logit features (the paper's kNN feature) are `classifier[0…5]`'s output, after the ReLU. Three
/// unpadded 3/2 max pools need at least 63×63 pixels: 28-pixel images must be padded (the paper pads to 224).
public final class AlexNet: Module, ImageEncoder {
    public let features: Sequential
    public let avgpool: AdaptiveAvgPool2d
    /// torchvision's `classifier` (7 layers; index 6 is ``classifier``, or Identity without classes).
    public let classifierLayers: Sequential

    public let architecture = "alexnet"
    public let inChannels: Int
    public let numFeatures: Int
    public let classifierKeyPrefix = "classifier.6"
    public var classifier: Linear? { classifierLayers[6] as? Linear }

    public override var keyOverrides: [String: String] { ["classifierLayers": "classifier"] }

    /// - Parameters:
    ///   - widths: output channels of the five convolutions, torchvision's (64, 192, 384, 256, 256).
    ///   - hiddenSize: width of the two hidden Linear layers (4096).
    ///   - dropout: torchvision's `dropout` (0.5), active in training only.
    public init(numClasses: Int = 1000, inChannels: Int = 3, widths: [Int] = [64, 192, 384, 256, 256],
                hiddenSize: Int = 4096, dropout: Float = 0.5) {
        precondition(widths.count == 5, "AlexNet: five convolution widths expected, got \(widths)")
        self.inChannels = inChannels
        features = Sequential(
            Conv2d(inChannels: inChannels, outChannels: widths[0], kernelSize: 11, stride: 4, padding: 2), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(inChannels: widths[0], outChannels: widths[1], kernelSize: 5, padding: 2), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(inChannels: widths[1], outChannels: widths[2], kernelSize: 3, padding: 1), ReLU(),
            Conv2d(inChannels: widths[2], outChannels: widths[3], kernelSize: 3, padding: 1), ReLU(),
            Conv2d(inChannels: widths[3], outChannels: widths[4], kernelSize: 3, padding: 1), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2))
        avgpool = AdaptiveAvgPool2d(outputSize: 6)
        classifierLayers = Sequential(
            Dropout(p: dropout),
            Linear(inFeatures: widths[4] * 36, outFeatures: hiddenSize), ReLU(),
            Dropout(p: dropout),
            Linear(inFeatures: hiddenSize, outFeatures: hiddenSize), ReLU(),
            numClasses > 0 ? Linear(inFeatures: hiddenSize, outFeatures: numClasses) : Identity())
        numFeatures = hiddenSize
        super.init()
    }

    public func forwardFeatures(_ input: Tensor) -> Tensor {
        checkInput(input)
        return features(input)
    }

    public func forwardHead(_ features: Tensor, preLogits: Bool) -> Tensor {
        var x = avgpool(features).flattened(from: 1)
        for index in 0..<6 { x = classifierLayers[index](x) }
        return preLogits ? x : classifierLayers[6](x)
    }

    public func resetClassifier(numClasses: Int) {
        let layer: any UnaryLayer = freshLinear(numFeatures, numClasses, training: isTraining) ?? Identity()
        classifierLayers.replace(at: 6, with: layer)
    }

    public func featureMapSize(forInputSize inputSize: Int) -> Int? {
        var size = slidingOutput(inputSize, kernel: 11, stride: 4, padding: 2)
        size = slidingOutput(size, kernel: 3, stride: 2)
        size = slidingOutput(size, kernel: 3, stride: 2)
        return slidingOutput(size, kernel: 3, stride: 2)
    }

    /// torchvision `alexnet` (61.1M parameters with 1000 classes).
    public static func alexnet(numClasses: Int = 1000, dropout: Float = 0.5) -> AlexNet {
        AlexNet(numClasses: numClasses, dropout: dropout)
    }
}
