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
        forEachGradient(parameters) { theta, gradient, index in
            var g = gradient
            if weightDecay != 0 { for i in 0..<g.count { g[i] += weightDecay * theta[i] } }
            if momentum != 0 {
                var buffer = state.buffers[index]["momentum_buffer"] ?? []
                if buffer.isEmpty {
                    buffer = g
                } else {
                    for i in 0..<g.count { buffer[i] = momentum * buffer[i] + (1 - dampening) * g[i] }
                }
                if nesterov { for i in 0..<g.count { g[i] += momentum * buffer[i] } } else { g = buffer }
                state.buffers[index]["momentum_buffer"] = buffer
            }
            for i in 0..<g.count { theta[i] -= learningRate * g[i] }
            state.steps[index] += 1
        }
    }

    public func stateDict() -> [(key: String, array: TypedArray)] { state.entries(parameters) }

    public func loadStateDict(_ entries: [(key: String, array: TypedArray)]) throws {
        try state.load(entries, parameters: parameters, names: ["momentum_buffer"])
    }
}
