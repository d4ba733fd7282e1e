import MedIO
import MedTensor

/// Stochastic gradient descent with PyTorch's formulas: g ← ∇ + λθ; with momentum μ, b ← μb + (1−τ)g
/// (b ← g on the first step), then g ← g + μb (Nesterov) or g ← b; θ ← θ − lr·g.
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float
    public let dampening: Float
    public let nesterov: Bool
    public let weightDecay: Float
    private var state: OptimizerState

    public init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and zero dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        state = OptimizerState(count: parameters.count)
    }

    public func step() {
        let (lr, mu, tau, decay, nesterov) = (learningRate, momentum, dampening, weightDecay, nesterov)
        state.forEachGradientRange(parameters, buffers: mu != 0 ? ["momentum_buffer"] : []) { slice, range in
            let theta = slice.theta, gradient = slice.gradient
            guard mu != 0 else {
                for i in range { theta[i] -= lr * (decay != 0 ? gradient[i] + decay * theta[i] : gradient[i]) }
                return
            }
            let buffer = slice.buffers[0], fresh = slice.fresh
            for i in range {
                let g = decay != 0 ? gradient[i] + decay * theta[i] : gradient[i]
                buffer[i] = fresh ? g : mu * buffer[i] + (1 - tau) * g
                theta[i] -= lr * (nesterov ? g + mu * buffer[i] : buffer[i])
            }
        }
    }

    public func stateDict() -> [(key: String, array: TypedArray)] { state.entries(parameters) }

    public func loadStateDict(_ entries: [(key: String, array: TypedArray)]) throws {
        try state.load(entries, parameters: parameters, names: ["momentum_buffer"])
    }
}
