import Foundation
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

    /// A downloader; `mirror` nil reads `MEDMNIST_MIRROR` (unset: the catalog's Zenodo URLs).
    public init(
        mirror: URL? = nil, attempts: Int = 3, retryDelay: TimeInterval = 1, timeout: TimeInterval = 60,
        showProgress: Bool = true
    ) {
        precondition(attempts >= 1, "Downloader: attempts must be at least 1")
        self.mirror = mirror ?? ProcessInfo.processInfo.environment[Self.mirrorEnvironmentVariable]
            .flatMap { $0.isEmpty ? nil : URL(string: $0) }
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
    /// - Throws: ``DownloadError``.
    @discardableResult
    public func download(_ file: DatasetFile, into root: DatasetRoot, force: Bool = false) async throws -> URL {
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
    /// - Throws: ``DownloadError``; `CancellationError` if the task is cancelled.
    public func fetch(_ url: URL, to destination: URL, expectedMD5: String?) async throws {
        do {
            try await FileDownloader.download(from: url, to: destination, options: options(expectedMD5: expectedMD5))
        } catch let error as FileDownloadError {
            throw DownloadError(error)
        }
    }

    private func options(expectedMD5: String?) -> FileDownloadOptions {
        var checksum: Checksum?
        if let expectedMD5 {
            guard let md5 = Checksum(algorithm: .md5, hex: expectedMD5) else {
                preconditionFailure("Downloader: '\(expectedMD5)' is not an MD5 hex digest")
            }
            checksum = md5
        }
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
