// libFuzzer target: the restricted unpickler and both PyTorch checkpoint formats (a zip archive or a legacy
// pickle stream). Invariants: nothing outside the allow-list runs (the unpickler cannot call anything), and
// every tensor it rebuilds has a byte count matching its shape and dtype.
public func fuzzPickle(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let contents = try? TorchCheckpoint.decode(bytes) {
        for (key, array) in contents.entries {
            precondition(array.bytes.count == array.shape.reduce(1, *) * array.dtype.byteSize, "pth: \(key) has the wrong byte count")
        }
    }
    return 0
}
