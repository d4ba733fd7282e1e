import Foundation

/// A fresh, empty directory under `NSTemporaryDirectory()` for the files a test writes (tests write nowhere
/// else), named after the test so that a leftover is easy to trace. ``remove()`` deletes it and everything in
/// it; pair the two:
/// ```swift
/// let directory = try TemporaryDirectory()
/// defer { directory.remove() }
/// try model.save(to: directory.appending("model.safetensors"))
/// ```
public struct TemporaryDirectory: Sendable {
    /// The directory.
    public let url: URL

    /// Creates the directory; `label` (the calling function by default) becomes part of its name.
    public init(_ label: String = #function) throws {
        let name = label.filter { $0.isLetter || $0.isNumber }.prefix(48)
        url = URL(fileURLWithPath: NSTemporaryDirectory(), isDirectory: true)
            .appendingPathComponent("swift-medmnist-\(name)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A path inside the directory, e.g. `"weights.pth"` or `"sub/dir/file.bin"` (not created).
    public func appending(_ relativePath: String) -> URL { url.appendingPathComponent(relativePath) }

    /// Deletes the directory with its contents; a directory already gone is not an error.
    public func remove() { try? FileManager.default.removeItem(at: url) }
}
