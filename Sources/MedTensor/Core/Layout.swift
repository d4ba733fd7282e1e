/// How a tensor's elements sit in its storage: a shape, a stride per axis (in elements) and an offset.
///
/// Every view is a new layout over the same storage: a transpose swaps strides, a broadcast sets a stride
/// to 0, a slice moves the offset. Only ``Tensor/contiguous()`` copies.
public struct Layout: Equatable, Hashable, Sendable {
    public var shape: [Int]
    public var strides: [Int]
    public var offset: Int

    public init(shape: [Int], strides: [Int], offset: Int = 0) {
        precondition(shape.count == strides.count, "Layout: \(shape.count) dimensions but \(strides.count) strides")
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// The row-major (C-order) layout of `shape`, starting at `offset`.
    public init(contiguous shape: [Int], offset: Int = 0) {
        self.init(shape: shape, strides: Layout.contiguousStrides(for: shape), offset: offset)
    }

    public static func contiguousStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= max(shape[axis], 1)
        }
        return strides
    }

    public var rank: Int { shape.count }
    public var count: Int { shape.reduce(1, *) }

    /// True when the elements are stored in row-major order without gaps (strides of size-1 axes ignored).
    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// The storage index of a multi-index.
    @inlinable
    public func index(_ indices: [Int]) -> Int {
        var position = offset
        for axis in 0..<indices.count { position += indices[axis] * strides[axis] }
        return position
    }

    /// The strides this layout would have if reshaped to `newShape` without copying, or nil when the
    /// elements are not arranged for it (PyTorch's `view` rule: each group of merged axes must be
    /// contiguous among itself).
    public func stridesForView(_ newShape: [Int]) -> [Int]? {
        if isContiguous || count == 0 { return Layout.contiguousStrides(for: newShape) }
        // Walk old and new dims in groups whose products match.
        let oldDims = zip(shape, strides).filter { $0.0 != 1 }
        var newStrides = [Int](repeating: 0, count: newShape.count)
        var oldIndex = 0
        var newIndex = 0
        while newIndex < newShape.count {
            if newShape[newIndex] == 1 { newStrides[newIndex] = 1; newIndex += 1; continue }
            guard oldIndex < oldDims.count else { return nil }
            // Collect an old group that is internally contiguous.
            var groupSize = oldDims[oldIndex].0
            var groupEnd = oldIndex
            var newGroupSize = newShape[newIndex]
            var newGroupEnd = newIndex
            while groupSize != newGroupSize {
                if groupSize < newGroupSize {
                    groupEnd += 1
                    guard groupEnd < oldDims.count else { return nil }
                    guard oldDims[groupEnd - 1].1 == oldDims[groupEnd].1 * oldDims[groupEnd].0 else { return nil }
                    groupSize *= oldDims[groupEnd].0
                } else {
                    newGroupEnd += 1
                    guard newGroupEnd < newShape.count else { return nil }
                    newGroupSize *= newShape[newGroupEnd]
                }
            }
            // Assign strides inside the new group from the innermost old stride.
            var running = oldDims[groupEnd].1
            for axis in stride(from: newGroupEnd, through: newIndex, by: -1) {
                newStrides[axis] = running
                running *= newShape[axis]
            }
            oldIndex = groupEnd + 1
            newIndex = newGroupEnd + 1
        }
        return oldIndex == oldDims.count ? newStrides : nil
    }
}

/// The shape two shapes broadcast to under NumPy's rules, or nil when they are incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if x == y || y == 1 { result[i] = x } else if x == 1 { result[i] = y } else { return nil }
    }
    return result
}

/// Normalises a possibly negative axis (-1 is the last) and checks it.
@inlinable
public func normalizedAxis(_ axis: Int, rank: Int, _ op: String = #function) -> Int {
    let resolved = axis < 0 ? axis + rank : axis
    precondition(resolved >= 0 && resolved < max(rank, 1), "\(op): axis \(axis) is out of range for rank \(rank)")
    return resolved
}
