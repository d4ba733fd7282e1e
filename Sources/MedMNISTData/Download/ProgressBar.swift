import Foundation

/// A one-line progress bar on standard error: `name  [#######-----]  57%  12.3/21.6 MB  4.1 MB/s`.
///
/// On a terminal the line is redrawn in place at most ten times a second; otherwise (a log file, CI) a line is
/// printed every 25 %.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let enabled: Bool
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var lastQuarter = -1
    private let start = Date()

    init(label: String, enabled: Bool) {
        self.label = label
        self.enabled = enabled
    }

    func update(received: Int64, total: Int64?) {
        guard enabled else { return }
        lock.withLock {
            let now = Date()
            if isTerminal {
                guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
                lastDraw = now
                write("\r" + line(received: received, total: total, now: now))
            } else if let total, total > 0 {
                let quarter = Int(4 * received / total)
                guard quarter > lastQuarter else { return }
                lastQuarter = quarter
                write(line(received: received, total: total, now: now) + "\n")
            }
        }
    }

    func finish(received: Int64, total: Int64?) {
        guard enabled else { return }
        lock.withLock {
            if isTerminal { write("\r" + line(received: received, total: total, now: Date()) + "\n") }
            else if lastQuarter < 4 { write(line(received: received, total: total, now: Date()) + "\n") }
        }
    }

    func message(_ text: String) {
        guard enabled else { return }
        lock.withLock { write((isTerminal ? "\r\u{1B}[K" : "") + text + "\n") }
    }

    private func line(received: Int64, total: Int64?, now: Date) -> String {
        let megabytes = Double(received) / 1e6
        let elapsed = max(now.timeIntervalSince(start), 1e-3)
        let speed = String(format: "%.1f MB/s", megabytes / elapsed)
        guard let total, total > 0 else { return String(format: "%@  %.1f MB  %@", label, megabytes, speed) }
        let fraction = min(1, Double(received) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        return String(format: "%@  [%@] %3d%%  %.1f/%.1f MB  %@", label, bar, Int(fraction * 100), megabytes,
                      Double(total) / 1e6, speed)
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
