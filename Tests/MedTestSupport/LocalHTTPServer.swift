import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests of downloads: POSIX sockets, an ephemeral port, one
/// connection at a time, `Connection: close` on every response. Each path answers with a scripted
/// ``Response``; a ``Response/sequence(_:)`` answers the n-th request with its n-th element (the last one
/// repeating), for retry tests. Routes match the request path exactly, query included.
/// ```swift
/// let server = try LocalHTTPServer()
/// defer { server.stop() }
/// server.route("/file", .ok(body: bytes, headers: ["ETag": "\"\(sha)\""]))
/// let url = server.url("/file")
/// ```
public final class LocalHTTPServer: @unchecked Sendable {  // mutable state guarded by `lock`
    public indirect enum Response: Sendable {
        /// 200 with the body and a correct Content-Length.
        case ok(body: [UInt8], headers: [String: String] = [:])
        /// Any status, with a small text body.
        case status(Int, headers: [String: String] = [:])
        /// Announces the whole body's length, sends only the first `sendBytes` bytes, then closes the connection:
        /// cleanly, or with a reset (RST, like a link that failed) when `reset`.
        case dropAfter(body: [UInt8], sendBytes: Int, headers: [String: String] = [:], reset: Bool = false)
        /// A redirect (302 by default) to `location`, which may be a path on this server.
        case redirect(location: String, status: Int = 302, headers: [String: String] = [:])
        /// Announces the whole body, sends `sendBytes` of it, then goes silent for `seconds` before closing
        /// (for time-out and cancellation tests; this server answers nothing else meanwhile).
        case stall(body: [UInt8], sendBytes: Int, seconds: Double)
        /// Sends the body in `chunks` pieces, `interval` seconds apart (a slow but live transfer).
        case trickle(body: [UInt8], chunks: Int, interval: Double)
        /// Closes the connection without answering.
        case hangUp
        /// The n-th request gets the n-th response; the last one repeats.
        case sequence([Response])
    }

    /// The ephemeral port on 127.0.0.1 the server listens on.
    public let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var routes: [String: Response] = [:]
    private var counts: [String: Int] = [:]
    private var log: [String] = []
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    /// Starts a server with the given routes (more can be added with ``route(_:_:)``); unrouted paths get 404.
    /// - Throws: ``ServerError`` when no socket can be bound on 127.0.0.1.
    public convenience init(routes: [String: Response]) throws {
        try self.init()
        for (path, response) in routes { route(path, response) }
    }

    /// Starts a server with no routes: every path answers 404 until routed.
    public init() throws {
        let (fd, port) = try bindLoopback(reuseAddress: true)
        guard listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw ServerError.socket("listen", code)
        }
        listener = fd
        self.port = port
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "LocalHTTPServer:\(port)"
        thread.start()
    }

    /// A socket call that failed while starting the server.
    public struct ServerError: Error, CustomStringConvertible {
        public let operation: String
        public let code: Int32
        init(_ operation: String, _ code: Int32) { self.operation = operation; self.code = code }
        static func socket(_ operation: String, _ code: Int32) -> ServerError { ServerError(operation, code) }
        public var description: String { "\(operation) failed: \(String(cString: strerror(code)))" }
    }

    deinit { stop() }

    /// `http://127.0.0.1:PORT` + `path`.
    public func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }
    /// `http://127.0.0.1:PORT`.
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Answers requests for `path` (query included) with `response` from now on.
    public func route(_ path: String, _ response: Response) {
        lock.lock()
        routes[path] = response
        lock.unlock()
    }

    /// Requests received for `path` so far.
    public func requestCount(_ path: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return counts[path] ?? 0
    }

    /// Every request line received, in order ("GET /path").
    public var requests: [String] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    /// Stops accepting and waits for the accept loop to end. Idempotent.
    public func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        guard !wasStopped else { return }
        // Shut down, wait for the accept loop to leave, and only then close: closing first would free the
        // descriptor number for another server in a parallel test while this loop may still call accept on it.
        shutdown(listener, Int32(SHUT_RDWR))
        done.wait()
        close(listener)
    }

    // MARK: - serving

    private func acceptLoop() {
        defer { done.signal() }
        while true {
            lock.lock()
            let isStopped = stopped
            lock.unlock()
            if isStopped { return }
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            handle(client)
            shutdown(client, Int32(SHUT_RDWR))
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        // Read the request head.
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !head.containsSubsequence([13, 10, 13, 10]) && head.count < 65536 {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            head += buffer[0..<n]
        }
        let requestLine = String(decoding: head.prefix { $0 != 13 }, as: UTF8.self)
        let parts = requestLine.split(separator: " ")
        guard parts.count >= 2 else { return }
        let method = String(parts[0]), path = String(parts[1])

        lock.lock()
        let index = counts[path] ?? 0
        counts[path] = index + 1
        log.append("\(method) \(path)")
        var response = routes[path] ?? .status(404)
        lock.unlock()
        if case .sequence(let steps) = response {
            response = steps.isEmpty ? .status(500) : steps[min(index, steps.count - 1)]
        }
        let isHead = method == "HEAD"

        switch response {
        case .ok(let body, let headers):
            respond(client, status: 200, headers: headers, contentLength: body.count, body: isHead ? [] : body)
        case .status(let code, let headers):
            let body = Array("status \(code)\n".utf8)
            respond(client, status: code, headers: headers, contentLength: body.count, body: isHead ? [] : body)
        case .dropAfter(let body, let sendBytes, let headers, let reset):
            respond(client, status: 200, headers: headers, contentLength: body.count, body: Array(body.prefix(sendBytes)))
            if reset { abortOnClose(client) }
        case .redirect(let location, let code, let headers):
            var all = headers
            all["Location"] = location
            respond(client, status: code, headers: all, contentLength: 0, body: [])
        case .stall(let body, let sendBytes, let seconds):
            respond(client, status: 200, headers: [:], contentLength: body.count, body: Array(body.prefix(sendBytes)))
            Thread.sleep(forTimeInterval: seconds)
        case .trickle(let body, let chunks, let interval):
            respond(client, status: 200, headers: [:], contentLength: body.count, body: [])
            let size = (body.count + max(chunks, 1) - 1) / max(chunks, 1)
            for start in stride(from: 0, to: body.count, by: max(size, 1)) {
                Thread.sleep(forTimeInterval: interval)
                writeAll(client, Array(body[start..<min(body.count, start + size)]))
            }
        case .hangUp, .sequence:
            return
        }
    }

    /// Makes the coming close send RST instead of FIN (SO_LINGER with a zero timeout).
    private func abortOnClose(_ client: Int32) {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(client, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    private func respond(_ client: Int32, status: Int, headers: [String: String], contentLength: Int, body: [UInt8]) {
        var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        text += "Content-Length: \(contentLength)\r\nConnection: close\r\nContent-Type: application/octet-stream\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        writeAll(client, Array(text.utf8) + body)
    }

    private func writeAll(_ client: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                // MSG_NOSIGNAL: a client that went away must not kill the test process with SIGPIPE.
                let n = send(client, raw.baseAddress! + offset, raw.count - offset, noSignal)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 307: "Temporary Redirect"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

#if os(Linux)
private let noSignal = Int32(MSG_NOSIGNAL)
#else
private let noSignal: Int32 = 0
#endif

private extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard count >= needle.count else { return false }
        for start in 0...(count - needle.count) where self[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
