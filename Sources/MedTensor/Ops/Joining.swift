/// Joining, splitting, indexing and padding.
extension Tensor {
    /// Tensors joined along an existing `axis`; all other axes must agree (as `torch.cat`).
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0]
        let axis = normalizedAxis(axis, rank: first.rank)
        for tensor in tensors {
            precondition(tensor.rank == first.rank && (0..<first.rank).allSatisfy { $0 == axis || tensor.shape[$0] == first.shape[$0] },
                         "concatenate: shape \(tensor.shape) does not match \(first.shape) outside axis \(axis)")
        }
        var shape = first.shape
        shape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let result = Tensor.uninitialized(shape)
        var starts: [Int] = []
        var start = 0
        for tensor in tensors {
            starts.append(start)
            result.narrowed(axis: axis, start: start, length: tensor.shape[axis]).assign(tensor.detached())
            start += tensor.shape[axis]
        }
        let sizes = tensors.map { $0.shape[axis] }
        return record(result, "cat", inputs: tensors) { g in
            zip(starts, sizes).map { g.narrowed(axis: axis, start: $0, length: $1) }
        }
    }

    /// Tensors of one shape stacked along a new `axis` (as `torch.stack`).
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors")
        return concatenate(tensors.map { $0.unsqueezed(axis: axis) }, axis: axis)
    }

    /// Views of consecutive pieces along `axis` with the given sizes (as `torch.split` with a list).
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let axis = normalizedAxis(axis, rank: rank)
        precondition(sizes.reduce(0, +) == shape[axis], "split: sizes \(sizes) do not add up to \(shape[axis])")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return narrowed(axis: axis, start: start, length: size)
        }
    }

    /// `count` nearly equal pieces along `axis` (as `torch.chunk`: the last may be smaller).
    public func chunked(_ count: Int, axis: Int = 0) -> [Tensor] {
        let size = shape[normalizedAxis(axis, rank: rank)]
        let piece = (size + count - 1) / count
        return split(sizes: stride(from: 0, to: size, by: Swift.max(piece, 1)).map { Swift.min(piece, size - $0) }, axis: axis)
    }

    /// Rows (slices along `axis`) picked by `indices`, in that order, repeats allowed (as `index_select`).
    public func indexSelect(axis: Int, indices: [Int]) -> Tensor {
        let axis = normalizedAxis(axis, rank: rank)
        let size = shape[axis]
        for index in indices { precondition(index >= 0 && index < size, "indexSelect: index \(index) out of range for size \(size)") }
        let parts = indices.map { narrowed(axis: axis, start: $0, length: 1).detached() }
        var shape = self.shape
        shape[axis] = indices.count
        let result = parts.isEmpty ? Tensor.zeros(shape) : Tensor.concatenate(parts, axis: axis)
        let original = self.shape
        return Tensor.record(result, "index_select", inputs: [self]) { g in
            let full = Tensor.zeros(original)
            for (position, index) in indices.enumerated() {
                let target = full.narrowed(axis: axis, start: index, length: 1)
                target.assign(target + g.narrowed(axis: axis, start: position, length: 1))
            }
            return [full]
        }
    }

    /// `out[…, i, …] = self[…, index[…, i, …], …]` along `axis` (as `torch.gather`); `index` has this
    /// tensor's rank and no larger size on any other axis.
    public func gather(axis: Int, index: IndexTensor) -> Tensor {
        let axis = normalizedAxis(axis, rank: rank)
        precondition(index.shape.count == rank, "gather: index rank \(index.shape.count) differs from \(rank)")
        for d in 0..<rank where d != axis {
            precondition(index.shape[d] <= shape[d], "gather: index size \(index.shape[d]) exceeds \(shape[d]) on axis \(d)")
        }
        let size = shape[axis]
        let source = detached()
        let indexStrides = Layout.contiguousStrides(for: index.shape)
        // Storage position in `self` of each element of the result.
        var positions = [Int](repeating: 0, count: index.count)
        for flat in 0..<index.count {
            var remainder = flat, position = layout.offset
            for d in 0..<rank {
                let coordinate = remainder / indexStrides[d]
                remainder %= indexStrides[d]
                let value = d == axis ? index.values[flat] : coordinate
                precondition(d != axis || (value >= 0 && value < size), "gather: index \(value) out of range for size \(size)")
                position += value * strides[d]
            }
            positions[flat] = position
        }
        let values = positions.map { source.storage.pointer[$0] }
        let result = Tensor(shape: index.shape, scalars: values)
        let original = shape
        return Tensor.record(result, "gather", inputs: [self]) { g in
            // Scatter-add into a contiguous tensor of the input's shape.
            let full = Tensor.zeros(original)
            let contiguousStrides = Layout.contiguousStrides(for: original)
            let gradient = g.scalars
            for flat in 0..<index.count {
                var remainder = flat, position = 0
                for d in 0..<original.count {
                    let coordinate = remainder / indexStrides[d]
                    remainder %= indexStrides[d]
                    position += (d == axis ? index.values[flat] : coordinate) * contiguousStrides[d]
                }
                full.storage.pointer[position] += gradient[flat]
            }
            return [full]
        }
    }

    /// Padded with `value`: `padding[i]` is (before, after) for axis i (one pair per axis, all ≥ 0).
    /// PyTorch's `F.pad(x, (l, r, t, b))` is `padded([(0,0), (0,0), (t,b), (l,r)])` here.
    public func padded(_ padding: [(before: Int, after: Int)], value: Float = 0) -> Tensor {
        precondition(padding.count == rank, "padded: \(padding.count) pairs for rank \(rank)")
        precondition(padding.allSatisfy { $0.before >= 0 && $0.after >= 0 }, "padded: negative padding \(padding)")
        let shape = (0..<rank).map { self.shape[$0] + padding[$0].before + padding[$0].after }
        let result = Tensor.full(shape, value)
        var interior = result
        for axis in 0..<rank { interior = interior.narrowed(axis: axis, start: padding[axis].before, length: self.shape[axis]) }
        interior.assign(detached())
        let original = self.shape
        return Tensor.record(result, "pad", inputs: [self]) { g in
            var inner = g
            for axis in 0..<original.count { inner = inner.narrowed(axis: axis, start: padding[axis].before, length: original[axis]) }
            return [inner]
        }
    }
}
