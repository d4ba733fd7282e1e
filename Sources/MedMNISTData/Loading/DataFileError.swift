import MedIO
import MedTensor

/// Everything a MedMNIST file on disk can get wrong. Each case names the file, and the npz key when one is
/// involved, so the message alone says where to look. (When the operating system refuses to read or write a
/// file, the error is a ``FileError`` with a ``SystemError``.)
public enum DataFileError: Error, CustomStringConvertible {
    /// The file is not in the root. `downloadURL` is where the catalog fetches it from.
    case missingFile(path: String, downloadURL: String?)
    /// Line `line` of a prediction CSV is not `index,score,…`.
    case csv(path: String, line: Int, reason: String)
    /// The zip container is damaged: truncated, bad headers, a CRC-32 or inflate failure, …
    case archive(path: String, key: String?, reason: String)
    /// One of the six keys is absent.
    case missingKey(path: String, key: String, found: [String])
    /// The `.npy` member could not be parsed.
    case npy(path: String, key: String, TensorFileError)
    /// Images must be uint8; labels must be integers.
    case dtype(path: String, key: String, found: DType, expected: String)
    /// An array's shape disagrees with the catalog (or, for custom data, with the other arrays).
    case shape(path: String, key: String, found: [Int], expected: String)
    /// The number of samples disagrees with the catalog's split size.
    case splitSize(path: String, key: String, found: Int, expected: Int)
    /// Images and labels of one split hold different numbers of samples.
    case countMismatch(path: String, imagesKey: String, images: Int, labelsKey: String, labels: Int)
    /// A label outside the task's range.
    case labelOutOfRange(path: String, key: String, sample: Int, column: Int, value: Int, allowed: ClosedRange<Int>)
    /// The file's MD5 is not the catalog's.
    case md5Mismatch(path: String, expected: String, actual: String)
    /// The decoded cache is unusable (it is rebuilt automatically when possible).
    case cache(path: String, reason: String)
    /// A custom file's labels do not say which task they are.
    case cannotInferTask(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path, let url):
            if let url {
                return "\(path) not found. Run 'medmnist download' for it, or fetch \(url) by hand and save it as \(path)"
            }
            return "\(path) not found"
        case .csv(let path, let line, let reason):
            return "\(path): line \(line) \(reason)"
        case .archive(let path, let key, let reason):
            return "\(path)\(key.map { " [\($0)]" } ?? ""): damaged npz: \(reason)"
        case .missingKey(let path, let key, let found):
            return "\(path): key '\(key)' is missing (found: \(found.isEmpty ? "none" : found.joined(separator: ", ")))"
        case .npy(let path, let key, let error):
            return "\(path) [\(key)]: \(error)"
        case .dtype(let path, let key, let found, let expected):
            return "\(path) [\(key)]: dtype \(found), expected \(expected)"
        case .shape(let path, let key, let found, let expected):
            return "\(path) [\(key)]: shape \(shapeText(found)), expected \(expected)"
        case .splitSize(let path, let key, let found, let expected):
            return "\(path) [\(key)]: \(found) samples, but the catalog's split has \(expected)"
        case .countMismatch(let path, let imagesKey, let images, let labelsKey, let labels):
            return "\(path): \(imagesKey) has \(images) samples but \(labelsKey) has \(labels)"
        case .labelOutOfRange(let path, let key, let sample, let column, let value, let allowed):
            return "\(path) [\(key)]: sample \(sample), column \(column) holds label \(value), outside \(allowed.lowerBound)...\(allowed.upperBound)"
        case .md5Mismatch(let path, let expected, let actual):
            return "\(path): MD5 \(actual) does not match the catalog's \(expected) (corrupt or incomplete file; delete it and download again)"
        case .cache(let path, let reason):
            return "cache \(path): \(reason)"
        case .cannotInferTask(let path, let reason):
            return "\(path): cannot infer the task (\(reason)); pass it explicitly"
        }
    }
}
