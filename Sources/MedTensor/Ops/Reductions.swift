import CMedKernels

extension Tensor {
    /// The tensor rearranged as rows to reduce: kept axes first (in order), reduced axes last, contiguous.
    /// Returns the rows, their count and length, and the shape of the result with and without kept dims.
    private func reductionRows(_ axes: [Int]) -> (rows: Tensor, count: Int, length: Int, keptShape: [Int], squeezedShape: [Int]) {
        let reduced = Set(axes.map { normalizedAxis($0, rank: rank) })
        let kept = (0..<rank).filter { !reduced.contains($0) }
        let order = kept + reduced.sorted()
        let rows = detached().permuted(order).contiguous()
        let length = reduced.reduce(1) { $0 * shape[$1] }
        let keptShape = (0..<rank).map { reduced.contains($0) ? 1 : shape[$0] }
        return (rows, kept.reduce(1) { $0 * shape[$1] }, length, keptShape, kept.map { shape[$0] })
    }

    /// Applies `reduce(rowPointer, length) -> value` to each row, in parallel.
    private func reduceRows(_ axes: [Int], keepDims: Bool, _ reduce: @escaping (UnsafePointer<Float>, Int) -> Float) -> Tensor {
        let (rows, count, length, keptShape, squeezedShape) = reductionRows(axes)
        let result = Tensor.uninitialized(keepDims ? keptShape : squeezedShape)
        let source = SendablePointer(rows.contiguousPointer), target = SendablePointer(result.storage.pointer)
        Parallel.forEachRange(count, grain: Swift.max(1, 16_384 / Swift.max(length, 1))) { range in
            for row in range { target.pointer[row] = reduce(source.pointer + row * length, length) }
        }
        return result
    }

    // MARK: sum and mean

