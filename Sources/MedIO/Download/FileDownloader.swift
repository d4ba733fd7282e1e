import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A checksum a download must match.
public struct Checksum: Sendable, Equatable, CustomStringConvertible {
    public enum Algorithm: String, Sendable {
        case sha256 = "SHA-256"
        case md5 = "MD5"

        var hexLength: Int { self == .sha256 ? 64 : 32 }
    }

    public let algorithm: Algorithm
    /// Lowercase hexadecimal digest.
    public let hex: String

    /// A checksum from its hex digest, or nil if `hex` is not `algorithm`'s length in hex digits.
    public init?(algorithm: Algorithm, hex: String) {
        let lower = hex.lowercased()
        guard lower.utf8.count == algorithm.hexLength, lower.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            return nil
        }
        self.algorithm = algorithm
        self.hex = lower
    }

    /// A checksum whose algorithm follows from the digest's length: 64 hex digits SHA-256, 32 MD5.
    public init?(hex: String) {
        switch hex.utf8.count {
        case 64: self.init(algorithm: .sha256, hex: hex)
        case 32: self.init(algorithm: .md5, hex: hex)
        default: return nil
        }
    }

    /// A SHA-256 checksum; `hex` must be 64 hexadecimal digits.
    public static func sha256(_ hex: String) -> Checksum {
        guard let c = Checksum(algorithm: .sha256, hex: hex) else { preconditionFailure("'\(hex)' is not a SHA-256 hex digest") }
        return c
    }

    /// An MD5 checksum; `hex` must be 32 hexadecimal digits.
    public static func md5(_ hex: String) -> Checksum {
        guard let c = Checksum(algorithm: .md5, hex: hex) else { preconditionFailure("'\(hex)' is not an MD5 hex digest") }
        return c
    }

    public var description: String { "\(algorithm.rawValue) \(hex)" }

    /// The SHA-256 an HTTP entity tag carries, if it is one: the Hugging Face hub's `X-Linked-Etag` (and the
    /// `ETag` of LFS files it serves directly) is the file's SHA-256 in quotes. Anything else — a git blob's
    /// SHA-1 (40 digits), an S3 MD5, a weak tag — gives nil and is not used for verification.
    public static func sha256(fromETag value: String) -> Checksum? {
        var tag = value.trimmingCharacters(in: .whitespaces)
        if tag.hasPrefix("W/") { return nil }
        if tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count >= 2 { tag = String(tag.dropFirst().dropLast()) }
        return Checksum(algorithm: .sha256, hex: tag)
    }
}

/// How ``FileDownloader`` fetches a file.
public struct FileDownloadOptions: Sendable {
    /// When to report progress on standard error. On a terminal the bar is redrawn in place; otherwise (a log
    /// file, CI) a line is written at every quarter of the file. Retries are announced with the bar.
    public enum Progress: Sendable {
        /// Only when standard error is a terminal.
        case automatic
        /// On a terminal or, as a line per quarter, in a log.
        case always
        case never
    }

    /// The checksum the file must have. When nil, a SHA-256 that the server announces (`X-Linked-Etag`, or the
    /// `ETag` of the original URL when it is a SHA-256) is verified instead, if ``verifyServerChecksum``.
    public var expectedChecksum: Checksum?
    /// Check the server's SHA-256 entity tag when there is one (as the Hugging Face hub gives for LFS files).
    public var verifyServerChecksum = true
    public var progress: Progress = .automatic
    /// What the progress bar calls the file; the destination's file name by default.
    public var progressLabel: String?
    /// Tries per download. Transport errors, dropped connections and HTTP 408/425/429/5xx are retried;
    /// other HTTP errors, checksum mismatches and file system errors are not.
    public var maxAttempts = 4
    /// Also retry when the data does not match a checksum, for sources whose checksum is trusted over the
    /// transfer (a catalog's MD5): a corrupted transfer is then fetched again rather than reported at once.
    public var retriesChecksumMismatch = false
    /// Seconds before the first retry; each retry waits twice as long (±25 % jitter), up to ``maxBackoff``.
    public var initialBackoff: Double = 1
    public var maxBackoff: Double = 30
    /// Seconds without any data before a request gives up (whole seconds, at least 1).
    public var timeout: Double = 60
    /// Extra request headers (e.g. `Authorization`).
    public var headers: [String: String] = [:]

