/// A pair of sizes for the two spatial axes (height, width): kernel sizes, strides, paddings, dilations and
/// output sizes of 2-D convolution and pooling.
///
/// Like PyTorch's `int | tuple[int, int]` arguments, it is written as one integer for both axes (`3`) or as
/// `[height, width]` (`[3, 5]`).
public struct Size2: Equatable, Hashable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    public var height: Int
    public var width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    public init(_ height: Int, _ width: Int) { self.init(height: height, width: width) }

    /// The same size on both axes.
    public init(_ both: Int) { self.init(height: both, width: both) }

    public init(integerLiteral value: Int) { self.init(value) }

    /// `[height, width]`, or `[size]` for both axes.
    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 1 || elements.count == 2,
                     "Size2: expected [size] or [height, width], got \(elements.count) values")
        self.init(height: elements[0], width: elements[elements.count - 1])
    }

    /// `[height, width]`.
    public var array: [Int] { [height, width] }

    /// The size along axis 0 (height) or 1 (width), for code written once for both axes.
    subscript(axis: Int) -> Int { axis == 0 ? height : width }
}

extension Size2: CustomStringConvertible {
    public var description: String { "(\(height), \(width))" }
}
