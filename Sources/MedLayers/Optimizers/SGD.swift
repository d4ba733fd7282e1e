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
            // 16 lanes at a time (the same operations per element as the loop after it), then one by one.
            var i = range.lowerBound
            while i + 16 <= range.upperBound {
                var g = Lanes.load(gradient + i), th = Lanes.load(UnsafePointer(theta + i))
                if decay != 0 { g = g + decay * th }
                let b = fresh ? g : mu * Lanes.load(UnsafePointer(buffer + i)) + (1 - tau) * g
                th -= lr * (nesterov ? g + mu * b : b)
                Lanes.store(b, buffer + i)
                Lanes.store(th, theta + i)
                i += 16
            }
            for i in i..<range.upperBound {
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