    public init(
        expectedChecksum: Checksum? = nil, progress: Progress = .automatic, maxAttempts: Int = 4,
        initialBackoff: Double = 1, timeout: Double = 60
    ) {
        self.expectedChecksum = expectedChecksum
        self.progress = progress
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.timeout = timeout
    }
}

/// A download that did not produce its file. The message says which URL failed, why, after how many
/// attempts, and where to put the file by hand; no partial file is left at the destination.
public struct FileDownloadError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// The server answered with this HTTP status.
        case httpStatus(Int)
        /// The request failed below HTTP (no connection, name lookup, TLS, time-out, connection lost).
        case transport(String)
        /// The body ended before the announced length.
        case incomplete(received: Int64, expected: Int64)
        /// The data does not have the checksum that `source` ("expected", "the server's X-Linked-Etag", ...) gave.
        case checksumMismatch(algorithm: Checksum.Algorithm, expected: String, actual: String, source: String)
        /// The destination directory or temporary file could not be created, written or renamed.
        case fileSystem(String)
        /// A `file://` source could not be opened or read.
        case unreadableSource(String)

        public var description: String {
            switch self {
            case .httpStatus(let code):
                let text = HTTPURLResponse.localizedString(forStatusCode: code)
                return "the server answered HTTP \(code)\(text.isEmpty ? "" : " (\(text))")"
            case .transport(let reason): return reason
            case .incomplete(let received, let expected):
                return "the connection closed after \(received) of \(expected) bytes"
            case .checksumMismatch(let algorithm, let expected, let actual, let source):
                return "the data's \(algorithm.rawValue) is \(actual) but \(source) says \(expected)"
            case .fileSystem(let reason), .unreadableSource(let reason): return reason
            }
        }

        /// Whether trying again may help.
        public var isRetryable: Bool {
            switch self {
            case .httpStatus(let code): return code == 408 || code == 425 || code == 429 || (500...599).contains(code)
            case .transport, .incomplete: return true
            case .checksumMismatch, .fileSystem, .unreadableSource: return false
            }
        }
    }

    public let url: URL
    /// Where the file was to be written; putting a copy there by hand makes the download unnecessary.
    public let destination: URL
    public let reason: Reason
    /// Attempts made (1 when the error was not worth retrying).
    public let attempts: Int
    /// What the caller knows about the likely cause (e.g. "the tag may not exist"), added to the message.
    public var hint: String?

    public init(url: URL, destination: URL, reason: Reason, attempts: Int, hint: String? = nil) {
        self.url = url
        self.destination = destination
        self.reason = reason
        self.attempts = attempts
        self.hint = hint
    }

    public var description: String {
        let tries = attempts == 1 ? "" : " after \(attempts) attempts"
        return "could not download \(url.absoluteString)\(tries): \(reason).\n"
            + (hint.map { "\($0)\n" } ?? "")
            + "To use the file without downloading it here, fetch that URL elsewhere and put the file at \(destination.path)"
    }
}

/// What a completed download wrote.
public struct FileDownloadResult: Sendable {
    /// The destination, now holding the complete, verified file.
    public let file: URL
    public let byteCount: Int64
    /// The file's SHA-256 (computed while downloading, whether or not it was checked).
    public let sha256: String
    /// The checksums the file was verified against, with where each came from.
    public let verified: [(checksum: Checksum, source: String)]
    public let attempts: Int
}

