import Foundation

/// One measured row: a case name, a value and its unit, plus the peer's value when one ran beside it.
struct BenchmarkResult {
    let name: String
    let value: Double
    let unit: String
    var peer: (name: String, value: Double)? = nil
}

/// Options every benchmark group shares.
struct BenchmarkOptions {
    var json = false
    var filter: String? = nil
    /// Tiny sizes and few repetitions: proves the benchmark still runs (CI), measures nothing.
    var quick = false
    var repetitions = 5

    func includes(_ name: String) -> Bool { filter.map { name.contains($0) } ?? true }
}

/// Runs before the timed ones. One is not enough: a fresh process's first few large allocations fault their
/// pages in (malloc maps them anew until its thresholds adapt), which a training loop pays once but a
/// median of five would still include.
let warmUpRuns = 3

/// Median wall time in seconds of `repetitions` runs of `body` after ``warmUpRuns`` untimed runs.
func medianSeconds(repetitions: Int, _ body: () -> Void) -> Double {
    for _ in 0..<warmUpRuns { body() }
    var times: [Double] = []
    for _ in 0..<max(repetitions, 1) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    times.sort()
    return times[times.count / 2]
}

/// Median seconds per run of each of `bodies`, timed in alternation: after ``warmUpRuns`` of each, every
/// round runs each body once. Side-by-side comparisons use this so that a machine whose speed drifts
/// (shared virtual machines do, by tens of percent) slows every contender alike.
func alternatingMedianSeconds(repetitions: Int, _ bodies: [() -> Void]) -> [Double] {
    for _ in 0..<warmUpRuns { for body in bodies { body() } }
    var times = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<max(repetitions, 1) {
        for (index, body) in bodies.enumerated() {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times[index].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
    }
    return times.map { $0.sorted()[$0.count / 2] }
}

/// Prints results as a table, or as one JSON object per line (`{"case", "value", "unit"}`; a peer's
/// figure is a row of its own with the peer's name appended to the case).
func report(_ results: [BenchmarkResult], options: BenchmarkOptions, title: String) {
    if options.json {
        for result in results {
            print(jsonLine(result.name, result.value, result.unit))
            if let peer = result.peer { print(jsonLine("\(result.name)-\(peer.name)", peer.value, result.unit)) }
        }
        return
    }
    print(title)
    let width = max(28, results.map(\.name.count).max() ?? 0)
    let hasPeer = results.contains { $0.peer != nil }
    var header = "case".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + pad("value", 12) + "  unit"
    if hasPeer { header += "        " + pad("peer", 12) + "  ratio" }
    print(header)
    for result in results {
        var line = result.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
            + pad(String(format: "%.2f", result.value), 12) + "  " + result.unit
        if let peer = result.peer {
            line += String(repeating: " ", count: max(0, 10 - result.unit.count)) + "  " + pad(String(format: "%.2f", peer.value), 12) + "  " + String(format: "%.2f× %@", result.value / peer.value, peer.name)
        }
        print(line)
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

private func jsonLine(_ name: String, _ value: Double, _ unit: String) -> String {
    let rounded = (value * 1000).rounded() / 1000
    return "{\"case\": \"\(name)\", \"value\": \(rounded), \"unit\": \"\(unit)\"}"
}
