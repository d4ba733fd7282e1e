import Foundation
import MedIO
import MedTensor

/// Fetches MedMNIST files through MedTensor's ``FileDownloader``: streamed to a temporary file in the
/// destination's folder with progress on standard error, retried on transport errors, server errors and short
/// or corrupt transfers, checked against the catalog's MD5, and renamed into place only when complete and
/// correct. Failures are reported as ``DownloadError``.
///
/// The base URL is the catalog's Zenodo record unless a mirror is set — by ``mirror`` or by the environment
/// variable `MEDMNIST_MIRROR` — in which case a file is fetched from `{mirror}/{file name}` (`file://` mirrors
/// work too).
public struct Downloader: Sendable {
    /// The environment variable naming a mirror base URL.
    public static let mirrorEnvironmentVariable = "MEDMNIST_MIRROR"

    /// Base URL replacing the Zenodo record; nil uses `MEDMNIST_MIRROR` or the catalog URLs.
    public var mirror: URL?
    /// Attempts per file, including the first (transport errors, HTTP 5xx/408/429, short or corrupt transfers).
    public var attempts: Int
    /// Wait before the first retry; doubled (with some jitter) for each further retry.
    public var retryDelay: TimeInterval
    /// Seconds without any data before an attempt fails.
    public var timeout: TimeInterval
    /// Report progress on standard error: a bar on a terminal, a line per quarter in a log.
    public var showProgress: Bool
    /// `MEDMNIST_MIRROR` when it is not even a URL, reported by ``download(_:into:force:)``.
    private var unparsableEnvironmentMirror: String?

    /// A mirror base URL from a user's text (`--mirror`, `MEDMNIST_MIRROR`), checked by ``validateMirror(_:)``.
    /// - Throws: ``DownloadError/invalidMirror(mirror:reason:)``.
    public static func mirror(parsing text: String) throws -> URL {
        guard let url = URL(string: text) else { throw DownloadError.invalidMirror(mirror: text, reason: "it is not a URL") }
        try validateMirror(url)
        return url
    }

    /// Checks that `url` can serve as a mirror: `http` or `https` with a host, or `file` with an absolute
    /// path, and no query or fragment (file names are appended to it). Anything else would only fail, after
    /// every retry, as an "unsupported URL" transport error.
    /// - Throws: ``DownloadError/invalidMirror(mirror:reason:)``.
    public static func validateMirror(_ url: URL) throws {
        func invalid(_ reason: String) -> DownloadError { .invalidMirror(mirror: url.absoluteString, reason: reason) }
        switch url.scheme?.lowercased() {
        case nil:
            throw invalid("it has no scheme (http://, https:// or file://)")
        case "http", "https":
            guard let host = url.host, !host.isEmpty else { throw invalid("it names no host") }
        case "file":
            guard url.path.hasPrefix("/") else { throw invalid("a file mirror needs an absolute path") }
        case let scheme?:
            throw invalid("the scheme '\(scheme)' is not http, https or file")
        }
        if url.query != nil || url.fragment != nil { throw invalid("a mirror is a base folder, without ?query or #fragment") }
    }

    /// A downloader; `mirror` nil reads `MEDMNIST_MIRROR` (unset: the catalog's Zenodo URLs). The mirror is
    /// checked by ``validateMirror(_:)`` when a download starts.
    public init(
        mirror: URL? = nil, attempts: Int = 3, retryDelay: TimeInterval = 1, timeout: TimeInterval = 60,
        showProgress: Bool = true
    ) {
        precondition(attempts >= 1, "Downloader: attempts must be at least 1")
        let environment = ProcessInfo.processInfo.environment[Self.mirrorEnvironmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        self.mirror = mirror ?? environment.flatMap { URL(string: $0) }
        unparsableEnvironmentMirror = mirror == nil && self.mirror == nil ? environment : nil
        self.attempts = attempts
        self.retryDelay = retryDelay
        self.timeout = timeout
        self.showProgress = showProgress
    }

    /// Where `file` is fetched from: `{mirror}/{fileName}` or the catalog URL.
    public func sourceURL(for file: DatasetFile) -> URL {
        mirror.map { $0.appendingPathComponent(file.fileName) } ?? file.url
    }

    /// Downloads `file` into `root` and returns its path. A file already there with the right MD5 is kept
    /// (unless `force`); one with a wrong MD5 is replaced.
    /// - Throws: ``DownloadError``: ``DownloadError/invalidMirror(mirror:reason:)`` before anything is
    ///   fetched when the mirror is not usable.
    @discardableResult
    public func download(_ file: DatasetFile, into root: DatasetRoot, force: Bool = false) async throws -> URL {
        if let text = unparsableEnvironmentMirror {
            throw DownloadError.invalidMirror(mirror: text, reason: "\(Self.mirrorEnvironmentVariable) is not a URL")
        }
        if let mirror { try Self.validateMirror(mirror) }
        try root.createIfNeeded()
        let destination = root.url(for: file)
        if !force, FileManager.default.fileExists(atPath: destination.path) {
            if (try? MD5.hexDigest(ofFileAt: destination)) == file.md5 { return destination }
        }
        try await fetch(sourceURL(for: file), to: destination, expectedMD5: file.md5)
        return destination
    }

    /// Fetches `url` to `destination` through a temporary file, retrying, and checking `expectedMD5` (32 hex
    /// digits, any case) when given.
    /// - Throws: ``DownloadError`` (``DownloadError/invalidMD5(_:)`` before anything is fetched when
    ///   `expectedMD5` is not an MD5 digest); `FileError` when the destination cannot be written;
    ///   `CancellationError` if the task is cancelled.
    public func fetch(_ url: URL, to destination: URL, expectedMD5: String?) async throws {
        var checksum: Checksum?
        if let expectedMD5 {
            guard let md5 = Checksum(algorithm: .md5, hex: expectedMD5) else { throw DownloadError.invalidMD5(expectedMD5) }
            checksum = md5
        }
        do {
            try await FileDownloader.download(from: url, to: destination, options: options(checksum: checksum))
        } catch let error as FileDownloadError {
            throw DownloadError.from(error)
        }
    }

    private func options(checksum: Checksum?) -> FileDownloadOptions {
        var options = FileDownloadOptions(
            expectedChecksum: checksum, progress: showProgress ? .always : .never, maxAttempts: attempts,
            initialBackoff: retryDelay, timeout: timeout)
        // The catalog's MD5 is the authority: a mismatch means a corrupted transfer, worth fetching again.
        options.retriesChecksumMismatch = true
        // Zenodo's entity tags are not SHA-256 digests of the file; only the catalog's MD5 is checked.
        options.verifyServerChecksum = false
        return options
    }
}
