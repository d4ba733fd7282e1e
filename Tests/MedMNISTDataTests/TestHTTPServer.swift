import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 for the download tests, on POSIX sockets. One thread accepts and
/// answers connections one at a time, then closes each (`Connection: close`).
final class TestHTTPServer: @unchecked Sendable {
    enum Route {
        /// 200 with these bytes.
        case file([UInt8])
        /// This status and a short body.
        case status(Int)
        /// Announces the whole length, sends only the first half, and closes.
        case drop([UInt8])
        /// Drops the first `failures` requests, then serves the file.
        case flaky([UInt8], failures: Int)
    }

    let port: UInt16
    private let listener: Int32
    private let routes: [String: Route]
    private let lock = NSLock()
    private var hitCounts: [String: Int] = [:]
    private let finished = DispatchSemaphore(value: 0)

    init(routes: [String: Route]) throws {
        struct SocketError: Error { let what: String }
        self.routes = routes
        #if canImport(Glibc)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let listener = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard listener >= 0 else { throw SocketError(what: "socket") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { close(listener); throw SocketError(what: "bind/listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        self.listener = listener
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    func hits(_ path: String) -> Int { lock.withLock { hitCounts[path, default: 0] } }

    /// Stops accepting and waits for the thread to end.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        finished.wait()
    }

    private func serve() {
        defer { finished.signal() }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.containsHeaderEnd {
            let n = recv(client, &buffer, buffer.count, 0)
            if n <= 0 { return }
            request += buffer[0..<n]
        }
        let line = String(decoding: request.prefix { $0 != 0x0D }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2 else { return }
        var path = String(parts[1])
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        let count = lock.withLock { hitCounts[path, default: 0] += 1; return hitCounts[path]! }
        switch routes[path] {
        case .file(let bytes)?:
            respond(client, status: 200, body: bytes)
        case .status(let status)?:
            respond(client, status: status, body: Array("status \(status)\n".utf8))
        case .drop(let bytes)?:
            respond(client, status: 200, body: bytes, sendOnly: bytes.count / 2)
        case .flaky(let bytes, let failures)?:
            respond(client, status: 200, body: bytes, sendOnly: count <= failures ? bytes.count / 3 : nil)
        case nil:
            respond(client, status: 404, body: Array("not found\n".utf8))
        }
    }

    private func respond(_ client: Int32, status: Int, body: [UInt8], sendOnly: Int? = nil) {
        let reason = [200: "OK", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"][status] ?? "Status"
        let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Length: \(body.count)\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + body.prefix(sendOnly ?? body.count)
        var sent = 0
        while sent < bytes.count {
            #if canImport(Glibc)
            let n = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            #else
            let n = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
            #endif
            if n <= 0 { return }
            sent += n
        }
        if sendOnly != nil {
            // Abort the connection (RST) rather than a clean close, like a dropped link.
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        }
    }
}

private extension Array where Element == UInt8 {
    var containsHeaderEnd: Bool {
        guard count >= 4 else { return false }
        for i in 0...(count - 4) where self[i] == 0x0D && self[i + 1] == 0x0A && self[i + 2] == 0x0D && self[i + 3] == 0x0A {
            return true
        }
        return false
    }
}