    /// Sum over `axes` (an empty list reduces nothing).
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        if axes.isEmpty { return self }
        let original = shape
        let reduced = Set(axes.map { normalizedAxis($0, rank: rank) })
        let keptShape = (0..<rank).map { reduced.contains($0) ? 1 : shape[$0] }
        let leading = reduced.count < rank && reduced == Set(0..<reduced.count) && isContiguous
        let result = leading ? sumOfLeadingAxes(reduced.count, keepDims: keepDims)
                             : reduceRows(axes, keepDims: keepDims) { mk_sum($0, $1) }
        return Tensor.record(result, "sum", inputs: [self]) { g in [g.reshaped(keptShape).expanded(to: original)] }
    }

    /// The sum over the first `count` axes of this contiguous tensor: the column sums of a rows × columns
    /// matrix (a bias gradient: dY summed over every token or image), without the transposed copy the
    /// general path makes. Columns are split across threads; each is summed in blocks of 128 rows in Float32,
    /// the block totals in Float64, so the result does not depend on the thread count.
    private func sumOfLeadingAxes(_ count: Int, keepDims: Bool) -> Tensor {
        let rows = shape.prefix(count).reduce(1, *), columns = shape.dropFirst(count).reduce(1, *)
        let result = Tensor.uninitialized(keepDims ? Array(repeating: 1, count: count) + shape.dropFirst(count)
                                                   : Array(shape.dropFirst(count)))
        let x = SendablePointer(contiguousPointer), y = SendablePointer(result.storage.pointer)
        let blocks = (columns + 15) / 16
        Parallel.forEachRange(blocks, grain: Swift.max(1, 65_536 / Swift.max(1, rows * 16))) { range in
            let j0 = range.lowerBound * 16, j1 = Swift.min(columns, range.upperBound * 16), width = j1 - j0
            let partial = UnsafeMutablePointer<Float>.allocate(capacity: width)
            let total = UnsafeMutablePointer<Double>.allocate(capacity: width)
            defer { partial.deallocate(); total.deallocate() }
            total.initialize(repeating: 0, count: width)
            for start in stride(from: 0, to: rows, by: 128) {
                partial.initialize(repeating: 0, count: width)
                for i in start..<Swift.min(rows, start + 128) {
                    let row = x.pointer + i * columns + j0
                    for j in 0..<width { partial[j] += row[j] }
                }
                for j in 0..<width { total[j] += Double(partial[j]) }
            }
            for j in 0..<width { y.pointer[j0 + j] = Float(total[j]) }
        }
        withExtendedLifetime(self) {}
        return result
    }

    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }
    /// Sum of every element, as a 0-dimensional tensor.
    public func sum() -> Tensor { sum(axes: Array(0..<rank)) }

    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let length = Set(axes.map { normalizedAxis($0, rank: rank) }).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) / Float(length)
    }

    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }
    public func mean() -> Tensor { mean(axes: Array(0..<rank)) }

    /// Variance over `axes` with Bessel's `correction` (1 = unbiased, PyTorch's default; 0 = biased).
    public func variance(axes: [Int], correction: Int = 1, keepDims: Bool = false) -> Tensor {
        let length = Set(axes.map { normalizedAxis($0, rank: rank) }).reduce(1) { $0 * shape[$1] }
        let centered = self - mean(axes: axes, keepDims: true)
        return centered.square().sum(axes: axes, keepDims: keepDims) / Float(Swift.max(length - correction, 0))
    }

    public func variance(axis: Int, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        variance(axes: [axis], correction: correction, keepDims: keepDims)
    }

    // MARK: max, min, arg

    /// Largest value along `axis` and the first index where it occurs (NaN counts as largest), as
    /// `torch.max(x, dim)`. The gradient flows to that index.
    public func max(axis: Int, keepDims: Bool = false) -> (values: Tensor, indices: IndexTensor) {
        extreme(axis: axis, keepDims: keepDims, wantMax: true)
    }

    /// Smallest value along `axis` and the first index where it occurs, as `torch.min(x, dim)`.
    public func min(axis: Int, keepDims: Bool = false) -> (values: Tensor, indices: IndexTensor) {
        extreme(axis: axis, keepDims: keepDims, wantMax: false)
    }

    public func argmax(axis: Int, keepDims: Bool = false) -> IndexTensor { self.max(axis: axis, keepDims: keepDims).indices }
    public func argmin(axis: Int, keepDims: Bool = false) -> IndexTensor { self.min(axis: axis, keepDims: keepDims).indices }

    /// Largest element (NaN if any); the gradient flows to its first occurrence.
    public func max() -> Tensor { flattened().max(axis: 0).values }
    /// Smallest element (NaN if any); the gradient flows to its first occurrence.
    public func min() -> Tensor { flattened().min(axis: 0).values }

    private func extreme(axis: Int, keepDims: Bool, wantMax: Bool) -> (values: Tensor, indices: IndexTensor) {
        let axis = normalizedAxis(axis, rank: rank)
        precondition(shape[axis] > 0, "\(wantMax ? "max" : "min"): axis \(axis) is empty")
        let (rows, count, length, keptShape, squeezedShape) = reductionRows([axis])
        let values = Tensor.uninitialized(keepDims ? keptShape : squeezedShape)
        var indices = [Int](repeating: 0, count: count)
        let source = SendablePointer(rows.contiguousPointer), target = SendablePointer(values.storage.pointer)
        indices.withUnsafeMutableBufferPointer { buffer in
            let found = SendablePointer(buffer.baseAddress!)
            Parallel.forEachRange(count, grain: Swift.max(1, 16_384 / length)) { range in
                for row in range {
                    var index = 0
                    target.pointer[row] = wantMax ? mk_max_index(source.pointer + row * length, length, &index)
                                                  : mk_min_index(source.pointer + row * length, length, &index)
                    found.pointer[row] = index
                }
            }
        }
        let indexTensor = IndexTensor(shape: values.shape, values: indices)
        let original = shape
        let recorded = Tensor.record(values, wantMax ? "max" : "min", inputs: [self]) { g in
            [Tensor.scatter(g.reshaped(keptShape), into: original, axis: axis, indices: indices)]
        }
        return (recorded, indexTensor)
    }

    /// A tensor of `shape`, zero except that `values` (shape with `axis` of size 1) are added at
    /// `indices` along `axis` (one index per position of `values`).
    static func scatter(_ values: Tensor, into shape: [Int], axis: Int, indices: [Int]) -> Tensor {
        let result = Tensor.zeros(shape)
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *), size = shape[axis]
        let source = values.contiguousData()
        let out = result.storage.pointer
        for o in 0..<outer {
            for i in 0..<inner {
                let position = o * inner + i
                out[(o * size + indices[position]) * inner + i] += source.pointer[position]
            }
        }
        withExtendedLifetime(source.owner) {}
        return result
    }

    /// log Σ exp over `axes`, computed stably (the maximum is subtracted first).
    public func logsumexp(axes: [Int], keepDims: Bool = false) -> Tensor {
        let peak = reduceRows(axes, keepDims: true) { row, length in mk_max_index(row, length, nil) }
        // An all -inf (or inf) row would give inf - inf = NaN; shift by 0 there, as PyTorch does.
        let shift = Tensor.where(peak.abs().eq(.infinity), Tensor(0), peak)
        let result = (self - shift).exp().sum(axes: axes, keepDims: true).log() + shift
        return keepDims ? result : result.squeezedAxes(axes)
    }

    public func logsumexp(axis: Int, keepDims: Bool = false) -> Tensor { logsumexp(axes: [axis], keepDims: keepDims) }

    /// Removes the given size-1 axes.
    func squeezedAxes(_ axes: [Int]) -> Tensor {
        let removed = Set(axes.map { normalizedAxis($0, rank: rank) })
        return reshaped((0..<rank).filter { !removed.contains($0) }.map { shape[$0] })
    }

    // MARK: softmax

    /// exp(x) / Σ exp(x) along `axis`.
    public func softmax(axis: Int = -1) -> Tensor {
        let x = detached()
        let shifted = x - x.max(axis: axis, keepDims: true).values
        let e = shifted.exp()
        let y = e / e.sum(axis: axis, keepDims: true)
        return Tensor.record(y, "softmax", inputs: [self]) { g in
            [y * (g - (g * y).sum(axis: axis, keepDims: true))]
        }
    }

    /// log(softmax(x)) along `axis`, computed without forming the softmax.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let x = detached()
        let y = x - x.logsumexp(axis: axis, keepDims: true)
        return Tensor.record(y, "log_softmax", inputs: [self]) { g in
            [g - y.exp() * g.sum(axis: axis, keepDims: true)]
        }
    }
}
