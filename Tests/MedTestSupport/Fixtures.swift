import Foundation

/// The repository's committed test fixtures, `Tests/Fixtures`, found from this file's own path, so every test
/// target reads them the same way wherever the package is checked out. The generating scripts
/// (`Tests/Fixtures/make_*_fixtures.py`) say what each folder holds.
/// ```swift
/// let npz = Fixtures.url("data/npz/breastmnist.npz")
/// ```
public enum Fixtures {
    /// `Tests/Fixtures`.
    public static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // MedTestSupport
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures", isDirectory: true)

    /// A file or folder under `Tests/Fixtures`, e.g. `"torch/basic.pth"`.
    public static func url(_ relativePath: String) -> URL { directory.appendingPathComponent(relativePath) }

    /// The bytes of a fixture file.
    public static func bytes(_ relativePath: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(relativePath))) }

    /// Whether a fixture exists: the large, uncommitted ones (`models-full/`) may not.
    public static func exists(_ relativePath: String) -> Bool { FileManager.default.fileExists(atPath: url(relativePath).path) }
}
