import MedTensor

/// max(x, 0).
public final class ReLU: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.relu() }
}

/// min(max(x, 0), 6).
public final class ReLU6: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.clamped(min: 0, max: 6) }
}

/// GELU, exact (erf) by default or PyTorch's `approximate='tanh'` form.
public final class GELU: Module, UnaryLayer {
    public let approximateTanh: Bool
    public init(approximateTanh: Bool = false) {
        self.approximateTanh = approximateTanh
        super.init()
    }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.gelu(approximateTanh: approximateTanh) }
}

/// x·σ(1.702x), the GELU approximation of OpenAI's CLIP.
public final class QuickGELU: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input * (input * 1.702).sigmoid() }
}

/// x·σ(x) (also called swish).
public final class SiLU: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.silu() }
}

public final class Sigmoid: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.sigmoid() }
}

public final class Tanh: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.tanh() }
}

/// relu6(x + 3) / 6.
public final class Hardsigmoid: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { (input + 3).clamped(min: 0, max: 6) * (1.0 / 6) }
}

/// x · relu6(x + 3) / 6.
public final class Hardswish: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) -> Tensor { input * ((input + 3).clamped(min: 0, max: 6) * (1.0 / 6)) }
}
