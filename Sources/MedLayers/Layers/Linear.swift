import MedTensor

/// y = x·Wᵀ + b over the last axis, with PyTorch's `nn.Linear` weights ([out, in]) and initialisation.
public final class Linear: Module, UnaryLayer {
    public let weight: Parameter
    public let bias: Parameter?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        weight = Parameter(Initializer.kaimingUniformDefault([outFeatures, inFeatures], fanIn: inFeatures))
        self.bias = bias ? Parameter(Initializer.uniform([outFeatures], bound: 1 / Float(max(inFeatures, 1)).squareRoot())) : nil
        super.init()
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.shape.last == inFeatures, "Linear: input \(input.shape) does not end in \(inFeatures) features")
        // The weight is read with GEMM's transpose flag, and the bias added in the GEMM's store.
        return input.linear(weight: weight.value, bias: bias?.value)
    }
}

/// Returns its input.
public final class Identity: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input }
}

/// Flattens axes `startAxis...endAxis` (PyTorch's `nn.Flatten`, default from axis 1).
public final class Flatten: Module, UnaryLayer {
    public let startAxis: Int
    public let endAxis: Int

    public init(startAxis: Int = 1, endAxis: Int = -1) {
        self.startAxis = startAxis
        self.endAxis = endAxis
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { input.flattened(from: startAxis, to: endAxis) }
}