/// Downloads files over HTTP(S) — model weights now, datasets later — safely: the body streams into a
/// temporary file in the destination's directory while its SHA-256 (and MD5 if one is expected) is computed;
/// only a complete file with the right checksum is renamed into place, so the destination never holds a
/// partial or corrupt file. Failed attempts are retried with exponential backoff.
/// ```swift
/// let result = try await FileDownloader.download(
///     from: URL(string: "https://example.org/data.npz")!, to: cache.appendingPathComponent("data.npz"),
///     options: FileDownloadOptions(expectedChecksum: .md5("0123456789abcdef0123456789abcdef")))
/// ```
/// `file://` URLs are copied the same way (verified, then renamed), which lets a local mirror stand in for a
/// server.
public enum FileDownloader {
    /// Downloads `url` to `destination` (replacing any file there), creating the directory if needed.
    /// - Throws: ``FileDownloadError``; `CancellationError` if the task is cancelled.
    @discardableResult
    public static func download(from url: URL, to destination: URL, options: FileDownloadOptions = FileDownloadOptions()) async throws -> FileDownloadResult {
        let directory = destination.deletingLastPathComponent()
        func failure(_ reason: FileDownloadError.Reason, _ attempts: Int) -> FileDownloadError {
            FileDownloadError(url: url, destination: destination, reason: reason, attempts: attempts)
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw failure(.fileSystem("cannot create the directory \(directory.path): \(error.localizedDescription)"), 1)
        }
        let maxAttempts = max(1, options.maxAttempts)
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            do {
                let result = try await attemptDownload(url, to: destination, options: options)
                return FileDownloadResult(
                    file: result.file, byteCount: result.byteCount, sha256: result.sha256, verified: result.verified,
                    attempts: attempt)
            } catch let failed as AttemptFailure {
                let reason = failed.reason
                guard shouldRetry(reason, options), attempt < maxAttempts else { throw failure(reason, attempt) }
                let base = min(options.maxBackoff, options.initialBackoff * Double(1 << min(attempt - 1, 20)))
                let delay = base * Double.random(in: 0.75...1.25)
                if DownloadProgressBar.isShown(options.progress) {
                    DownloadProgressBar.note(
                        "retrying \(url.absoluteString) in \(String(format: "%.1f", delay)) s "
                            + "(attempt \(attempt + 1) of \(maxAttempts)): \(reason)")
                }
                try await Task.sleep(nanoseconds: UInt64(max(0, delay) * 1e9))
            }
        }
    }

    private static func shouldRetry(_ reason: FileDownloadError.Reason, _ options: FileDownloadOptions) -> Bool {
        if case .checksumMismatch = reason { return options.retriesChecksumMismatch }
        return reason.isRetryable
    }

    // MARK: - one attempt

    /// Why one attempt failed.
    struct AttemptFailure: Error {
        let reason: FileDownloadError.Reason
        init(_ reason: FileDownloadError.Reason) { self.reason = reason }
    }

    /// One request into a fresh temporary file; renames it into place when complete and verified.
    /// Throws ``AttemptFailure`` (or `CancellationError`).
    private static func attemptDownload(_ url: URL, to destination: URL, options: FileDownloadOptions) async throws -> FileDownloadResult {
        let file: AtomicFile
        do { file = try AtomicFile(destination) } catch { throw AttemptFailure(.fileSystem("\(error)")) }
        defer { file.discard() }
        let label = options.progressLabel ?? destination.lastPathComponent
        let progress = DownloadProgressBar.make(options.progress, label: label)
        var sink = DownloadSink(file: file, progress: progress, md5: options.expectedChecksum?.algorithm == .md5)

        let transfer: TransferOutcome
        if url.isFileURL {
            transfer = try copyLocal(url, into: &sink)
        } else {
            transfer = try await fetch(url, options: options, sink: sink)
            sink = transfer.sink ?? sink
        }
        progress?.finish(success: transfer.failure == nil)
        if let failure = transfer.failure { throw AttemptFailure(failure) }

        // Verify: the length the server announced, then the checksums.
        if let expected = transfer.expectedLength, expected != sink.received {
            throw AttemptFailure(.incomplete(received: sink.received, expected: expected))
        }
        let sha256 = sink.sha256.hexDigest
        var checks: [(checksum: Checksum, source: String)] = []
        if let expected = options.expectedChecksum { checks.append((expected, "the expected checksum")) }
        if options.verifyServerChecksum, let server = transfer.serverChecksum { checks.append(server) }
        for (checksum, source) in checks {
            let actual = checksum.algorithm == .sha256 ? sha256 : (sink.md5?.hexDigest ?? "")
            guard actual == checksum.hex else {
                throw AttemptFailure(.checksumMismatch(
                    algorithm: checksum.algorithm, expected: checksum.hex, actual: actual, source: source))
            }
        }
        do { try file.commit() } catch { throw AttemptFailure(.fileSystem("\(error)")) }
        return FileDownloadResult(file: destination, byteCount: sink.received, sha256: sha256, verified: checks, attempts: 1)
    }

    private struct TransferOutcome {
        var failure: FileDownloadError.Reason?
        /// The body length the server announced (when it is not content-encoded).
        var expectedLength: Int64?
        var serverChecksum: (Checksum, String)?
        var sink: DownloadSink?
    }

    private static func copyLocal(_ url: URL, into sink: inout DownloadSink) throws -> TransferOutcome {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return TransferOutcome(failure: .unreadableSource("cannot open \(url.path): \(String(cString: strerror(errno)))"))
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 { sink.progress?.start(total: Int64(info.st_size)) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { chunk.deallocate() }
        while true {
            let n = read(fd, chunk.baseAddress, chunk.count)
            if n < 0 {
                if errno == EINTR { continue }
                return TransferOutcome(failure: .unreadableSource("cannot read \(url.path): \(String(cString: strerror(errno)))"))
            }
            if n == 0 { break }
            try sink.consume(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
        return TransferOutcome()
    }

    private static func fetch(_ url: URL, options: FileDownloadOptions, sink: DownloadSink) async throws -> TransferOutcome {
        let delegate = TransferDelegate(sink: sink)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        // corelibs URLSession truncates time-outs to whole seconds (and 0 fires at once): round up, at least 1 s.
        let timeout = max(1, options.timeout.rounded(.up))
        configuration.timeoutIntervalForRequest = timeout
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: queue)
        defer { session.invalidateAndCancel() }

        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        request.setValue("swift-medmnist", forHTTPHeaderField: "User-Agent")
        for (name, value) in options.headers { request.setValue(value, forHTTPHeaderField: name) }
        let task = session.dataTask(with: request)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                delegate.start(continuation)
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
        try Task.checkCancellation()
        return delegate.outcome()
    }

    /// Receives the session's callbacks (on its serial queue) and streams the body into the sink.
    private final class TransferDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        private let lock = NSLock()
        private var sink: DownloadSink
        private var continuation: CheckedContinuation<Void, Never>?
        private var finished = false
        private var status: Int?
        private var expectedLength: Int64?
        private var linkedChecksum: Checksum?
        private var directChecksum: Checksum?
        private var linkedSize: Int64?
        private var failure: FileDownloadError.Reason?
        private var redirected = false

        init(sink: DownloadSink) {
            self.sink = sink
        }

        func start(_ continuation: CheckedContinuation<Void, Never>) {
            lock.lock()
            defer { lock.unlock() }
            if finished { continuation.resume() } else { self.continuation = continuation }
        }

        func outcome() -> TransferOutcome {
            lock.lock()
            defer { lock.unlock() }
            var outcome = TransferOutcome(failure: failure, sink: sink)
            outcome.expectedLength = expectedLength ?? linkedSize
            if let linkedChecksum {
                outcome.serverChecksum = (linkedChecksum, "the server's X-Linked-Etag")
            } else if let directChecksum {
                outcome.serverChecksum = (directChecksum, "the server's ETag")
            }
            return outcome
        }

        /// Headers that identify the file: the hub puts `X-Linked-Etag` (SHA-256) and `X-Linked-Size` on
        /// its redirect to the storage backend, whose own `ETag` means something else.
        private func recordHeaders(_ response: HTTPURLResponse, isOriginal: Bool) {
            if let linked = response.value(forHTTPHeaderField: "X-Linked-Etag"), let c = Checksum.sha256(fromETag: linked) {
                linkedChecksum = linkedChecksum ?? c
            }
            if let size = response.value(forHTTPHeaderField: "X-Linked-Size").flatMap({ Int64($0) }) {
                linkedSize = linkedSize ?? size
            }
            if isOriginal, let etag = response.value(forHTTPHeaderField: "ETag"), let c = Checksum.sha256(fromETag: etag) {
                directChecksum = c
            }
        }

        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
        ) {
            lock.lock()
            recordHeaders(response, isOriginal: false)
            redirected = true
            lock.unlock()
            completionHandler(request)
        }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
        ) {
            lock.lock()
            guard let http = response as? HTTPURLResponse else {
                lock.unlock()
                completionHandler(.allow)
                return
            }
            status = http.statusCode
            guard (200..<300).contains(http.statusCode) else {
                failure = .httpStatus(http.statusCode)
                lock.unlock()
                completionHandler(.cancel)
                return
            }
            recordHeaders(http, isOriginal: !redirected)
            let encoded = http.value(forHTTPHeaderField: "Content-Encoding").map { $0.lowercased() != "identity" } ?? false
            if response.expectedContentLength >= 0 && !encoded { expectedLength = response.expectedContentLength }
            sink.progress?.start(total: expectedLength ?? linkedSize ?? -1)
            lock.unlock()
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            lock.lock()
            defer { lock.unlock() }
            guard failure == nil else { return }
            do {
                try data.withUnsafeBytes { try sink.consume($0) }
            } catch let failed as FileDownloader.AttemptFailure {
                failure = failed.reason
                dataTask.cancel()
            } catch {
                failure = .fileSystem("\(error)")
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            lock.lock()
            if failure == nil, let error {
                failure = .transport(Self.describe(error))
            }
            finished = true
            let continuation = self.continuation
            self.continuation = nil
            lock.unlock()
            continuation?.resume()
        }

        static func describe(_ error: any Error) -> String {
            guard let urlError = error as? URLError else { return error.localizedDescription }
            let text: String
            switch urlError.code {
            case .cannotConnectToHost: text = "could not connect to the server (nothing listening, or a firewall)"
            case .cannotFindHost, .dnsLookupFailed: text = "the host name could not be resolved (offline?)"
            case .notConnectedToInternet: text = "there is no network connection"
            case .timedOut: text = "the server stopped responding (timed out)"
            case .networkConnectionLost: text = "the connection was lost during the transfer"
            case .cancelled: text = "the request was cancelled"
            case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
                .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
                text = "the TLS connection failed"
            case .badServerResponse: text = "the server's response was not valid HTTP"
            case .unsupportedURL: text = "the URL is not supported"
            default: text = urlError.localizedDescription
            }
            return "\(text) [URLError \(urlError.code.rawValue)]"
        }
    }
}

