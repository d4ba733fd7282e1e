import Foundation
import MedIO

extension Tensor {
    /// A Float32 tensor from a file's typed array: floating-point data converts (F16/BF16 exactly, F64 rounded),
    /// integers and booleans become their values.
    public init(_ array: TypedArray) {
        self.init(shape: array.shape, scalars: array.floats())
    }

    /// This tensor as a typed array for writing: Float32 by default, or rounded to F16/BF16.
    public func typedArray(as dtype: DType = .float32) -> TypedArray {
        TypedArray(floats: scalars, shape: shape, as: dtype)
    }
}

extension IndexTensor {
    /// Integer data from a file (labels, indices), exactly; floating-point arrays are rejected.
    public init(_ array: TypedArray) throws {
        self.init(shape: array.shape, values: try array.int64s().map { Int($0) })
    }

    /// These indices as an Int64 array for writing.
    public var typedArray: TypedArray { TypedArray(int64s: values.map(Int64.init), shape: shape) }
}
