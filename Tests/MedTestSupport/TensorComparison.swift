import MedTensor

/// A tensor of uniform values in `low..<high`, the same for the same `seed`: tests stay reproducible
/// without hand-written data.
public func randomTensor(_ shape: [Int], low: Float = -1, high: Float = 1, seed: UInt64 = 7) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, generator: &generator)
}

/// max |x − y| / max |y|, the relative error the tests compare against references (PyTorch fixtures,
/// other kernels); the absolute difference when `y` is all zeros. Computed in Float64.
public func relativeError(_ x: [Float], _ y: [Float]) -> Double {
    precondition(x.count == y.count, "relativeError: \(x.count) and \(y.count) values")
    let scale = y.map { abs(Double($0)) }.max() ?? 0
    let difference = zip(x, y).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return scale == 0 ? difference : difference / scale
}

/// ``relativeError(_:_:)-([Float],[Float])`` of two tensors of the same shape.
public func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "relativeError: shapes \(a.shape) and \(b.shape) differ")
    return relativeError(a.scalars, b.scalars)
}
