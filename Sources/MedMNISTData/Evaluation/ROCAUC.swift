/// Area under the ROC curve of one binary problem, computed step for step as scikit-learn's
/// `roc_auc_score` does, so the result is bit-identical:
///
/// 1. `_binary_clf_curve`: scores in decreasing order; at the last index of each distinct score, the
///    cumulative true positives `tps` and false positives `fps = 1 + index − tps` (exact integers in Float64).
/// 2. `roc_curve(drop_intermediate=True)`: drop points whose second differences of both `fps` and `tps` are 0
///    (collinear), keep the first and last; prepend (0, 0); `fpr = fps / fps[-1]`, `tpr = tps / tps[-1]`.
/// 3. `auc` → `np.trapezoid(tpr, fpr)`: `Σ (fpr[i+1] − fpr[i]) · (tpr[i+1] + tpr[i]) / 2`, summed with numpy's
///    pairwise summation (``NumpySum``).
///
/// Ties between scores therefore count as in scikit-learn: a tied group is one diagonal step of the curve,
/// which equals the Mann–Whitney statistic with average ranks.
enum ROCAUC {
    /// - Parameters:
    ///   - positive: whether each sample is in the positive class.
    ///   - scores: one score per sample; higher means more likely positive. No NaN.
    /// - Returns: nil for the AUC when all samples are positive or all negative (undefined).
    static func binary(positive: [Bool], scores: [Double]) -> (auc: Double?, positives: Int, negatives: Int) {
        precondition(positive.count == scores.count)
        let n = scores.count
        let positives = positive.reduce(0) { $0 + ($1 ? 1 : 0) }
        let negatives = n - positives
        guard positives > 0, negatives > 0 else { return (nil, positives, negatives) }
        // Decreasing scores; the order inside a tie does not matter, only the counts at its end.
        let order = (0..<n).sorted { scores[$0] > scores[$1] }
        var tps: [Double] = [], fps: [Double] = []
        var truePositives = 0
        for k in 0..<n {
            if positive[order[k]] { truePositives += 1 }
            if k == n - 1 || scores[order[k + 1]] != scores[order[k]] {
                tps.append(Double(truePositives))
                fps.append(Double(1 + k - truePositives))
            }
        }
        // drop_intermediate: keep index i when either second difference around it is non-zero.
        if tps.count > 2 {
            var keptT = [tps[0]], keptF = [fps[0]]
            for i in 1..<(tps.count - 1) {
                let secondF = (fps[i + 1] - fps[i]) - (fps[i] - fps[i - 1])
                let secondT = (tps[i + 1] - tps[i]) - (tps[i] - tps[i - 1])
                if secondF != 0 || secondT != 0 { keptT.append(tps[i]); keptF.append(fps[i]) }
            }
            keptT.append(tps.last!)
            keptF.append(fps.last!)
            (tps, fps) = (keptT, keptF)
        }
        tps.insert(0, at: 0)
        fps.insert(0, at: 0)
        let lastT = tps.last!, lastF = fps.last!
        let tpr = tps.map { $0 / lastT }, fpr = fps.map { $0 / lastF }
        var terms = [Double](repeating: 0, count: tpr.count - 1)
        for i in 0..<terms.count { terms[i] = (fpr[i + 1] - fpr[i]) * (tpr[i + 1] + tpr[i]) / 2.0 }
        return (NumpySum.sum(terms), positives, negatives)
    }
}

/// `np.add.reduce` of a contiguous Float64 array: numpy's pairwise summation (blocks of up to 128 summed
/// with eight accumulators, larger ranges split in halves that are multiples of 8), added to 0.
enum NumpySum {
    static func sum(_ values: [Double]) -> Double {
        values.withUnsafeBufferPointer { 0.0 + pairwise($0.baseAddress!, values.count) }
    }

    private static func pairwise(_ a: UnsafePointer<Double>, _ n: Int) -> Double {
        if n < 8 {
            var result = 0.0
            for i in 0..<n { result += a[i] }
            return result
        } else if n <= 128 {
            var r = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])
            var i = 8
            while i < n - n % 8 {
                r.0 += a[i]; r.1 += a[i + 1]; r.2 += a[i + 2]; r.3 += a[i + 3]
                r.4 += a[i + 4]; r.5 += a[i + 5]; r.6 += a[i + 6]; r.7 += a[i + 7]
                i += 8
            }
            var result = ((r.0 + r.1) + (r.2 + r.3)) + ((r.4 + r.5) + (r.6 + r.7))
            while i < n { result += a[i]; i += 1 }
            return result
        } else {
            var half = n / 2
            half -= half % 8
            return pairwise(a, half) + pairwise(a + half, n - half)
        }
    }
}
