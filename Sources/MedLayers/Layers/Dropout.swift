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
        return input * keepMask(input.shape, dropProbability: p)
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
        return input * keepMask([input.shape[0]] + Array(repeating: 1, count: input.rank - 1), dropProbability: p)
    }
}

/// 1/(1−p) with probability 1−p and 0 otherwise, drawn from ``RandomState``: the inverted-dropout mask.
func keepMask(_ shape: [Int], dropProbability p: Float) -> Tensor {
    RandomState.withGenerator { Tensor.uniform(shape, generator: &$0) }.ge(p) * (1 / (1 - p))
}
