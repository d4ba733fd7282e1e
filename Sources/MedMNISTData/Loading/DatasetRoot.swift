import Foundation
import MedIO
import MedTensor

/// The folder holding the `.npz` files, `~/.medmnist` by default — the Python package's default root, so
/// files it already downloaded are reused. Overridable by argument or by the environment variable
/// `MEDMNIST_ROOT`. Decoded caches live in its `.cache` subfolder.
public struct DatasetRoot: Sendable, Equatable {
    /// The environment variable that replaces the default root.
    public static let environmentVariable = "MEDMNIST_ROOT"

    public let url: URL

    /// `directory` if given, else `$MEDMNIST_ROOT`, else `~/.medmnist`. A leading `~` is expanded.
    public init(_ directory: URL? = nil) {
        if let directory {
            url = directory.standardizedFileURL
        } else if let path = ProcessInfo.processInfo.environment[Self.environmentVariable], !path.isEmpty {
            url = URL(fileURLWithPath: NSString(string: path).expandingTildeInPath).standardizedFileURL
        } else {
            url = Self.defaultURL
        }
    }

    /// A root at a path (`~` expanded).
    public init(path: String) {
        self.init(URL(fileURLWithPath: NSString(string: path).expandingTildeInPath))
    }

    /// `~/.medmnist`.
    public static var defaultURL: URL {
        FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".medmnist").standardizedFileURL
    }

    /// Where the decoded caches go.
    public var cacheDirectory: URL { url.appendingPathComponent(".cache") }

    /// The path of `file` in this root.
    public func url(for file: DatasetFile) -> URL { url.appendingPathComponent(file.fileName) }

    /// The path of `flag` at `size`, whether or not the catalog knows the pair.
    public func url(flag: String, size: Int) -> URL {
        url.appendingPathComponent(MedMNISTCatalog.fileName(flag: flag, size: size))
    }

    /// The sizes of `info` whose files are present here.
    public func presentSizes(of info: DatasetInfo) -> [Int] {
        info.availableSizes.filter { FileManager.default.fileExists(atPath: url(flag: info.flag, size: $0).path) }
    }

    /// Creates the folder (and its parents) if it does not exist.
    public func createIfNeeded() throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw FileError.system(path: url.path, operation: "create the folder", reason: error.localizedDescription)
        }
    }

    /// Checks the MD5 of `file` against the catalog.
    /// - Throws: ``DataFileError/missingFile(path:downloadURL:)`` or ``DataFileError/md5Mismatch(path:expected:actual:)``.
    public func verify(_ file: DatasetFile) throws {
        let path = url(for: file)
        guard FileManager.default.fileExists(atPath: path.path) else {
            throw DataFileError.missingFile(path: path.path, downloadURL: file.url.absoluteString)
        }
        let actual: String
        actual = try MD5.hexDigest(ofFileAt: path)
        guard actual == file.md5 else { throw DataFileError.md5Mismatch(path: path.path, expected: file.md5, actual: actual) }
    }
}
