import MedIO
import MedTensor

/// Something that updates parameters from their gradients.
public protocol Optimizer: AnyObject {
    /// The parameters it updates, in a fixed order (the order state is saved in).
    var parameters: [Parameter] { get }
    /// The learning rate of the next step; schedules set it.
    var learningRate: Float { get set }
    /// One update from the gradients the last backward passes accumulated. Parameters without a gradient
    /// are skipped, as PyTorch does.
    func step()
    /// Per-parameter state (moment buffers, step counts) by name, for checkpoints.
    func stateDict() -> [(key: String, array: TypedArray)]
    /// Restores ``stateDict()``'s output; throws when it does not fit these parameters.
    func loadStateDict(_ entries: [(key: String, array: TypedArray)]) throws
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGrad() { for parameter in parameters { parameter.zeroGrad() } }
}

/// Scales all gradients so that their joint L2 norm is at most `maxNorm` (PyTorch's
/// `clip_grad_norm_`: factor maxNorm / (norm + 1e-6), capped at 1). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    let gradients = parameters.compactMap(\.grad)
    let total = gradients.reduce(0.0) { sum, gradient in sum + gradient.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } }
    let norm = Float(total.squareRoot())
    let factor = Swift.min(maxNorm / (norm + 1e-6), 1)
    if factor < 1 {
        for parameter in parameters { if let gradient = parameter.grad { parameter.value.grad = gradient * factor } }
    }
    return norm
}

/// Per-parameter Float32 buffers kept by an optimizer, saved as `state.{index}.{name}`.
struct OptimizerState {
    var buffers: [[String: [Float]]]
    var steps: [Int]

    init(count: Int) {
        buffers = Array(repeating: [:], count: count)
        steps = Array(repeating: 0, count: count)
    }

    func entries(_ parameters: [Parameter]) -> [(key: String, array: TypedArray)] {
        var result: [(String, TypedArray)] = []
        for (index, parameter) in parameters.enumerated() where steps[index] > 0 {
            result.append(("state.\(index).step", TypedArray(int64s: [Int64(steps[index])], shape: [])))
            for name in buffers[index].keys.sorted() {
                result.append(("state.\(index).\(name)", TypedArray(floats: buffers[index][name]!, shape: parameter.shape)))
            }
        }
        return result
    }

    mutating func load(_ entries: [(key: String, array: TypedArray)], parameters: [Parameter], names: Set<String>) throws {
        var fresh = OptimizerState(count: parameters.count)
        for (key, array) in entries {
            let parts = key.split(separator: ".").map(String.init)
            guard parts.count == 3, parts[0] == "state", let index = Int(parts[1]), index >= 0, index < parameters.count else {
                throw OptimizerStateError(message: "unexpected optimizer state key '\(key)'")
            }
            if parts[2] == "step" {
                guard let step = try? array.int64s().first else { throw OptimizerStateError(message: "'\(key)' is not an integer") }
                fresh.steps[index] = Int(step)
            } else {
                guard names.contains(parts[2]) else { throw OptimizerStateError(message: "unexpected optimizer state key '\(key)'") }
                guard array.shape == parameters[index].shape else {
                    throw OptimizerStateError(message: "'\(key)' has shape \(array.shape) but parameter \(index) has \(parameters[index].shape)")
                }
                fresh.buffers[index][parts[2]] = array.floats()
            }
        }
        self = fresh
    }
}

/// Optimizer state that does not fit the optimizer's parameters.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "optimizer state: \(message)" }
}

/// Runs `update(parameterValues, gradient, index)` on each parameter that has a gradient, in place.
func forEachGradient(_ parameters: [Parameter], _ update: (UnsafeMutableBufferPointer<Float>, [Float], Int) -> Void) {
    for (index, parameter) in parameters.enumerated() {
        guard let gradient = parameter.grad else { continue }
        let values = parameter.value
        precondition(values.isContiguous, "optimizer: parameter storage must be contiguous")
        update(UnsafeMutableBufferPointer(start: values.contiguousPointer, count: values.count), gradient.scalars, index)
        parameter.markModified()
    }
}
