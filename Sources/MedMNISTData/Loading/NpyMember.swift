import MedIO
import MedTensor

/// The `.npy` members of an npz, read with MedTensor's npy rules and errors that name the file and key.
enum NpyMember {
    /// The header of a fully extracted member, checked against the member's size.
    static func layout(of member: UnsafeRawBufferPointer, path: String, key: String) throws -> NpyLayout {
        let npy: NpyLayout
        do { npy = try Npy.layout(ofPrefix: member) } catch let error as TensorFileError {
            throw DataFileError.npy(path: path, key: key, error)
        }
        let available = member.count - npy.dataOffset
        if available < npy.dataByteCount {
            throw DataFileError.npy(path: path, key: key, .truncated(what: "npy data", offset: npy.dataOffset,
                                                                      needed: npy.dataByteCount, available: available))
        }
        if available > npy.dataByteCount {
            throw DataFileError.npy(path: path, key: key, .npyTrailingBytes(offset: npy.dataOffset,
                                                                             expected: npy.dataByteCount, actual: available))
        }
        return npy
    }

    /// A whole member decoded to a TypedArray (for labels and other small arrays).
    static func decode(_ bytes: [UInt8], path: String, key: String) throws -> TypedArray {
        do { return try Npy.decode(bytes) } catch let error as TensorFileError {
            throw DataFileError.npy(path: path, key: key, error)
        }
    }
}
