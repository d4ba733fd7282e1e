import MedTensor

/// A tensor a module owns: a trainable weight, or a buffer such as BatchNorm's running statistics.
///
/// A final class, so it has a stable identity that optimizers can key their state by. Its ``value`` is an
/// autograd leaf while ``requiresGrad`` is true; updates (optimizer steps, loading) write into the value's
/// storage in place, so the leaf and any views of it stay valid.
public final class Parameter {
    /// The current values. Replace it only through ``assign(_:)`` or ``replace(with:)``.
    public private(set) var value: Tensor
    /// Buffers are saved and loaded with the state dict but never trained (BatchNorm running statistics).
    public let isBuffer: Bool

    /// Whether gradients are computed for this parameter. Always false for buffers.
    public var requiresGrad: Bool {
        didSet {
            precondition(!(isBuffer && requiresGrad), "Parameter: a buffer cannot require a gradient")
            if requiresGrad != oldValue { value = value.detached().requiringGrad(requiresGrad) }
        }
    }

    public init(_ value: Tensor, isBuffer: Bool = false) {
        self.isBuffer = isBuffer
        self.requiresGrad = !isBuffer
        let own = value.contiguous().detached()
        // Own the memory: a parameter must not alias a tensor the caller keeps using.
        let copy = Tensor.uninitialized(own.shape)
        copy.assign(own)
        self.value = copy.requiringGrad(!isBuffer)
    }

    public var shape: [Int] { value.shape }
    public var count: Int { value.count }

    /// The gradient accumulated by the last backward passes, if any.
    public var grad: Tensor? { value.grad }

    /// Clears the accumulated gradient.
    public func zeroGrad() { value.zeroGrad() }

    /// Writes new values (same shape) in place; the autograd leaf stays the same.
    public func assign(_ newValue: Tensor) {
        precondition(newValue.shape == value.shape, "Parameter.assign: shape \(newValue.shape) differs from \(value.shape)")
        value.assign(newValue.detached())
        cacheVersion &+= 1
    }

    /// Replaces the tensor, possibly with another shape (for re-initialising a resized classifier).
    public func replace(with newValue: Tensor) {
        let copy = Tensor.uninitialized(newValue.shape)
        copy.assign(newValue.detached())
        value = copy.requiringGrad(requiresGrad)
        cacheVersion &+= 1
    }

    /// Increments whenever the values change through this class; derived caches (such as BatchNorm folded
    /// into a convolution) compare it to know when to rebuild.
    public private(set) var cacheVersion = 0

    /// Marks values changed by code that wrote into ``value``'s storage directly (optimizers).
    public func markModified() { cacheVersion &+= 1 }
}

/// An integer buffer, kept as Int64 so that it saves and loads bit-exactly (BatchNorm's
/// `num_batches_tracked`).
public final class IntegerBuffer {
    public var values: [Int64]
    public let shape: [Int]

    public init(shape: [Int] = [], values: [Int64] = [0]) {
        precondition(shape.reduce(1, *) == values.count, "IntegerBuffer: shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }

    /// The value of a 0-dimensional buffer.
    public var scalar: Int64 {
        get { values[0] }
        set { values[0] = newValue }
    }
}
