import Foundation
import MedIO
import MedTensor

/// Adam and AdamW with PyTorch's formulas (single-tensor implementation):
/// m ← m + (1−β₁)(g − m), v ← β₂v + (1−β₂)g², θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε).
/// Adam adds λθ to the gradient (L2); AdamW instead decays θ ← θ(1 − lr·λ) before the update.
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// True for AdamW's decoupled weight decay.
    public let decoupledWeightDecay: Bool
    private var state: OptimizerState

    public init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        state = OptimizerState(count: parameters.count)
    }

    public func step() {
        let (lr, beta1, beta2, epsilon, decay, decoupled) = (learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
        state.forEachGradientRange(parameters, buffers: ["exp_avg", "exp_avg_sq"]) { slice, range in
            let theta = slice.theta, gradient = slice.gradient, m = slice.buffers[0], v = slice.buffers[1]
            let t = Float(slice.step)
            let stepSize = lr / (1 - powf(beta1, t))
            let biasCorrection2Sqrt = (1 - powf(beta2, t)).squareRoot()
            let thetaDecay = 1 - lr * decay
            for i in range {
                var g = gradient[i]
                if decay != 0 {
                    if decoupled { theta[i] *= thetaDecay } else { g += decay * theta[i] }
                }
                m[i] += (1 - beta1) * (g - m[i])
                v[i] = v[i] * beta2 + (1 - beta2) * g * g
                let denominator = v[i].squareRoot() / biasCorrection2Sqrt + epsilon
                theta[i] -= stepSize * (m[i] / denominator)
            }
        }
    }

    public func stateDict() -> [(key: String, array: TypedArray)] { state.entries(parameters) }

    public func loadStateDict(_ entries: [(key: String, array: TypedArray)]) throws {
        try state.load(entries, parameters: parameters, names: ["exp_avg", "exp_avg_sq"])
    }
}

/// AdamW (decoupled weight decay, PyTorch's default λ = 0.01): the optimizer of the MedMNIST+ paper.
public func AdamW(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                  epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
    Adam(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
         weightDecay: weightDecay, decoupledWeightDecay: true)
}

private func powf(_ base: Float, _ exponent: Float) -> Float { Float(Foundation.pow(Double(base), Double(exponent))) }
