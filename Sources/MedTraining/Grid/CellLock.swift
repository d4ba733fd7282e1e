import Foundation
import MedIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The exclusive right to run one grid cell: a lock file next to its result (`….lock`) that names the holder
/// (host, pid, start), held with `flock` and kept fresh by a heartbeat.
///
/// Two workers never run the same cell at once, whether their shards overlap or Slurm requeued a task:
/// - the kernel's lock (`flock`, which Linux maps onto NFS byte-range locks) is released when the holder dies,
///   kill -9 and a lost node included, so a dead holder's file is taken over (it is *stale*);
/// - in case the file system's locks are local to each host (NFS mounted `nolock`), a file naming another host
///   whose heartbeat (its modification time) is younger than `staleAfter` is respected even when the lock is
///   granted.
/// The holder removes the file when the cell is done.
public final class CellLock: @unchecked Sendable {  // the heartbeat timer only touches the descriptor
    /// What the file says about its holder.
    public struct Holder: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var pid: Int32
        public var started: String
        public var description: String { "\(host) pid \(pid) since \(started)" }
    }

    /// The outcome of ``acquire(_:staleAfter:heartbeat:)``.
    public enum Acquisition: Sendable {
        /// This process holds the cell; `tookOverFrom` names a dead holder whose file it took over.
        case acquired(CellLock, tookOverFrom: Holder?)
        /// A live worker holds it.
        case held(by: Holder?)
    }

    public let url: URL
    private var fd: Int32
    private let timer: DispatchSourceTimer

    private init(url: URL, fd: Int32, heartbeat: TimeInterval) {
        self.url = url
        self.fd = fd
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        timer.schedule(deadline: .now() + heartbeat, repeating: heartbeat)
        timer.setEventHandler { [fd] in _ = futimens(fd, nil) }
        timer.resume()
    }

    deinit { release() }

    /// Tries to take the lock at `url` without waiting.
    /// - Parameters:
    ///   - staleAfter: how old another host's heartbeat must be before its file counts as stale.
    ///   - heartbeat: how often the holder refreshes the file's modification time.
    /// - Throws: ``FileError`` when the file cannot be created or locked for another reason than contention.
    public static func acquire(_ url: URL, staleAfter: TimeInterval = 600, heartbeat: TimeInterval = 60) throws -> Acquisition {
        let path = url.path
        try FileError.wrapping(path: path) {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FileError.system(path: path, operation: "open the lock file") }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                close(fd)
                if code == EWOULDBLOCK { return .held(by: readHolder(path)) }
                throw FileError.system(path: path, operation: "lock", code: code)
            }
            // The holder before us may have removed the file between our open and our lock: then we hold a
            // lock on a file no one else will open, and must start again on the current one.
            var opened = stat(), current = stat()
            guard fstat(fd, &opened) == 0, stat(path, &current) == 0, opened.st_ino == current.st_ino,
                  opened.st_dev == current.st_dev
            else {
                close(fd)
                continue
            }
            let previous = readHolder(path)
            let host = ProcessInfo.processInfo.hostName
            if let previous, previous.host != host, !isOlder(opened, than: staleAfter) {
                close(fd)  // another host's fresh heartbeat: its lock may just not be visible here
                return .held(by: previous)
            }
            let me = Holder(host: host, pid: getpid(), started: ISO8601DateFormatter().string(from: Date()))
            let text = Array("host=\(me.host)\npid=\(me.pid)\nstarted=\(me.started)\n".utf8)
            guard ftruncate(fd, 0) == 0, pwrite(fd, text, text.count, 0) == text.count else {
                let error = FileError.system(path: path, operation: "write the lock file")
                close(fd)
                throw error
            }
            return .acquired(CellLock(url: url, fd: fd, heartbeat: heartbeat), tookOverFrom: previous)
        }
    }

    /// Removes the file and releases the lock (once; also when the object goes away).
    public func release() {
        guard fd >= 0 else { return }
        timer.cancel()
        unlink(url.path)  // while still locked, so that no one takes over a file about to vanish
        close(fd)
        fd = -1
    }

    /// The holder a lock file names, if it is readable.
    public static func readHolder(_ path: String) -> Holder? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var fields: [Substring: Substring] = [:]
        for line in text.split(separator: "\n") {
            if let equals = line.firstIndex(of: "=") { fields[line[..<equals]] = line[line.index(after: equals)...] }
        }
        guard let host = fields["host"], let pidText = fields["pid"], let pid = Int32(pidText) else { return nil }
        return Holder(host: String(host), pid: pid, started: String(fields["started"] ?? ""))
    }

    private static func isOlder(_ info: stat, than seconds: TimeInterval) -> Bool {
        #if canImport(Darwin)
        let modified = Double(info.st_mtimespec.tv_sec)
        #else
        let modified = Double(info.st_mtim.tv_sec)
        #endif
        return Date().timeIntervalSince1970 - modified > seconds
    }
}
