import MedIO

/// An n-dimensional array of Float32 values: a shared ``TensorStorage`` seen through a ``Layout``,
/// plus, when it takes part in differentiation, a node of the autograd graph.
///
/// `Tensor` is a value type whose copies share storage, like a PyTorch tensor handle. Ops never modify
/// their inputs; the few in-place methods (``Tensor/assign(_:)``, optimizer updates) say so in their names.
/// Integer data (labels, argmax results, pooling indices, gather indices) is never stored as Float32:
/// it lives in ``IndexTensor`` (Swift `Int`s), and at the file boundary in ``TypedArray``.
public struct Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    public let layout: Layout
    /// The autograd node; nil when no gradient flows through this tensor.
    var node: GradNode?

    /// Wraps storage in a layout (no copy).
    public init(storage: TensorStorage, layout: Layout) {
        self.storage = storage
        self.layout = layout
        self.node = nil
    }

    init(storage: TensorStorage, layout: Layout, node: GradNode?) {
        self.storage = storage
        self.layout = layout
        self.node = node
    }

    // MARK: shape

    public var shape: [Int] { layout.shape }
    public var rank: Int { layout.shape.count }
    public var count: Int { layout.count }
    public var strides: [Int] { layout.strides }
    public var isContiguous: Bool { layout.isContiguous }

    /// Size of one axis (negative axes count from the end).
    public func size(_ axis: Int) -> Int { shape[normalizedAxis(axis, rank: rank)] }

    // MARK: creation

    /// A tensor whose storage is allocated but not initialised; every element must be written.
    public static func uninitialized(_ shape: [Int]) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        return Tensor(storage: TensorStorage(uninitializedCount: shape.reduce(1, *)), layout: Layout(contiguous: shape))
    }

    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        return Tensor(storage: TensorStorage(count: shape.reduce(1, *), repeating: value), layout: Layout(contiguous: shape))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// A 0-dimensional tensor holding one value.
    public init(_ value: Float) {
        self = Tensor.full([], value)
    }

    /// A tensor of `shape` filled from `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: shape \(shape) holds \(shape.reduce(1, *)) elements but \(scalars.count) were given")
        let storage = TensorStorage(uninitializedCount: scalars.count)
        scalars.withUnsafeBufferPointer { storage.pointer.initialize(from: $0.baseAddress!, count: scalars.count) }
        self.init(storage: storage, layout: Layout(contiguous: shape))
    }

    /// A 1-D tensor.
    public init(_ scalars: [Float]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// A 2-D tensor from rows of equal length.
    public init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Tensor: rows of unequal length")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// `[start, start + step, …]` below `end`, as `torch.arange`.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "arange: step must not be 0")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<count).map { start + Float($0) * step })
    }

    /// `count` evenly spaced values from `start` to `end` inclusive, as `torch.linspace`.
    public static func linspace(_ start: Float, _ end: Float, count: Int) -> Tensor {
        precondition(count >= 0, "linspace: negative count")
        if count == 1 { return Tensor([start]) }
        let step = (end - start) / Float(count - 1)
        // torch.linspace fills the second half backwards from `end` so that the last value is exact.
        let half = count / 2
        return Tensor((0..<count).map { i in i < half ? start + step * Float(i) : end - step * Float(count - 1 - i) })
    }

    // MARK: reading values

    /// All elements in row-major order.
    public var scalars: [Float] {
        let source = contiguousData()
        return Array(UnsafeBufferPointer(start: source.pointer, count: count))
    }

    /// The value of a tensor with one element.
    public var item: Float {
        precondition(count == 1, "item: tensor of shape \(shape) has \(count) elements, not 1")
        return storage.pointer[layout.offset]
    }

    /// The element at a multi-index.
    public subscript(indices: Int...) -> Float {
        precondition(indices.count == rank, "subscript: \(indices.count) indices for rank \(rank)")
        for (axis, index) in indices.enumerated() {
            precondition(index >= 0 && index < shape[axis], "subscript: index \(index) out of range for axis \(axis) of size \(shape[axis])")
        }
        return storage.pointer[layout.index(indices)]
    }

    /// A pointer to this tensor's elements in row-major order: its own storage when contiguous, or a
    /// fresh contiguous copy. The returned tensor keeps the memory alive.
    func contiguousData() -> (pointer: UnsafeMutablePointer<Float>, owner: Tensor) {
        let source = isContiguous ? self : detached().contiguous()
        return (source.storage.pointer + source.layout.offset, source)
    }

    /// Pointer to the first element of a contiguous tensor.
    public var contiguousPointer: UnsafeMutablePointer<Float> {
        precondition(isContiguous, "contiguousPointer: tensor with strides \(strides) is not contiguous")
        return storage.pointer + layout.offset
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars
        let shown = values.prefix(16).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(values.count > 16 ? ", …" : "")]\(requiresGrad ? ", requiresGrad" : ""))"
    }
}

/// Integer data: class labels, argmax results, pooling indices, gather indices.
///
/// Kept as Swift `Int`s so that indices are exact (a Float32 cannot hold every index above 2²⁴).
public struct IndexTensor: Equatable, Sendable {
    public var shape: [Int]
    public var values: [Int]

    public init(shape: [Int], values: [Int]) {
        precondition(shape.reduce(1, *) == values.count,
                     "IndexTensor: shape \(shape) holds \(shape.reduce(1, *)) values but \(values.count) were given")
        self.shape = shape
        self.values = values
    }

    /// A 1-D index tensor.
    public init(_ values: [Int]) { self.init(shape: [values.count], values: values) }

    public var count: Int { values.count }
}
