import MedTensor

/// Max pooling (PyTorch's `nn.MaxPool2d`); `ceilMode` rounds the output size up.
public final class MaxPool2d: Module, UnaryLayer {
    public let kernelSize: Size2, stride: Size2, padding: Size2, dilation: Size2, ceilMode: Bool

    public init(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, dilation: Size2 = 1, ceilMode: Bool = false) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.maxPool2dValues(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
}

/// Average pooling (PyTorch's `nn.AvgPool2d`).
public final class AvgPool2d: Module, UnaryLayer {
    public let kernelSize: Size2, stride: Size2, padding: Size2, ceilMode: Bool, countIncludePad: Bool

    public init(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
    }
}

/// Adaptive average pooling to a fixed output size, which may exceed the input (PyTorch's bins).
public final class AdaptiveAvgPool2d: Module, UnaryLayer {
    public let outputSize: Size2

    public init(outputSize: Size2) {
        self.outputSize = outputSize
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { input.adaptiveAvgPool2d(outputSize: outputSize) }
}

/// timm's `SelectAdaptivePool2d` with average pooling and flattening: [N, C, H, W] → [N, C].
public final class GlobalAvgPool: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.globalAvgPool2d() }
}
