import MedTensor

/// Zeroes each element with probability `p` in training and scales the rest by 1/(1−p); the identity
/// in evaluation mode or when p = 0.
public final class Dropout: Module, UnaryLayer {
    public let p: Float

    public init(p: Float = 0.5) {
        precondition(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got \(p)")
        self.p = p
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTraining, p > 0 else { return input }
        let mask = RandomState.withGenerator { Tensor.uniform(input.shape, generator: &$0) }.ge(p)
        return input * (mask * (1 / (1 - p)))
    }
}

/// Stochastic depth (timm's `DropPath`): drops a whole residual branch per sample with probability `p`
/// in training, scaling kept samples by 1/(1−p).
public final class DropPath: Module, UnaryLayer {
    public let p: Float

    public init(p: Float = 0) {
        precondition(p >= 0 && p < 1, "DropPath: p must be in [0, 1), got \(p)")
        self.p = p
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTraining, p > 0 else { return input }
        let maskShape = [input.shape[0]] + Array(repeating: 1, count: input.rank - 1)
        let keep = RandomState.withGenerator { Tensor.uniform(maskShape, generator: &$0) }.ge(p)
        return input * (keep * (1 / (1 - p)))
    }
}
