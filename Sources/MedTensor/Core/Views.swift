/// Views: new layouts over the same storage, O(1), each with its backward rule.
extension Tensor {
    /// This tensor with another layout over the same storage, recorded for autograd with `backward`.
    func view(_ layout: Layout, _ name: String, backward: @escaping (Tensor) -> Tensor) -> Tensor {
        Tensor.record(Tensor(storage: storage, layout: layout), name, inputs: [self]) { [backward($0)] }
    }

    /// The same elements in another shape; one axis may be -1 (inferred). A view when the layout allows
    /// it, otherwise a contiguous copy.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let shape = resolvedShape(newShape)
        if shape == self.shape { return self }
        let original = self.shape
        if let strides = layout.stridesForView(shape) {
            return view(Layout(shape: shape, strides: strides, offset: layout.offset), "reshape") { $0.reshaped(original) }
        }
        return contiguous().reshaped(shape)
    }

    public func reshaped(_ newShape: Int...) -> Tensor { reshaped(newShape) }

    private func resolvedShape(_ newShape: [Int]) -> [Int] {
        var shape = newShape
        let inferred = shape.indices.filter { shape[$0] == -1 }
        precondition(inferred.count <= 1, "reshape: more than one -1 in \(newShape)")
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        if let axis = inferred.first {
            precondition(known != 0 && count % known == 0, "reshape: cannot infer -1 in \(newShape) for \(count) elements")
            shape[axis] = count / known
        }
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == count,
                     "reshape: shape \(newShape) does not hold \(count) elements of \(self.shape)")
        return shape
    }

    /// Flattens axes `start...end` into one.
    public func flattened(from start: Int = 0, to end: Int = -1) -> Tensor {
        if rank == 0 { return reshaped([1]) }
        let s = normalizedAxis(start, rank: rank), e = normalizedAxis(end, rank: rank)
        precondition(s <= e, "flattened: start axis \(start) is after end axis \(end)")
        let merged = shape[s...e].reduce(1, *)
        return reshaped(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Axes reordered: axis i of the result is axis `axes[i]` of this tensor.
    public func permuted(_ axes: [Int]) -> Tensor {
        let axes = axes.map { normalizedAxis($0, rank: rank) }
        precondition(axes.count == rank && Set(axes).count == rank, "permuted: \(axes) is not a permutation of \(rank) axes")
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in axes.enumerated() { inverse[axis] = i }
        let layout = Layout(shape: axes.map { shape[$0] }, strides: axes.map { strides[$0] }, offset: self.layout.offset)
        return view(layout, "permute") { $0.permuted(inverse) }
    }

    public func permuted(_ axes: Int...) -> Tensor { permuted(axes) }

    /// Two axes swapped (by default the last two).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(normalizedAxis(a, rank: rank), normalizedAxis(b, rank: rank))
        return permuted(axes)
    }

    /// Elements `start, start+step, …` below `end` along `axis` (negative bounds count from the end).
    public func sliced(axis: Int, start: Int = 0, end: Int? = nil, step: Int = 1) -> Tensor {
        let axis = normalizedAxis(axis, rank: rank)
        precondition(step > 0, "sliced: step must be positive, got \(step)")
        let size = shape[axis]
        func clampBound(_ value: Int) -> Int { Swift.min(Swift.max(value < 0 ? value + size : value, 0), size) }
        let lower = clampBound(start), upper = Swift.max(lower, clampBound(end ?? size))
        var newLayout = layout
        newLayout.shape[axis] = (upper - lower + step - 1) / step
        newLayout.strides[axis] = strides[axis] * step
        newLayout.offset += lower * strides[axis]
        let original = shape
        return view(newLayout, "slice") { gradient in
            let full = Tensor.zeros(original)
            full.sliced(axis: axis, start: lower, end: upper, step: step).assign(gradient)
            return full
        }
    }

    /// `length` elements from `start` along `axis`.
    public func narrowed(axis: Int, start: Int, length: Int) -> Tensor {
        let resolved = normalizedAxis(axis, rank: rank)
        precondition(start >= 0 && length >= 0 && start + length <= shape[resolved],
                     "narrowed: [\(start), \(start + length)) is outside axis \(axis) of size \(shape[resolved])")
        return sliced(axis: resolved, start: start, end: start + length)
    }

    /// The sub-tensor at `index` along `axis`, with that axis removed.
    public func selected(axis: Int, index: Int) -> Tensor {
        let resolved = normalizedAxis(axis, rank: rank)
        let position = index < 0 ? index + shape[resolved] : index
        precondition(position >= 0 && position < shape[resolved], "selected: index \(index) out of range for size \(shape[resolved])")
        return narrowed(axis: resolved, start: position, length: 1).squeezed(axis: resolved)
    }

    /// Broadcast to `newShape` by repeating size-1 axes (stride 0) and adding leading axes; no copy.
    public func expanded(to newShape: [Int]) -> Tensor {
        precondition(newShape.count >= rank, "expanded: cannot expand \(shape) to fewer axes \(newShape)")
        let lead = newShape.count - rank
        var newStrides = [Int](repeating: 0, count: newShape.count)
        for axis in 0..<rank {
            let target = newShape[lead + axis]
            if shape[axis] == target {
                newStrides[lead + axis] = strides[axis]
            } else {
                precondition(shape[axis] == 1, "expanded: axis \(axis) of size \(shape[axis]) cannot become \(target) in \(shape) → \(newShape)")
            }
        }
        if newShape == shape { return self }
        let original = shape
        return view(Layout(shape: newShape, strides: newStrides, offset: layout.offset), "expand") { $0.summed(toShape: original) }
    }

    /// Removes `axis` (which must have size 1), or every size-1 axis when `axis` is nil.
    public func squeezed(axis: Int? = nil) -> Tensor {
        if let axis {
            let resolved = normalizedAxis(axis, rank: rank)
            precondition(shape[resolved] == 1, "squeezed: axis \(axis) has size \(shape[resolved]), not 1")
            var newShape = shape
            newShape.remove(at: resolved)
            return reshaped(newShape)
        }
        return reshaped(shape.filter { $0 != 1 })
    }

    /// Inserts a size-1 axis at `axis` (which may equal the rank, or be negative as in PyTorch).
    public func unsqueezed(axis: Int) -> Tensor {
        let resolved = axis < 0 ? axis + rank + 1 : axis
        precondition(resolved >= 0 && resolved <= rank, "unsqueezed: axis \(axis) out of range for rank \(rank)")
        var newShape = shape
        newShape.insert(1, at: resolved)
        return reshaped(newShape)
    }

    /// A row-major copy, or this tensor when it already is one.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let result = Tensor.uninitialized(shape)
        result.assign(detached())
        return Tensor.record(result, "contiguous", inputs: [self]) { [$0] }
    }

    /// Writes `source` (broadcast to this shape) into this tensor's elements, in place. Not recorded by
    /// autograd: for building gradients, initialising parameters and optimizer updates.
    public func assign(_ source: Tensor) {
        let source = source.shape == shape ? source : source.detached().expanded(to: shape)
        let runs = StridedRuns(shape: shape, strides: [strides, source.strides], offsets: [layout.offset, source.layout.offset])
        let dstStride = runs.innerStride(0), srcStride = runs.innerStride(1)
        let dst = SendablePointer(storage.pointer), src = SendablePointer(source.storage.pointer)
        runs.parallelForEach { offsets, length in
            let d = dst.pointer + offsets[0], s = src.pointer + offsets[1]
            if dstStride == 1 && srcStride == 1 {
                d.update(from: s, count: length)
            } else {
                for i in 0..<length { d[i * dstStride] = s[i * srcStride] }
            }
        }
    }

    /// Sums a broadcast gradient back to `target`, the shape of the input that was broadcast.
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "summed(toShape:): \(shape) cannot reduce to \(target)")
        var axes = Array(0..<lead)
        for axis in 0..<target.count where target[axis] == 1 && shape[lead + axis] != 1 { axes.append(lead + axis) }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }
}