// MARK: - streaming into a temporary file

/// Writes the body to the temporary file and hashes it on the way.
private struct DownloadSink {
    let file: AtomicFile
    let progress: DownloadProgressBar?
    var sha256 = SHA256()
    var md5: MD5?
    var received: Int64 = 0

    init(file: AtomicFile, progress: DownloadProgressBar?, md5: Bool) {
        self.file = file
        self.progress = progress
        self.md5 = md5 ? MD5() : nil
    }

    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws {
        do { try file.write(bytes) } catch { throw FileDownloader.AttemptFailure(.fileSystem("\(error)")) }
        sha256.update(bytes)
        md5?.update(bytes)
        received += Int64(bytes.count)
        progress?.update(received)
    }
}

// MARK: - progress bar

/// A one-line progress bar on standard error, redrawn at most ten times a second on a terminal; elsewhere
/// (a log) a line per quarter of the file, since carriage returns would pile up there.
final class DownloadProgressBar: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private let label: String
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastQuarter = -1
    private var total: Int64 = -1
    private var current: Int64 = 0
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    private init(label: String) { self.label = label }

    static func make(_ mode: FileDownloadOptions.Progress, label: String) -> DownloadProgressBar? {
        isShown(mode) ? DownloadProgressBar(label: label) : nil
    }

    static func isShown(_ mode: FileDownloadOptions.Progress) -> Bool {
        switch mode {
        case .never: return false
        case .always: return true
        case .automatic: return isatty(STDERR_FILENO) == 1
        }
    }

    /// A line of its own, such as a retry notice.
    static func note(_ text: String) {
        let line = (isatty(STDERR_FILENO) == 1 ? "\r\u{1B}[K" : "") + text + "\n"
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    func start(total: Int64) {
        lock.lock()
        defer { lock.unlock() }
        self.total = total
        started = Date()
    }

    func update(_ bytes: Int64) {
        lock.lock()
        defer { lock.unlock() }
        current = bytes
        let now = Date()
        if isTerminal {
            guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            draw(now, newline: false)
        } else if total > 0 {
            let quarter = Int(min(4, 4 * current / total))
            guard quarter > lastQuarter else { return }
            lastQuarter = quarter
            draw(now, newline: true)
        }
    }

    func finish(success: Bool) {
        lock.lock()
        defer { lock.unlock() }
        guard drawn || success else { return }
        guard isTerminal || lastQuarter < 4 else { return }  // the log already has its 100 % line
        draw(Date(), newline: true)
    }

    private func draw(_ now: Date, newline: Bool) {
        drawn = true
        let seconds = max(now.timeIntervalSince(started), 1e-3)
        let rate = Double(current) / seconds
        var line = (isTerminal ? "\r" : "") + "\(label) "
        if total > 0 {
            let fraction = min(1, Double(current) / Double(total))
            let width = 24
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            line += "\(Int(fraction * 100))% \(Self.size(current))/\(Self.size(total))"
        } else {
            line += Self.size(current)
        }
        line += " \(Self.size(Int64(rate)))/s"
        line += newline ? "\n" : "\u{1B}[K"
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    static func size(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
