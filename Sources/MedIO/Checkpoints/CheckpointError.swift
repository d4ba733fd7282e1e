/// Everything a PyTorch checkpoint (`.pth` / `.bin` written by `torch.save`) can get wrong.
///
/// Reading from a URL wraps the error in a ``FileError`` naming the file, so the message starts with the path;
/// `FileError.underlying(as: CheckpointError.self)` gives the case back. Pickle errors name the stream
/// (`archive/data.pkl` inside a zip checkpoint, or `file` for the legacy format, whose pickles sit directly in the
/// file) and the byte offset of the opcode that failed within it.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    // MARK: context

    /// The zip container of a torch ≥ 1.6 checkpoint is damaged (bad structure, CRC mismatch, ...).
    case archive(ArchiveError)

    // MARK: containers

    /// The file is neither a safetensors file nor either PyTorch format; `firstBytes` is a hex dump of its start.
    case unrecognizedFormat(firstBytes: String)
    /// A zip checkpoint lacks a record it needs (`data.pkl`, or `data/KEY` for a storage the pickle refers to).
    case missingRecord(name: String)
    /// A record has content this reader does not accept (e.g. `byteorder` other than `little`/`big`).
    case invalidRecord(name: String, detail: String)
    /// The legacy (non-zip) format's preamble is wrong: `what` is "magic number", "protocol version" or "sys info".
    case legacyHeader(what: String, detail: String)
    /// A tar file, the format of PyTorch before 0.1.10; not supported.
    case legacyTarFormat

    // MARK: pickle

    /// The pickle ends inside `opcode`'s argument, which starts at `offset` and needs `needed` bytes.
    case pickleTruncated(stream: String, offset: Int, opcode: String, needed: Int, available: Int)
    /// A byte that is not a pickle opcode, at `offset`.
    case pickleUnknownOpcode(stream: String, offset: Int, opcode: UInt8)
    /// A real pickle opcode that the restricted unpickler refuses (extension registry, out-of-band buffers, ...).
    case pickleUnsupportedOpcode(stream: String, offset: Int, opcode: String, reason: String)
    /// The pickle is well-formed bytes but wrong for its opcode: stack underflow, no mark, unknown memo key,
    /// an argument of the wrong type, a protocol above 5, ...
    case pickleMalformed(stream: String, offset: Int, opcode: String, detail: String)
    /// The pickle names a global (a Python callable or class) outside the allow-list. It was not executed.
    case forbiddenGlobal(stream: String, offset: Int, module: String, name: String)

    // MARK: tensors

    /// A storage type or dtype that has no ``DType`` (complex, quantized, uint32, float8, ...).
    case unsupportedDType(String)
    /// A storage's recorded size does not match what the pickle says it holds.
    case storageSize(key: String, expected: Int, actual: Int)
    /// The legacy storage section lists a key that no tensor refers to, or is missing one that a tensor needs.
    case storageMissing(key: String)
    /// A tensor's size, stride or offset is invalid or reaches outside its storage.
    case invalidTensor(key: String, detail: String)
    /// The top-level object is not a state dict (nor a dict wrapping one).
    case notAStateDict(detail: String)
    /// An entry of the state dict is not a tensor.
    case notATensor(key: String, found: String)

    public var description: String {
        switch self {
        case .archive(let error):
            return "damaged zip container: \(error.description)"
        case .unrecognizedFormat(let firstBytes):
            return "not a checkpoint: neither safetensors nor a PyTorch zip or legacy file (it starts with \(firstBytes))"
        case .missingRecord(let name):
            return "the checkpoint has no record '\(name)'"
        case .invalidRecord(let name, let detail):
            return "record '\(name)' \(detail)"
        case .legacyHeader(let what, let detail):
            return "not a legacy PyTorch checkpoint: the \(what) \(detail)"
        case .legacyTarFormat:
            return "this is a tar-format PyTorch checkpoint (PyTorch < 0.1.10), which is not supported; "
                + "re-save it with a current torch.save"
        case .pickleTruncated(let stream, let offset, let opcode, let needed, let available):
            return "pickle \(stream) ends inside \(opcode) at byte \(offset): needs \(needed) bytes, \(available) remain"
        case .pickleUnknownOpcode(let stream, let offset, let opcode):
            return "pickle \(stream) has unknown opcode 0x\(String(opcode, radix: 16)) at byte \(offset)"
        case .pickleUnsupportedOpcode(let stream, let offset, let opcode, let reason):
            return "pickle \(stream) uses \(opcode) at byte \(offset), which the restricted unpickler refuses: \(reason)"
        case .pickleMalformed(let stream, let offset, let opcode, let detail):
            return "pickle \(stream) is malformed at byte \(offset) (\(opcode)): \(detail)"
        case .forbiddenGlobal(let stream, let offset, let module, let name):
            return "pickle \(stream) refers to '\(module).\(name)' at byte \(offset); only tensors, storages, dtypes "
                + "and collections.OrderedDict are allowed, so it was rejected without being executed"
        case .unsupportedDType(let name):
            return "tensor type \(name) is not supported (float32/16/64, bfloat16, int64/32/16/8, uint8/16 and bool are)"
        case .storageSize(let key, let expected, let actual):
            return "storage '\(key)' should hold \(expected) bytes but the file has \(actual)"
        case .storageMissing(let key):
            return "storage '\(key)' is listed in the file but no tensor refers to it, or the reverse"
        case .invalidTensor(let key, let detail):
            return "tensor '\(key)': \(detail)"
        case .notAStateDict(let detail):
            return "not a state dict: \(detail)"
        case .notATensor(let key, let found):
            return "state dict entry '\(key)' is \(found), not a tensor"
        }
    }
}
