/// Raw DEFLATE (RFC 1951) decompression, the format of deflated zip entries (no zlib or gzip wrapper).
///
/// Every malformed stream ends in a thrown `ArchiveError`: reserved block types, bad code lengths,
/// unused symbols, distances reaching before the output, output overflow and truncated input.
/// The decoder never reads outside `input` or writes outside the output it was given.
public enum Inflate {
    /// Decodes a complete raw DEFLATE stream into `output`, whose size the caller knows
    /// (a zip entry's uncompressed size, for example).
    /// - Returns: the bytes written to `output` and the bytes of `input` the stream occupied.
    /// - Throws: `ArchiveError.outputOverflow` if the data does not fit, or the error describing the damage.
    @discardableResult
    public static func decompress(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> (written: Int, consumed: Int) {
        let decoder = InflateDecoder(input: input)
        var written = 0
        let progress = try withOutputPointer(output) { out in
            try decoder.decode(into: out, position: &written, limit: output.count)
        }
        guard progress == .finished else { throw ArchiveError.outputOverflow(entry: nil, capacity: output.count) }
        return (written, decoder.consumedBytes)
    }

    /// Decodes a complete raw DEFLATE stream into a new array that grows as needed.
    /// - Parameters:
    ///   - sizeHint: expected output size, if known, to avoid regrowing.
    ///   - limit: the most bytes to accept; more throws `ArchiveError.outputOverflow`. Guards against
    ///     "zip bombs" (DEFLATE can expand 1032-fold).
    public static func decompress(_ input: UnsafeRawBufferPointer, sizeHint: Int = 0, limit: Int = .max) throws -> [UInt8] {
        let decoder = InflateDecoder(input: input)
        var capacity = max(0, min(limit, max(sizeHint, 4 * input.count, 4096)))
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(capacity, 1))
        defer { buffer.deallocate() }
        var written = 0
        while try decoder.decode(into: buffer, position: &written, limit: capacity) == .outputFull {
            // Back-references may reach anywhere in the output so far, so it must stay contiguous.
            guard capacity < limit else { throw ArchiveError.outputOverflow(entry: nil, capacity: limit) }
            let grown = capacity > limit / 2 ? limit : 2 * capacity
            let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            larger.update(from: buffer, count: written)
            buffer.deallocate()
            buffer = larger
            capacity = grown
        }
        return Array(UnsafeBufferPointer(start: buffer, count: written))
    }

    /// Decodes a complete raw DEFLATE stream into a new array. See `decompress(_:sizeHint:limit:)`.
    public static func decompress(_ input: [UInt8], sizeHint: Int = 0, limit: Int = .max) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, sizeHint: sizeHint, limit: limit) }
    }

    /// Runs `body` with a non-nil pointer even for an empty output (whose base address may be nil).
    static func withOutputPointer<R>(
        _ output: UnsafeMutableRawBufferPointer, _ body: (UnsafeMutablePointer<UInt8>) throws -> R
    ) throws -> R {
        if let base = output.baseAddress { return try body(base.assumingMemoryBound(to: UInt8.self)) }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { try body($0.baseAddress!) }
    }
}
