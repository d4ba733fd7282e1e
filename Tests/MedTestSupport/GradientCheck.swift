import MedTensor
import Testing

/// Finite-difference gradient checking.
///
/// The scalar checked is L = Σ w ⊙ f(x) with fixed random weights w, summed in Float64 from the Float32
/// outputs (so the sum adds no rounding of its own). Each checked element gets the central difference
/// (L(x+h) − L(x−h)) / 2h, again in Float64. With h = 1e-2 and inputs of order 1, the Float32 forward
/// pass limits the difference to about 1e-4 relative; the default tolerance, 5e-3 of the largest gradient
/// magnitude (or absolute 5e-3 when all are below 1), leaves room for that and for curvature.
/// ```swift
/// GradientCheck().run([randomTensor([3, 4])]) { $0[0].relu() }
/// ```
public struct GradientCheck {
    /// The finite-difference step h.
    public var step: Float
    /// The largest error allowed, relative to max(1, largest |gradient|).
    public var tolerance: Double
    /// At most this many elements per input are perturbed (chosen at random), to keep big ops quick.
    public var maxElementsPerInput: Int
    /// Seeds the weights w and the choice of perturbed elements.
    public var seed: UInt64

    public init(step: Float = 1e-2, tolerance: Double = 5e-3, maxElementsPerInput: Int = 48, seed: UInt64 = 1) {
        self.step = step
        self.tolerance = tolerance
        self.maxElementsPerInput = maxElementsPerInput
        self.seed = seed
    }

    /// Records an issue at `sourceLocation` for every checked element whose autograd gradient differs from the
    /// finite difference by more than ``tolerance``, and returns the largest error over all inputs, relative
    /// to max(1, largest |gradient|).
    @discardableResult
    public func run(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) -> Double {
        var generator = RandomGenerator(seed: seed)
        let leaves = inputs.map { $0.contiguous().detached().requiringGrad() }
        let output = f(leaves)
        let weights = Tensor.uniform(output.shape, low: -1, high: 1, generator: &generator)
        let weightValues = weights.scalars.map(Double.init)
        (output * weights).sum().backward()

        func loss(_ values: [Tensor]) -> Double {
            let out = withoutGrad { f(values) }.scalars
            return zip(out, weightValues).reduce(0.0) { $0 + Double($1.0) * $1.1 }
        }

        var worst = 0.0
        for (index, leaf) in leaves.enumerated() {
            let analytic = leaf.grad?.scalars ?? [Float](repeating: 0, count: leaf.count)
            let base = leaf.scalars
            let positions = leaf.count <= maxElementsPerInput
                ? Array(0..<leaf.count)
                : Array(generator.permutation(leaf.count).prefix(maxElementsPerInput))
            var numeric: [Double] = []
            for position in positions {
                var plus = base, minus = base
                plus[position] += step
                minus[position] -= step
                func with(_ values: [Float]) -> [Tensor] {
                    var all = leaves.map { $0.detached() }
                    all[index] = Tensor(shape: leaf.shape, scalars: values)
                    return all
                }
                let h = Double(plus[position]) - Double(minus[position])
                numeric.append((loss(with(plus)) - loss(with(minus))) / h)
            }
            let scale = max(1, numeric.map { abs($0) }.max() ?? 0)
            for (position, expected) in zip(positions, numeric) {
                let error = abs(Double(analytic[position]) - expected) / scale
                worst = max(worst, error)
                #expect(error <= tolerance,
                        "input \(index) element \(position): autograd \(analytic[position]) vs finite difference \(expected)",
                        sourceLocation: sourceLocation)
            }
        }
        return worst
    }
}
