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

/// One Float32 state buffer of one parameter (a moment estimate, a momentum buffer). A class, so that the
/// optimizer's threads write into it in place without copies.
final class StateBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(1, count))
        pointer.initialize(repeating: 0, count: count)
    }

    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// Per-parameter Float32 buffers kept by an optimizer, saved as `state.{index}.{name}`.
struct OptimizerState {
    var buffers: [[String: StateBuffer]]
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
                result.append(("state.\(index).\(name)", TypedArray(floats: buffers[index][name]!.values, shape: parameter.shape)))
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
                fresh.buffers[index][parts[2]] = StateBuffer(array.floats())
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

/// One parameter's part of an optimizer step: pointers to its values, its gradient and its state buffers
/// (in the order the optimizer named them), and whether the buffers were created for this step.
struct UpdateSlice: @unchecked Sendable {
    let theta: UnsafeMutablePointer<Float>
    let gradient: UnsafePointer<Float>
    let buffers: [UnsafeMutablePointer<Float>]
    let fresh: Bool
    /// The parameter's position in the optimizer's list, and its step count after this step.
    let index: Int
    let step: Int
}

extension OptimizerState {
    /// Runs `update(slice, range)` over every element of every parameter that has a gradient, in place.
    ///
    /// Every parameter's step count is incremented and its buffers `names` are created (zero-filled) when
    /// missing. The elements of all parameters are split into runs of at least 32K spread over the threads (a
    /// run may cover several small parameters): an optimizer's update of one element depends on that element
    /// alone, so the split never changes a value, and a step of ResNet-18 is two parallel passes over its
    /// 11M parameters instead of 62 serial ones.
    mutating func forEachGradientRange(_ parameters: [Parameter], buffers names: [String],
                                       _ update: (UpdateSlice, Range<Int>) -> Void) {
        var slices: [UpdateSlice] = [], starts: [Int] = [], keep: [Tensor] = [], total = 0
        for (index, parameter) in parameters.enumerated() {
            guard let gradient = parameter.grad else { continue }
            let values = parameter.value
            precondition(values.isContiguous, "optimizer: parameter storage must be contiguous")
            let contiguousGradient = gradient.isContiguous ? gradient : gradient.contiguous()
            keep.append(contiguousGradient)
            let fresh = names.contains { buffers[index][$0] == nil }
            for name in names where buffers[index][name] == nil { buffers[index][name] = StateBuffer(count: values.count) }
            steps[index] += 1
            slices.append(UpdateSlice(theta: values.contiguousPointer, gradient: contiguousGradient.contiguousPointer,
                                      buffers: names.map { buffers[index][$0]!.pointer }, fresh: fresh, index: index,
                                      step: steps[index]))
            starts.append(total)
            total += values.count
            parameter.markModified()
        }
        Parallel.forEachRange(total, grain: 32_768) { range in
            // The first slice that ends after range.lowerBound, then each slice the range overlaps.
            var low = 0, high = starts.count
            while high - low > 1 {
                let middle = (low + high) / 2
                if starts[middle] <= range.lowerBound { low = middle } else { high = middle }
            }
            var s = low
            while s < slices.count, starts[s] < range.upperBound {
                let start = starts[s], count = (s + 1 < starts.count ? starts[s + 1] : total) - start
                let from = Swift.max(range.lowerBound, start) - start, to = Swift.min(range.upperBound, start + count) - start
                if from < to { update(slices[s], from..<to) }
                s += 1
            }
        }
        withExtendedLifetime(keep) {}  // the gradients made contiguous above
    }
}

/// 16 floats as one vector, for the optimizers' element loops.
enum Lanes {
    typealias Vector = SIMD16<Float>
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }
    @inline(__always) static func store(_ value: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: value, as: Vector.self)
    }
}
