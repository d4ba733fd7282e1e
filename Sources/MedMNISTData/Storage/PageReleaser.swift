import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps the resident set small while a long extraction streams through memory-mapped files.
///
/// Every `interval` a background thread tells the kernel the process no longer needs the pages of the given
/// ranges (`madvise(MADV_DONTNEED)`). For file mappings nothing is lost: a read-only mapping's pages are
/// still in the page cache and a shared writable mapping's writes are already in it; the next touch maps
/// them again (a minor fault). So inflating a 1 GB image array out of a mapped npz holds the output, not the
/// output plus the compressed input, and building a cache file holds neither.
///
/// Only for file mappings — on anonymous memory `MADV_DONTNEED` discards the data.
final class PageReleaser: @unchecked Sendable {
    private let ranges: [(start: UInt, length: Int)]
    private let stopSignal = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts releasing `ranges` (of file-backed mappings) every `interval` seconds.
    init(fileMappings ranges: [UnsafeRawBufferPointer], interval: TimeInterval = 0.02) {
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        self.ranges = ranges.compactMap { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return nil }
            let start = UInt(bitPattern: base) / page * page  // the mapping itself starts on a page
            return (start, Int(UInt(bitPattern: base) - start) + buffer.count)
        }
        let thread = Thread { [self] in
            while stopSignal.wait(timeout: .now() + interval) == .timedOut { release() }
            release()
            finished.signal()
        }
        thread.stackSize = 64 * 1024
        thread.start()
    }

    /// Releases once more and stops the thread.
    func stop() {
        stopSignal.signal()
        finished.wait()
    }

    private func release() {
        for range in ranges {
            _ = madvise(UnsafeMutableRawPointer(bitPattern: range.start), range.length, MADV_DONTNEED)
        }
    }
}
