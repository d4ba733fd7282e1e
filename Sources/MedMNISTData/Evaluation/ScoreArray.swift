import MedIO
import MedTensor

/// Model outputs to evaluate: an n-dimensional array of Float64 in row-major order, like the numpy array the
/// package's `Evaluator.evaluate(y_score)` takes. Probabilities are expected (softmax for multi-class and
/// binary, sigmoid for multi-label), as in the package.
public struct ScoreArray: Sendable, Equatable {
    /// `(N, C)`, `(N, L)`, `(N, 2)`, `(N, 1)` or `(N,)`.
    public var shape: [Int]
    /// Row-major values.
    public var values: [Double]
    /// True when the values came from Float32 data; the prediction CSV then prints them as numpy prints
    /// float32 (shortest Float32 repr), as pandas does.
    public var isSinglePrecision: Bool

    /// Wraps row-major values; `shape` must hold exactly `values.count` elements.
    public init(shape: [Int], values: [Double], isSinglePrecision: Bool = false) {
        precondition(shape.reduce(1, *) == values.count, "ScoreArray: shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
        self.isSinglePrecision = isSinglePrecision
    }

    /// Rows of equal length, `(N, C)`.
    public init(rows: [[Double]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "ScoreArray: rows of unequal length")
        self.init(shape: [rows.count, columns], values: rows.flatMap { $0 })
    }

    /// The values of a Float32 tensor, widened exactly.
    public init(_ tensor: Tensor) {
        self.init(shape: tensor.shape, values: tensor.scalars.map(Double.init), isSinglePrecision: true)
    }

    /// The values of a decoded `.npy`: float16/32/64 widen exactly, integers and bools convert to Double.
    /// - Throws: ``TensorFileError`` when an integer does not fit (never for the usual dtypes).
    public init(_ array: TypedArray) throws {
        let values: [Double]
        switch array.dtype {
        case .float64:
            values = array.bytes.withUnsafeBytes { raw in
                (0..<array.count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
            }
        case .float32, .float16, .bfloat16:
            values = array.floats().map(Double.init)
        default:
            values = try array.int64s().map(Double.init)
        }
        self.init(shape: array.shape, values: values, isSinglePrecision: array.dtype == .float32)
    }
}
