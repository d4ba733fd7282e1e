import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension LocalHTTPServer {
    /// A port on 127.0.0.1 where connections are refused, for "unreachable" tests: a socket bound to it but
    /// not listening, so that no other server (in a test running in parallel) can take the port while it is used.
    public final class RefusingPort: @unchecked Sendable {
        /// The refusing port.
        public let port: Int
        private let fd: Int32

        /// Binds a socket to a free port on 127.0.0.1 without listening on it.
        public init() throws {
            (fd, port) = try bindLoopback(reuseAddress: false)
        }

        deinit { close(fd) }
    }
}

/// A TCP socket bound to a free port on 127.0.0.1 (not yet listening), and that port.
/// `reuseAddress` lets a server rebind a port still in TIME_WAIT from an earlier test.
func bindLoopback(reuseAddress: Bool) throws -> (fd: Int32, port: Int) {
    #if os(Linux)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw LocalHTTPServer.ServerError.socket("socket", errno) }
    if reuseAddress {
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else {
        let code = errno
        close(fd)
        throw LocalHTTPServer.ServerError.socket("bind", code)
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
