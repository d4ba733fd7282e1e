// libFuzzer target: the safetensors reader. Invariants: each tensor's byte count matches its shape and dtype,
// the index (SafeTensorsIndex) agrees with the decoded file, and encoding what was decoded decodes to the same.
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SafeTensorsFile.decode(bytes) else { return 0 }
    let index = bytes.withUnsafeBytes { try? SafeTensorsIndex(parsing: $0) }
    precondition(index?.entries.count == file.count, "safetensors: the index disagrees with the decoder")
    for (name, array) in file.entries {
        precondition(array.bytes.count == array.shape.reduce(1, *) * array.dtype.byteSize, "safetensors: \(name) has the wrong byte count")
        precondition(index?[name]?.byteRange.count == array.bytes.count, "safetensors: \(name)'s range disagrees")
    }
    guard let again = try? SafeTensorsFile.decode(file.encode()) else { preconditionFailure("safetensors: the re-encoded file does not decode") }
    precondition(again == file, "safetensors: round trip differs")
    return 0
}
