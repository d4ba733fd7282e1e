/// Iteration over strided layouts in runs: the innermost (coalesced) axis is a run of `length` elements,
/// and the outer axes are walked with counters. Up to three operands share one shape.
struct StridedRuns {
    /// Coalesced shape; the last axis is the run.
    let shape: [Int]
    /// Per operand, coalesced strides.
    let strides: [[Int]]
    let offsets: [Int]

    /// `strides[k]` are operand k's strides over `shape` (0 on broadcast axes).
    init(shape: [Int], strides: [[Int]], offsets: [Int]) {
        var dims: [(size: Int, strides: [Int])] = []
        for axis in 0..<shape.count where shape[axis] != 1 {
            dims.append((shape[axis], strides.map { $0[axis] }))
        }
        // Merge axis i into i+1 when every operand steps over them as one.
        var merged: [(size: Int, strides: [Int])] = []
        for dim in dims {
            if let last = merged.last,
               (0..<strides.count).allSatisfy({ last.strides[$0] == dim.strides[$0] * dim.size }) {
                merged[merged.count - 1] = (last.size * dim.size, dim.strides)
            } else {
                merged.append(dim)
            }
        }
        if merged.isEmpty { merged = [(1, strides.map { _ in 1 })] }
        self.shape = merged.map(\.size)
        self.strides = (0..<strides.count).map { k in merged.map { $0.strides[k] } }
        self.offsets = offsets
    }

    var runLength: Int { shape[shape.count - 1] }
    var runCount: Int { shape.dropLast().reduce(1, *) }
    func innerStride(_ operand: Int) -> Int { strides[operand][shape.count - 1] }

    /// Calls `body(runOffsets)` for runs `runs` (indices into the outer iteration space), with the storage
    /// offset of each operand at the start of the run.
    func forEach(runs: Range<Int>, _ body: (_ offsets: UnsafeMutableBufferPointer<Int>) -> Void) {
        let outerRank = shape.count - 1
        let operandCount = strides.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(outerRank, 1) + operandCount) { scratch in
            let counter = UnsafeMutableBufferPointer(rebasing: scratch[0..<max(outerRank, 1)])
            let position = UnsafeMutableBufferPointer(rebasing: scratch[max(outerRank, 1)...])
            // Decompose the first run index into counters.
            var remainder = runs.lowerBound
            for axis in stride(from: outerRank - 1, through: 0, by: -1) {
                counter[axis] = remainder % shape[axis]
                remainder /= shape[axis]
            }
            for k in 0..<operandCount {
                var offset = offsets[k]
                for axis in 0..<outerRank { offset += counter[axis] * strides[k][axis] }
                position[k] = offset
            }
            for _ in runs {
                body(position)
                // Advance the odometer.
                var axis = outerRank - 1
                while axis >= 0 {
                    counter[axis] += 1
                    for k in 0..<operandCount { position[k] += strides[k][axis] }
                    if counter[axis] < shape[axis] { break }
                    for k in 0..<operandCount { position[k] -= strides[k][axis] * shape[axis] }
                    counter[axis] = 0
                    axis -= 1
                }
            }
        }
    }

    /// Calls `body(offsets, length)` on pieces of runs covering every element, in parallel when the total work
    /// is large enough to pay for threads. A piece is a whole run or, when there are too few runs to keep
    /// every thread busy (a contiguous tensor is a single run), a part of one of at least 16K elements, its
    /// offsets pointing at the part's first element.
    func parallelForEach(_ body: (_ offsets: UnsafeMutableBufferPointer<Int>, _ length: Int) -> Void) {
        let total = runCount * runLength
        guard total >= 65_536 else { return forEach(runs: 0..<runCount) { body($0, runLength) } }
        let threads = Parallel.threadCount
        let wanted = (4 * threads + runCount - 1) / runCount
        let pieces = runCount >= 4 * threads ? 1 : Swift.max(1, Swift.min(wanted, runLength / 16_384))
        let pieceLength = runLength / pieces
        let grain = Swift.max(1, 32_768 / Swift.max(pieceLength, 1))
        if pieces == 1 {
            return Parallel.forEachRange(runCount, grain: grain) { forEach(runs: $0) { body($0, runLength) } }
        }
        Parallel.forEachRange(runCount * pieces, grain: grain) { units in
            for unit in units {
                let (run, piece) = unit.quotientAndRemainder(dividingBy: pieces)
                let start = runLength * piece / pieces, end = runLength * (piece + 1) / pieces
                forEach(runs: run..<(run + 1)) { offsets in
                    // Moved to the piece; forEach is done with this one run once body returns.
                    for k in 0..<offsets.count { offsets[k] += start * innerStride(k) }
                    body(offsets, end - start)
                }
            }
        }
    }
}
