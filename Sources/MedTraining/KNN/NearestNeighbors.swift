import Dispatch
import MedMNISTData
import MedTensor

/// The paper's kNN on frozen features (MEDMNIST.md §1.5): Euclidean distance on raw pre-logit features, the
/// training split as support, k = 11, majority vote with ties to the smallest label (per-label mean > 0.5 for
/// multi-label sets).
///
/// Distances are exact, not approximate: a GEMM gives every squared distance `|q|² + |s|² − 2 q·s` to within a
/// proven rounding bound, and every support row that could be among the k nearest within that bound is
/// re-ranked by its Float64 distance, ties between equal distances going to the lower index (as a brute-force
/// Float64 search, or scikit-learn on Float64 features, finds them). No tree: one pass of BLAS-speed work.
public struct NearestNeighbors: Sendable {
    /// `[N, D]` support features.
    public let support: Tensor
    /// `[N, L]` support labels.
    public let labels: IndexTensor
    public let k: Int
    private let supportScalars: [Float]
    private let supportNorms: [Double]

    /// - Throws: ``NearestNeighborsError`` when `k` is not in `1...N` or the labels do not pair with the rows.
    public init(support: Tensor, labels: IndexTensor, k: Int = 11) throws {
        guard support.rank == 2, labels.shape.count == 2, labels.shape[0] == support.shape[0] else {
            throw NearestNeighborsError.shape(features: support.shape, labels: labels.shape)
        }
        guard k >= 1 && k <= support.shape[0] else { throw NearestNeighborsError.k(k, supportCount: support.shape[0]) }
        self.support = support.contiguous()
        self.labels = labels
        self.k = k
        let scalars = self.support.scalars, width = support.shape[1]
        supportScalars = scalars
        supportNorms = (0..<support.shape[0]).map { row in
            var sum = 0.0
            for x in scalars[(row * width)..<((row + 1) * width)] { sum += Double(x) * Double(x) }
            return sum
        }
    }

    /// The indices of the k nearest support rows of each query row, nearest first (equal distances by index).
    /// - Precondition: `queries` is `[M, D]` with the support's D.
    public func neighbors(of queries: Tensor) -> [[Int]] {
        precondition(queries.rank == 2 && queries.shape[1] == support.shape[1],
                     "NearestNeighbors: queries \(queries.shape) do not have the support's width \(support.shape[1])")
        let m = queries.shape[0], n = support.shape[0], width = support.shape[1]
        let queryScalars = queries.contiguous().scalars
        var result = [[Int]](repeating: [], count: m)
        // Blocks of queries bound the memory of the distance matrix (block × N floats).
        let block = max(1, min(m, (1 << 24) / max(n, 1)))
        let transposedSupport = support.transposed()
        for start in stride(from: 0, to: m, by: block) {
            let rows = min(block, m - start)
            let products = queries.narrowed(axis: 0, start: start, length: rows).matmul(transposedSupport).scalars
            let found = UnsafeMutableBox([[Int]](repeating: [], count: rows))
            DispatchQueue.concurrentPerform(iterations: rows) { r in
                let q = start + r
                let query = queryScalars[(q * width)..<((q + 1) * width)]
                found.value[r] = nearest(query: query, products: products[(r * n)..<((r + 1) * n)], width: width)
            }
            for r in 0..<rows { result[start + r] = found.value[r] }
        }
        return result
    }

    /// Votes of the k nearest neighbours for each query: the paper's predictions, and the vote fractions
    /// `[M, C]` as scores (their argmax — first maximum — is the majority vote with ties to the smallest label,
    /// and for multi-label sets `fraction > 0.5` is the paper's rule, so the evaluator's ACC on these scores is
    /// the paper's kNN ACC; their AUC is an addition the paper does not report).
    /// - Parameter numClasses: classes (or labels, multi-label) of the task.
    public func classify(_ queries: Tensor, task: MedMNISTTask, numClasses: Int) -> ScoreArray {
        let neighbours = neighbors(of: queries)
        let columns = labels.shape[1]
        var scores = [Double](repeating: 0, count: neighbours.count * numClasses)
        for (q, indices) in neighbours.enumerated() {
            for i in indices {
                if task.isMultiLabel {
                    for c in 0..<min(columns, numClasses) where labels.values[i * columns + c] != 0 { scores[q * numClasses + c] += 1 }
                } else {
                    let label = labels.values[i * columns]
                    if label >= 0 && label < numClasses { scores[q * numClasses + label] += 1 }
                }
            }
        }
        return ScoreArray(shape: [neighbours.count, numClasses], values: scores.map { $0 / Double(k) })
    }

    /// The k nearest for one query: bound, candidates, exact re-rank.
    private func nearest(query: ArraySlice<Float>, products: ArraySlice<Float>, width: Int) -> [Int] {
        var queryNorm = 0.0
        for x in query { queryNorm += Double(x) * Double(x) }
        // |fl(q·s) − q·s| ≤ γ_D Σ|q_i s_i| ≤ γ_D |q||s| (γ_D = D·u/(1 − D·u), u = 2⁻²⁴); the squared distance uses
        // 2 q·s, and the product is rounded once more to Float32. Doubling the bound covers both with margin.
        let u = 0x1p-24, gamma = Double(width + 2) * u / (1 - Double(width + 2) * u)
        let queryLength = queryNorm.squareRoot()
        let n = products.count, base = products.startIndex
        @inline(__always) func estimate(_ j: Int) -> (value: Double, error: Double) {
            let value = queryNorm + supportNorms[j] - 2 * Double(products[base + j])
            return (value, 4 * gamma * queryLength * supportNorms[j].squareRoot() + 1e-300)
        }
        // The k-th smallest upper bound: the k-th exact distance is at most this.
        var upper = [Double]()
        upper.reserveCapacity(k + 1)
        for j in 0..<n {
            let (value, error) = estimate(j)
            let bound = value + error
            if upper.count < k || bound < upper[k - 1] {
                let position = upper.firstIndex { $0 > bound } ?? upper.count
                upper.insert(bound, at: position)
                if upper.count > k { upper.removeLast() }
            }
        }
        let threshold = upper[k - 1]
        var candidates: [(distance: Double, index: Int)] = []
        for j in 0..<n {
            let (value, error) = estimate(j)
            guard value - error <= threshold else { continue }
            var exact = 0.0
            let row = j * width
            for (d, x) in query.enumerated() {
                let difference = Double(x) - Double(supportScalars[row + d])
                exact += difference * difference
            }
            candidates.append((exact, j))
        }
        candidates.sort { $0.distance != $1.distance ? $0.distance < $1.distance : $0.index < $1.index }
        return candidates.prefix(k).map(\.index)
    }
}

/// Rows written by concurrent iterations, each its own index.
private final class UnsafeMutableBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// A kNN that cannot be set up from these features.
public enum NearestNeighborsError: Error, Equatable, CustomStringConvertible, Sendable {
    case shape(features: [Int], labels: [Int])
    case k(Int, supportCount: Int)

    public var description: String {
        switch self {
        case let .shape(features, labels):
            "kNN: support features \(features) and labels \(labels) do not pair up (expected [N, D] and [N, L])"
        case let .k(k, count):
            "kNN: k = \(k) needs between 1 and \(count) support samples"
        }
    }
}
