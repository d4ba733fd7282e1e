import Foundation

/// Reads a model checkpoint in whichever format it is — safetensors, or a PyTorch `.pth`/`.bin` (zip or
/// legacy) — chosen by the file's first bytes, never by its extension (hub files called `pytorch_model.bin`
/// are zip archives; a `.pth` may be either PyTorch format).
/// ```swift
/// let entries = try CheckpointFile.read(contentsOf: url)
/// try model.loadStateDict(entries)
/// ```
public enum CheckpointFile {
    public enum Format: String, Sendable, CustomStringConvertible {
        case safetensors
        /// `torch.save`'s zip format (torch ≥ 1.6).
        case torchZip
        /// `torch.save`'s legacy format.
        case torchLegacy

        public var description: String {
            switch self {
            case .safetensors: "safetensors"
            case .torchZip: "PyTorch zip checkpoint"
            case .torchLegacy: "PyTorch legacy checkpoint"
            }
        }
    }

    /// The format of a file that starts with `bytes` and is `fileSize` bytes long, or nil.
    ///
    /// - safetensors: an 8-byte little-endian header length that fits in the file, then `{`;
    /// - zip: `PK\x03\x04` (or `PK\x05\x06`, an empty archive);
    /// - legacy PyTorch: a pickle (`\x80` and protocol 2–5).
    public static func detectFormat(prefix bytes: UnsafeRawBufferPointer, fileSize: Int) -> Format? {
        if TorchCheckpoint.isZip(bytes) { return .torchZip }
        if TorchCheckpoint.looksLikeLegacy(bytes) { return .torchLegacy }
        if bytes.count >= 9 {
            var length: UInt64 = 0
            for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
            if bytes[8] == UInt8(ascii: "{"), length >= 2, length <= UInt64(max(0, fileSize - 8)) { return .safetensors }
        }
        return nil
    }

    /// The format of the file at `url`.
    /// - Throws: ``FileError`` naming the file, around a ``SystemError`` or
    ///   ``CheckpointError/unrecognizedFormat(firstBytes:)``.
    public static func detectFormat(of url: URL) throws -> Format {
        try TorchCheckpoint.mapped(url) { bytes in
            guard let format = detectFormat(prefix: UnsafeRawBufferPointer(rebasing: bytes.prefix(16)), fileSize: bytes.count) else {
                throw CheckpointError.unrecognizedFormat(firstBytes: TorchCheckpoint.hexPrefix(bytes))
            }
            return format
        }
    }

    /// The tensors of the checkpoint at `url`, in the file's order. For a PyTorch file, the state dict as
    /// ``TorchCheckpoint/StateDictSelection/automatic`` finds it (the top-level dict, or one wrapped under
    /// `"state_dict"` / `"model"`).
    /// - Throws: ``TensorFileError`` for a damaged safetensors file, ``CheckpointError`` for everything else;
    ///   both name the path.
    public static func read(contentsOf url: URL) throws -> [(key: String, array: TypedArray)] {
        switch try detectFormat(of: url) {
        case .safetensors:
            return try SafeTensorsFile.read(contentsOf: url).entries.map { (key: $0.name, array: $0.array) }
        case .torchZip, .torchLegacy:
            return try TorchCheckpoint.read(contentsOf: url)
        }
    }
}
