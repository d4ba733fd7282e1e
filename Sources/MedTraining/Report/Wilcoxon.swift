import Foundation

/// The Wilcoxon signed-rank test of paired samples, two-sided, as `scipy.stats.wilcoxon(x, y)` computes it with
/// its defaults (scipy 1.17: `zero_method="wilcox"`, `correction=False`, `method="auto"`).
///
/// Zero differences are dropped; the others are ranked by absolute value (ties get their average rank). The
/// statistic is min(R⁺, R⁻). The p-value is, as scipy's `auto` chooses:
/// - *exact* when there are at most 50 differences, none zero and no tied ranks: 2·min(P(R⁺ ≥ r), P(R⁺ ≤ r)) under
///   the exact null distribution;
/// - a *permutation* p-value over all 2ⁿ sign flips when there are ties or zeros and at most 13 differences;
/// - otherwise the *normal approximation* with the tie correction and no continuity correction.
public struct WilcoxonSignedRank: Sendable, Equatable {
    public enum Method: String, Sendable, Codable { case exact, permutation, asymptotic }

    /// min(R⁺, R⁻).
    public var statistic: Double
    public var pValue: Double
    public var method: Method
    /// Non-zero differences that entered the ranks.
    public var count: Int

    /// Tests `x` against `y` (same length, paired by index); nil when no difference is non-zero.
    public init?(_ x: [Double], _ y: [Double]) {
        precondition(x.count == y.count, "paired samples must have the same length")
        let all = zip(x, y).map { $0 - $1 }
        let d = all.filter { $0 != 0 }
        guard !d.isEmpty else { return nil }
        let hasZeros = d.count < all.count
        let (ranks, ties) = Self.averageRanks(d.map(abs))
        let rPlus = zip(d, ranks).reduce(0.0) { $0 + ($1.0 > 0 ? $1.1 : 0) }
        let rMinus = zip(d, ranks).reduce(0.0) { $0 + ($1.0 < 0 ? $1.1 : 0) }
        statistic = min(rPlus, rMinus)
        count = d.count
        let n = Double(d.count)
        if all.count <= 50 && !hasZeros && ties.isEmpty {
            method = .exact
            let counts = Self.nullCounts(d.count)
            let total = counts.reduce(0, +)
            let r = Int(rPlus.rounded())
            let below = counts[0...min(r, counts.count - 1)].reduce(0, +)
            let above = counts[min(r, counts.count)...].reduce(0, +)
            pValue = min(1, 2 * min(below, above) / total)
        } else if all.count <= 13 {
            method = .permutation
            let eps = abs(1e-14 * rPlus)
            var less = 0.0, greater = 0.0
            let patterns = 1 << d.count
            for mask in 0..<patterns {
                var sum = 0.0
                for i in 0..<d.count where mask & (1 << i) != 0 { sum += ranks[i] }
                if sum <= rPlus + eps { less += 1 }
                if sum >= rPlus - eps { greater += 1 }
            }
            pValue = min(1, 2 * min(less, greater) / Double(patterns))
        } else {
            method = .asymptotic
            let mean = n * (n + 1) / 4
            let tieCorrection = ties.reduce(0.0) { $0 + Double($1 * $1 * $1 - $1) }
            let se = ((n * (n + 1) * (2 * n + 1) - tieCorrection / 2) / 24).squareRoot()
            let z = (rPlus - mean) / se
            pValue = min(1, erfc(abs(z) / 2.0.squareRoot()))
        }
    }

    /// Average ranks (1-based) of `values`, and the size of each group of ties longer than one.
    static func averageRanks(_ values: [Double]) -> ([Double], [Int]) {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var ties: [Int] = []
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let rank = Double(start + end + 2) / 2
            for i in start...end { ranks[order[i]] = rank }
            if end > start { ties.append(end - start + 1) }
            start = end + 1
        }
        return (ranks, ties)
    }

    /// How many of the 2ⁿ sign patterns give each rank sum 0 … n(n+1)/2 (as Doubles: 2⁵⁰ fits exactly).
    static func nullCounts(_ n: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: n * (n + 1) / 2 + 1)
        counts[0] = 1
        var top = 0
        for rank in 1...n {
            top += rank
            for sum in stride(from: top, through: rank, by: -1) { counts[sum] += counts[sum - rank] }
        }
        return counts
    }
}

/// The paper's pairwise model comparison (its README, Figure 5): for each pair of models a Wilcoxon signed-rank
/// test on their paired scores, Bonferroni-corrected for the number of pairs (10 models: 45 pairs, p < 0.05/45
/// ≈ 0.0011).
///
/// The paper's repository has no code for the test; its README says the comparison is "in terms of averaged
/// accuracy across all training schemes, input resolutions, and all 12 datasets". So the paired samples here are
/// the seed-mean test ACC (or AUC) of every (scheme, size, dataset) cell that both models have, one pair per cell.
public struct PairwiseComparison: Sendable, Equatable {
    public var modelA: String
    public var modelB: String
    /// Paired cells.
    public var pairs: Int
    /// Median of A − B over the pairs, in points.
    public var medianDifference: Double
    /// nil when every difference is zero.
    public var test: WilcoxonSignedRank?
    /// min(1, p × number of pairs compared).
    public var adjustedP: Double?
    /// Adjusted p below `alpha`.
    public var isSignificant: Bool

    /// Every pair of `table`'s models on `metric` (`acc` or `auc`), at family-wise level `alpha`.
    public static func all(_ table: ReportTable, metric: KeyPath<ReportTable.Entry, MeanStd> = \.acc,
                           schemes: [ExperimentScheme]? = nil, alpha: Double = 0.05) -> [PairwiseComparison] {
        let models = table.models
        let pairCount = models.count * (models.count - 1) / 2
        var out: [PairwiseComparison] = []
        for (i, a) in models.enumerated() {
            for b in models[(i + 1)...] {
                var x: [Double] = [], y: [Double] = []
                for scheme in schemes ?? table.schemes {
                    for size in table.sizes {
                        for dataset in table.datasets {
                            guard let ea = table.entry(scheme: scheme, model: a, size: size, dataset: dataset),
                                  let eb = table.entry(scheme: scheme, model: b, size: size, dataset: dataset) else { continue }
                            x.append(ea[keyPath: metric].mean)
                            y.append(eb[keyPath: metric].mean)
                        }
                    }
                }
                guard !x.isEmpty else { continue }
                let differences = zip(x, y).map { $0 - $1 }.sorted()
                let median = differences.count % 2 == 1 ? differences[differences.count / 2]
                    : (differences[differences.count / 2 - 1] + differences[differences.count / 2]) / 2
                let test = WilcoxonSignedRank(x, y)
                let adjusted = test.map { min(1, $0.pValue * Double(pairCount)) }
                out.append(PairwiseComparison(modelA: a, modelB: b, pairs: x.count, medianDifference: median, test: test,
                                              adjustedP: adjusted, isSignificant: (adjusted ?? 1) < alpha))
            }
        }
        return out
    }
}
