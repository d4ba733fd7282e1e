import Foundation
import MedTestSupport
import Testing
@testable import MedTensor

@Suite struct ReductionTests {
    let t = Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])

    @Test func sumsAndMeans() {
        #expect(t.sum().item == 21)
        #expect(t.sum(axis: 0).scalars == [5, 7, 9])
        #expect(t.sum(axis: -1, keepDims: true).shape == [2, 1])
        #expect(t.sum(axes: [0, 1]).item == 21)
        #expect(t.sum(axes: []).shape == [2, 3])
        #expect(t.mean(axis: 1).scalars == [3, 4])
        #expect(t.transposed().sum(axis: 1).scalars == [5, 7, 9])
    }

    @Test func variances() {
        #expect(Swift.abs(t.variance(axis: 1).scalars[0] - 4) < 1e-6)            // unbiased
        #expect(Swift.abs(t.variance(axis: 1, correction: 0).scalars[0] - 8.0 / 3) < 1e-6)
    }

    @Test func maxMinWithIndices() {
        let (values, indices) = t.max(axis: 1)
        #expect(values.scalars == [5, 6] && indices.values == [1, 2] && indices.shape == [2])
        #expect(t.min(axis: 0).indices.values == [0, 1, 0])
        #expect(t.argmax(axis: 0, keepDims: true).shape == [1, 3])
        #expect(Tensor([3, 7, 7, 1]).argmax(axis: 0).values == [1])  // first occurrence
        let withNaN = Tensor([1, .nan, 5])
        #expect(withNaN.max().item.isNaN && withNaN.argmax(axis: 0).values == [1])
        #expect(t.max().item == 6 && t.min().item == 1)
    }

    @Test func logsumexpIsStable() {
        let big = Tensor([1000, 1000])
        #expect(Swift.abs(big.logsumexp(axis: 0).item - (1000 + Float(Foundation.log(2.0)))) < 1e-3)
        let allNegInf = Tensor([-.infinity, -.infinity])
        #expect(allNegInf.logsumexp(axis: 0).item == -.infinity)
    }

    @Test func softmaxRowsSumToOne() {
        let x = randomTensor([5, 7], low: -20, high: 20)
        let sums = x.softmax(axis: 1).sum(axis: 1).scalars
        #expect(sums.allSatisfy { Swift.abs($0 - 1) < 1e-5 })
        let logs = x.logSoftmax(axis: 1).exp().scalars
        #expect(relativeError(logs, x.softmax(axis: 1).scalars) < 1e-5)
    }

    @Test func largeSumMatchesFloat64() {
        let x = randomTensor([1000, 513])
        let expected = x.scalars.reduce(0.0) { $0 + Double($1) }
        #expect(Swift.abs(Double(x.sum().item) - expected) < 1e-2)
        let rows = x.sum(axis: 1).scalars
        let values = x.scalars
        for i in [0, 17, 999] {
            let reference = values[(i * 513)..<((i + 1) * 513)].reduce(0.0) { $0 + Double($1) }
            #expect(Swift.abs(Double(rows[i]) - reference) < 1e-4)
        }
    }

    /// Sums over the leading axes (bias gradients) take the column-sum path: against Float64 over 3,000 rows
    /// (several 128-row blocks, ragged 16-column blocks), with keepDims, and the same bits for 1 and 2 threads.
    @Test func leadingAxesSumMatchesFloat64AndThreadCounts() {
        let x = randomTensor([3, 1000, 37])
        let values = x.scalars
        let sums = x.sum(axes: [0, 1]).scalars
        #expect(sums.count == 37 && x.sum(axes: [1, 0], keepDims: true).shape == [1, 1, 37])
        for j in 0..<37 {
            let reference = stride(from: j, to: values.count, by: 37).reduce(0.0) { $0 + Double(values[$1]) }
            #expect(Swift.abs(Double(sums[j]) - reference) < 1e-4 * Swift.max(1, Swift.abs(reference)))
        }
        // One leading axis, against the general path (a permuted view is not contiguous, so it takes that one).
        let general = x.permuted([1, 2, 0]).sum(axis: 2).scalars
        #expect(zip(x.sum(axis: 0).scalars, general).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * Swift.max(1, Swift.abs($1)) })
        let threads = Parallel.threadCount
        defer { Parallel.threadCount = threads }
        Parallel.threadCount = 1
        let one = x.sum(axes: [0, 1]).scalars
        Parallel.threadCount = 2
        #expect(x.sum(axes: [0, 1]).scalars.map(\.bitPattern) == one.map(\.bitPattern))
    }
}
