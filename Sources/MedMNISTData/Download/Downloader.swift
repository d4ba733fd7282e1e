import Foundation
import MedTensor
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches MedMNIST files with Foundation's `URLSession`: streamed to a temporary file in the destination's
/// folder with a progress bar on standard error, retried on transport errors and server errors, checked
/// against the catalog's MD5, and renamed into place only when complete and correct.
///
/// The base URL is the catalog's Zenodo record unless a mirror is set — by ``mirror`` or by the environment
/// variable `MEDMNIST_MIRROR` — in which case a file is fetched from `{mirror}/{file name}`.
public struct Downloader: Sendable {
    /// The environment variable naming a mirror base URL.
    public static let mirrorEnvironmentVariable = "MEDMNIST_MIRROR"

    /// Base URL replacing the Zenodo record; nil uses `MEDMNIST_MIRROR` or the catalog URLs.
    public var mirror: URL?
    /// Attempts per file, including the first (transport errors, HTTP 5xx/408/429, short or corrupt transfers).
    public var attempts: Int
    /// Wait before the first retry; doubled for each further retry.
    public var retryDelay: TimeInterval
    /// Seconds without any data before an attempt fails.
    public var timeout: TimeInterval
    /// Draw the progress bar on standard error.
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
    @discardableResult
    public func download(_ file: DatasetFile, into root: DatasetRoot, force: Bool = false) throws -> URL {
        try root.createIfNeeded()
        let destination = root.url(for: file)
        if !force, FileManager.default.fileExists(atPath: destination.path) {
            if (try? MD5.hexDigest(ofFileAt: destination)) == file.md5 { return destination }
        }
        try fetch(sourceURL(for: file), to: destination, expectedMD5: file.md5)
        return destination
    }

    /// Fetches `url` to `destination` through a temporary file, retrying, and checking `expectedMD5` when given.
    public func fetch(_ url: URL, to destination: URL, expectedMD5: String?) throws {
        let temporary = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).part-\(getpid())")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let progress = ProgressBar(label: destination.lastPathComponent, enabled: showProgress)
        var delay = retryDelay
        var lastError: DownloadError?
        for attempt in 1...attempts {
            if attempt > 1 {
                progress.message("retrying \(url.absoluteString) in \(String(format: "%.1f", delay)) s (attempt \(attempt) of \(attempts)): \(lastError!)")
                Thread.sleep(forTimeInterval: delay)
                delay *= 2
            }
            do {
                try attemptTransfer(url, to: temporary, destination: destination, progress: progress, attempt: attempt)
                if let expectedMD5 {
                    let actual = try MD5.hexDigest(ofFileAt: temporary)
                    guard actual == expectedMD5.lowercased() else {
                        throw DownloadError.md5Mismatch(url: url.absoluteString, expected: expectedMD5, actual: actual,
                                                        destination: destination.path)
                    }
                }
                try? FileManager.default.removeItem(at: destination)
                guard rename(temporary.path, destination.path) == 0 else {
                    throw DownloadError.io(path: destination.path, reason: String(cString: strerror(errno)))
                }
                return
            } catch let error as DownloadError {
                lastError = error
                switch error {
                case .httpStatus(_, let status, _) where !(status >= 500 || status == 408 || status == 429):
                    throw error
                case .io:
                    throw error
                default:
                    continue
                }
            }
        }
        if case .transport(let u, let reason, _, let d) = lastError! {
            throw DownloadError.transport(url: u, reason: reason, attempts: attempts, destination: d)
        }
        throw lastError!
    }

    private func attemptTransfer(_ url: URL, to temporary: URL, destination: URL, progress: ProgressBar, attempt: Int) throws {
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw DownloadError.io(path: temporary.path, reason: "cannot create the temporary file")
        }
        let handle: FileHandle
        do { handle = try FileHandle(forWritingTo: temporary) } catch {
            throw DownloadError.io(path: temporary.path, reason: "\(error.localizedDescription)")
        }
        let transfer = Transfer(handle: handle, progress: progress)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: queue)
        session.dataTask(with: URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)).resume()
        transfer.done.wait()
        session.finishTasksAndInvalidate()
        try? handle.close()
        let (status, received, expected, error, writeError) = transfer.outcome
        if let writeError { throw DownloadError.io(path: temporary.path, reason: writeError) }
        if let status, status != 200 {
            throw DownloadError.httpStatus(url: url.absoluteString, status: status, destination: destination.path)
        }
        if let error {
            throw DownloadError.transport(url: url.absoluteString, reason: error.localizedDescription, attempts: attempt,
                                          destination: destination.path)
        }
        if let expected, received != expected {
            throw DownloadError.incomplete(url: url.absoluteString, received: received, expected: expected,
                                           destination: destination.path)
        }
        progress.finish(received: received, total: expected ?? received)
    }
}

/// The URLSession delegate of one attempt: writes each chunk as it arrives. Callbacks come on one serial
/// queue; the lock covers the final read from the waiting thread.
private final class Transfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let handle: FileHandle
    let progress: ProgressBar
    let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var status: Int?
    private var received: Int64 = 0
    private var expected: Int64?
    private var error: (any Error)?
    private var writeError: String?

    init(handle: FileHandle, progress: ProgressBar) {
        self.handle = handle
        self.progress = progress
    }

    var outcome: (Int?, Int64, Int64?, (any Error)?, String?) {
        lock.withLock { (status, received, expected, error, writeError) }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        let code = (response as? HTTPURLResponse)?.statusCode
        lock.withLock {
            status = code
            expected = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
        }
        completionHandler(code == nil || code == 200 ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        do {
            try handle.write(contentsOf: data)
        } catch {
            lock.withLock { writeError = error.localizedDescription }
            dataTask.cancel()
            return
        }
        let (now, total) = lock.withLock { received += Int64(data.count); return (received, expected) }
        progress.update(received: now, total: total)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.withLock {
            // A cancel after a non-200 status is ours, not a transport failure.
            if let status, status != 200 { self.error = nil } else { self.error = error }
        }
        done.signal()
    }
}
