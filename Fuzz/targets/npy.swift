// libFuzzer target: the .npy reader. Invariants beyond "no crash": a decoded array's byte count is its shape's
// element count times its dtype's size, and encoding what was decoded decodes to the same array.
public func fuzzNpy(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let array = try? Npy.decode(bytes) else { return 0 }
    let elements = array.shape.reduce(1, *)
    precondition(array.bytes.count == elements * array.dtype.byteSize, "npy: \(array.bytes.count) bytes for \(array.shape) \(array.dtype)")
    let encoded: [UInt8]
    do { encoded = try Npy.encode(array) } catch { preconditionFailure("npy: a decoded array does not encode: \(error)") }
    guard let again = try? Npy.decode(encoded) else { preconditionFailure("npy: the re-encoded array does not decode") }
    precondition(again.shape == array.shape && again.dtype == array.dtype && again.bytes == array.bytes, "npy: round trip differs")
    return 0
}
