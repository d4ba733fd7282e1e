import Foundation
import Testing
@testable import MedTensor

@Suite struct ParallelTests {
    /// The ranges handed to `body`, sorted.
    private func ranges(_ split: ((Range<Int>) -> Void) -> Void) -> [Range<Int>] {
        let lock = NSLock()
        var seen: [Range<Int>] = []
        split { range in lock.withLock { seen.append(range) } }
        return seen.sorted { $0.lowerBound < $1.lowerBound }
    }

    @Test func chunksSplitEvenlyWhateverTheRemainder() {
        // An odd count must still use every requested chunk (3025 pixel blocks over two threads once ran
        // as one chunk, serialising AlexNet's first convolution).
        for (count, chunks) in [(3025, 2), (5, 2), (7, 3), (2, 5), (1, 4), (100, 1)] {
            let split = ranges { Parallel.forEachRange(count, chunks: chunks, $0) }
            #expect(split.count == min(count, chunks))
            #expect(split.first?.lowerBound == 0 && split.last?.upperBound == count)
            for (a, b) in zip(split, split.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
            let lengths = split.map(\.count)
            #expect(lengths.max()! - lengths.min()! <= 1)
        }
        #expect(ranges { Parallel.forEachRange(0, chunks: 2, $0) }.isEmpty)
    }

    @Test func grainBoundsTheChunkCount() {
        let threads = Parallel.threadCount
        #expect(ranges { Parallel.forEachRange(10, grain: 100, $0) } == [0..<10])
        #expect(ranges { Parallel.forEachRange(1000, grain: 1, $0) }.count == min(threads, 1000))
    }
}

@Suite struct StoragePoolTests {
    /// A freed large buffer serves the next tensor of the same size (a size no other test uses, so that
    /// tests running beside this one cannot take it first); small buffers are never kept. The pool is emptied
    /// first: full (the whole suite's buffers kept, up to its cap), it would free this one instead.
    @Test func largeBuffersAreReusedSmallOnesAreNot() throws {
        try #require(StoragePool.capacityBytes > 0, "MEDTENSOR_POOL_MB=0 turns the pool off")
        StoragePool.releaseCached()
        let count = 123_457
        var first: TensorStorage? = TensorStorage(uninitializedCount: count)
        let address = first!.pointer
        first!.pointer.initialize(repeating: 7, count: count)
        first = nil
        let second = TensorStorage(uninitializedCount: count)
        #expect(second.pointer == address)
        #expect(StoragePool.roundedBytes(count * 4) % 4096 == 0 && StoragePool.roundedBytes(count * 4) >= count * 4)
        #expect(StoragePool.roundedBytes(100) == 100)
        withExtendedLifetime(first) {}
    }
}
