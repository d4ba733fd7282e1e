import Testing
@testable import MedTensor

/// Finite-difference gradient checking.
///
/// The scalar checked is L = Σ w ⊙ f(x) with fixed random weights w, summed in Float64 from the Float32
/// outputs (so the sum adds no rounding of its own). Each checked element gets the central difference
/// (L(x+h) − L(x−h)) / 2h, again in Float64. With h = 1e-2 and inputs of order 1, the Float32 forward
/// pass limits the difference to about 1e-4 relative; the default tolerance, 5e-3 of the largest gradient
/// magnitude (or absolute 5e-3 when all are below 1), leaves room for that and for curvature.
struct GradientCheck {
    var step: Float = 1e-2
    var tolerance: Double = 5e-3
    /// At most this many elements per input are perturbed (chosen at random), to keep big ops quick.
    var maxElementsPerInput = 48
    var seed: UInt64 = 1

    /// Largest error over all inputs, relative to max(1, largest |gradient|).
    @discardableResult
    func run(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) -> Double {
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

/// A seeded tensor of uniform values, for tests.
func randomTensor(_ shape: [Int], low: Float = -1, high: Float = 1, seed: UInt64 = 7) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, generator: &generator)
}

/// max |a − b| / max(|b|), the library's relative error.
func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) elements")
    let scale = b.map { abs(Double($0)) }.max() ?? 0
    let diff = zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return scale == 0 ? diff : diff / scale
}
