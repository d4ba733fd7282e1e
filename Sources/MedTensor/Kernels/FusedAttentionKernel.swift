import Foundation


// The kernel behind `scaledDotProductAttention`: operands resolved to per-head matrices, a forward pass
// over blocks of query rows, and the flash-attention-style backward pass that recomputes probabilities.

/// A [B, heads, L, C] operand read as one L×C row-major matrix per (batch, head), in place when its
/// last axis has unit stride and its rows do not overlap.
struct HeadMatrices {
    let owner: Tensor
    let base: SendablePointer<Float>
    let batchStride: Int, headStride: Int
    /// The leading dimension (row stride) for GEMM.
    let rowStride: Int
    let heads: Int

    init(_ tensor: Tensor) {
        var t = tensor.detached()
        let (rows, columns) = (t.shape[2], t.shape[3])
        let unitColumns = t.strides[3] == 1 || columns == 1
        let separateRows = rows == 1 || t.strides[2] >= columns
        if !(unitColumns && separateRows) { t = t.contiguous() }
        owner = t
        base = SendablePointer(t.storage.pointer + t.layout.offset)
        batchStride = t.strides[0]
        headStride = t.strides[1]
        rowStride = rows == 1 ? max(columns, 1) : t.strides[2]
        heads = t.shape[1]
    }

    /// The first element of head `index` (index = batch·heads + head).
    @inline(__always)
    func pointer(_ index: Int) -> UnsafeMutablePointer<Float> {
        base.pointer + (index / heads) * batchStride + (index % heads) * headStride
    }
}

/// The bias of one head, resolved to pointers and strides.
struct BiasOperand {
    enum Kind {
        case dense(HeadStrides)
        case decomposed(rows: HeadMatrices, columns: HeadMatrices, gridRows: Int, gridColumns: Int)
    }
    struct HeadStrides {
        let base: SendablePointer<Float>
        let batchStride: Int, headStride: Int, rowStride: Int, columnStride: Int
        let heads: Int
    }
    let kind: Kind
    let owners: [Tensor]
    /// The caller's bias shapes (a dense bias may broadcast).
    let shapes: [[Int]]

    init(_ bias: AttentionBias, batch: Int, heads: Int, queries: Int, keys: Int) {
        switch bias {
        case .dense(let tensor):
            let target = [batch, heads, queries, keys]
            guard tensor.rank <= 4, broadcastShape(tensor.shape, target) == target else {
                preconditionFailure("scaledDotProductAttention: bias \(tensor.shape) does not broadcast to the scores \(target)")
            }
            let view = tensor.detached().expanded(to: target)
            owners = [view]
            shapes = [tensor.shape]
            kind = .dense(HeadStrides(base: SendablePointer(view.storage.pointer + view.layout.offset),
                                      batchStride: view.strides[0], headStride: view.strides[1],
                                      rowStride: view.strides[2], columnStride: view.strides[3], heads: heads))
        case .decomposed(let rows, let columns):
            precondition(rows.rank == 4 && columns.rank == 4
                         && rows.shape.prefix(3).elementsEqual([batch, heads, queries])
                         && columns.shape.prefix(3).elementsEqual([batch, heads, queries])
                         && rows.shape[3] * columns.shape[3] == keys,
                         "scaledDotProductAttention: decomposed bias \(rows.shape) + \(columns.shape) does not fit \(keys) keys of [\(batch), \(heads), \(queries)] queries")
            let r = HeadMatrices(rows), c = HeadMatrices(columns)
            owners = [r.owner, c.owner]
            shapes = [rows.shape, columns.shape]
            kind = .decomposed(rows: r, columns: c, gridRows: rows.shape[3], gridColumns: columns.shape[3])
        }
    }

    /// Adds rows `start..<start+count` of head `index`'s bias to `scores` (count × keys, row-major).
    func add(to scores: UnsafeMutablePointer<Float>, head index: Int, start: Int, count: Int, keys: Int) {
        switch kind {
        case .dense(let s):
            let head = s.base.pointer + (index / s.heads) * s.batchStride + (index % s.heads) * s.headStride
            for r in 0..<count {
                let row = scores + r * keys, source = head + (start + r) * s.rowStride
                if s.columnStride == 1 {
                    for j in 0..<keys { row[j] += source[j] }
                } else {
                    for j in 0..<keys { row[j] += source[j * s.columnStride] }
                }
            }
        case .decomposed(let rows, let columns, let gridRows, let gridColumns):
            let rh = rows.pointer(index), rw = columns.pointer(index)
            for r in 0..<count {
                let row = scores + r * keys
                let a = rh + (start + r) * rows.rowStride, c = rw + (start + r) * columns.rowStride
                for y in 0..<gridRows {
                    let ay = a[y], segment = row + y * gridColumns
                    for x in 0..<gridColumns { segment[x] += ay + c[x] }
                }
            }
        }
    }
}

/// The saved state of one attention call: operands, the output and the row log-sum-exps.
final class FusedAttention {
    let q: HeadMatrices, k: HeadMatrices, v: HeadMatrices
    let bias: BiasOperand?
    let scale: Float
    let batch: Int, heads: Int, queries: Int, keys: Int, depth: Int, valueDepth: Int
    /// The output, [B, N, heads, Dv] contiguous.
    let output: Tensor
    /// log Σⱼ exp(sᵢⱼ) per query row, [B·heads·N] (−∞ for a fully masked row).
    let logSumExp: TensorStorage
    /// Query rows per block: one block's scores (rows × keys) fit in about 512 KB.
    let rowBlock: Int

    init(query: Tensor, key: Tensor, value: Tensor, scale: Float, bias: AttentionBias?, blockRows: Int?) {
        (batch, heads, queries, depth) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        (keys, valueDepth) = (key.shape[2], value.shape[3])
        q = HeadMatrices(query)
        k = HeadMatrices(key)
        v = HeadMatrices(value)
        self.scale = scale
        self.bias = bias.map { BiasOperand($0, batch: query.shape[0], heads: query.shape[1], queries: query.shape[2], keys: key.shape[2]) }
        output = Tensor.uninitialized([batch, queries, heads, valueDepth])
        logSumExp = TensorStorage(uninitializedCount: batch * heads * queries)
        rowBlock = max(1, min(queries, blockRows ?? (1 << 17) / max(keys, 1)))
    }

    var headCount: Int { batch * heads }
    var blocksPerHead: Int { (queries + rowBlock - 1) / rowBlock }
    /// Row stride of the output seen as one N×Dv matrix per head.
    var outputRowStride: Int { heads * valueDepth }

    @inline(__always)
    func outputPointer(_ index: Int) -> UnsafeMutablePointer<Float> {
        output.storage.pointer + (index / heads) * queries * heads * valueDepth + (index % heads) * valueDepth
    }

    /// scores = scale · q[rows] · kᵀ (+ bias) for rows `start..<start+count` of head `index`.
    func computeScores(_ scores: UnsafeMutablePointer<Float>, head index: Int, start: Int, count: Int, parallel: Bool) {
        GEMM.multiply(transposeA: false, transposeB: true, m: count, n: keys, k: depth, alpha: scale,
                      a: q.pointer(index) + start * q.rowStride, lda: q.rowStride,
                      b: k.pointer(index), ldb: k.rowStride, beta: 0, c: scores, ldc: keys, parallel: parallel)
        bias?.add(to: scores, head: index, start: start, count: count, keys: keys)
    }

    /// Runs the forward pass and returns the output as [B, heads, N, Dv] (a view of [B, N, heads, Dv]).
    func forward() -> Tensor {
        let items = headCount * blocksPerHead
        let lse = SendablePointer(logSumExp.pointer)
        if queries > 0 {
            let parallelGEMM = items == 1
            Parallel.forEachRange(items) { range in
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock * keys)
                defer { scores.deallocate() }
                for item in range {
                    let index = item / blocksPerHead
                    let start = (item % blocksPerHead) * rowBlock
                    let count = min(rowBlock, queries - start)
                    computeScores(scores, head: index, start: start, count: count, parallel: parallelGEMM)
                    for r in 0..<count {
                        lse.pointer[index * queries + start + r] = softmaxRow(scores + r * keys, count: keys)
                    }
                    GEMM.multiply(transposeA: false, transposeB: false, m: count, n: valueDepth, k: keys,
                                  a: scores, lda: keys, b: v.pointer(index), ldb: v.rowStride, beta: 0,
                                  c: outputPointer(index) + start * outputRowStride, ldc: outputRowStride,
                                  parallel: parallelGEMM)
                }
            }
        }
        return output.permuted([0, 2, 1, 3])
    }

    /// Gradients of q, k, v and the bias tensors (nil where `needs` is false).
    func backward(_ gradient: Tensor, needs: [Bool]) -> [Tensor?] {
        let (needQ, needK, needV) = (needs[0], needs[1], needs[2])
        let needBias = needs.dropFirst(3).contains(true)
        let g = HeadMatrices(gradient)
        // dK and dV gather over row blocks: the first block writes them (beta = 0), so without query rows
        // they must start at zero.
        func gradientBuffer(_ shape: [Int], _ needed: Bool, accumulated: Bool) -> Tensor {
            !needed ? Tensor.zeros([0]) : accumulated && queries == 0 ? Tensor.zeros(shape) : Tensor.uninitialized(shape)
        }
        let dq = gradientBuffer([batch, heads, queries, depth], needQ, accumulated: false)
        let dk = gradientBuffer([batch, heads, keys, depth], needK, accumulated: true)
        let dv = gradientBuffer([batch, heads, keys, valueDepth], needV, accumulated: true)
        // Bias gradients: the full score gradient for a dense bias (reduced to its shape afterwards), or
        // the row and column sums for a decomposed one.
        var denseGradient: Tensor? = nil
        var gridGradients: (rows: Tensor, columns: Tensor)? = nil
        if needBias, let bias {
            switch bias.kind {
            case .dense: denseGradient = Tensor.uninitialized([batch, heads, queries, keys])
            case .decomposed(_, _, let gridRows, let gridColumns):
                gridGradients = (Tensor.uninitialized([batch, heads, queries, gridRows]),
                                 Tensor.uninitialized([batch, heads, queries, gridColumns]))
            }
        }
        let pdq = SendablePointer(dq.storage.pointer), pdk = SendablePointer(dk.storage.pointer)
        let pdv = SendablePointer(dv.storage.pointer)
        let pDense = denseGradient.map { SendablePointer($0.storage.pointer) }
        let pRows = gridGradients.map { SendablePointer($0.rows.storage.pointer) }
        let pColumns = gridGradients.map { SendablePointer($0.columns.storage.pointer) }
        let lse = SendablePointer(logSumExp.pointer)
        let needScoreGradient = needQ || needK || needBias

        // Heads in parallel (each head's dk, dv gather over all its row blocks); one head: threads in GEMM.
        let parallelGEMM = headCount == 1
        if queries > 0 {
            Parallel.forEachRange(headCount) { range in
                let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock * keys)
                let scoreGradient = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock * keys)
                defer { probabilities.deallocate(); scoreGradient.deallocate() }
                for index in range {
                    let qh = q.pointer(index), kh = k.pointer(index), vh = v.pointer(index)
                    let gh = g.pointer(index), oh = outputPointer(index)
                    for block in 0..<blocksPerHead {
                        let start = block * rowBlock, count = min(rowBlock, queries - start)
                        let accumulate: Float = block == 0 ? 0 : 1
                        // P = exp(S − lse), recomputed.
                        computeScores(probabilities, head: index, start: start, count: count, parallel: parallelGEMM)
                        for r in 0..<count {
                            let row = probabilities + r * keys, shift = lse.pointer[index * queries + start + r]
                            if shift == -.infinity {
                                row.initialize(repeating: 0, count: keys)
                            } else {
                                _ = exponentiate(row, count: keys, shift: shift)
                            }
                        }
                        let gBlock = gh + start * g.rowStride
                        // dV += Pᵀ · dO
                        if needV {
                            GEMM.multiply(transposeA: true, transposeB: false, m: keys, n: valueDepth, k: count,
                                          a: probabilities, lda: keys, b: gBlock, ldb: g.rowStride, beta: accumulate,
                                          c: pdv.pointer + index * keys * valueDepth, ldc: valueDepth, parallel: parallelGEMM)
                        }
                        guard needScoreGradient else { continue }
                        // dP = dO · vᵀ, then dS = P ∘ (dP − rowsum(dO ∘ O)).
                        GEMM.multiply(transposeA: false, transposeB: true, m: count, n: keys, k: valueDepth,
                                      a: gBlock, lda: g.rowStride, b: vh, ldb: v.rowStride, beta: 0,
                                      c: scoreGradient, ldc: keys, parallel: parallelGEMM)
                        for r in 0..<count {
                            let go = gBlock + r * g.rowStride, o = oh + (start + r) * outputRowStride
                            var dot: Float = 0
                            for j in 0..<valueDepth { dot += go[j] * o[j] }
                            let p = probabilities + r * keys, ds = scoreGradient + r * keys
                            for j in 0..<keys { ds[j] = p[j] * (ds[j] - dot) }
                        }
                        if let pDense {
                            (pDense.pointer + (index * queries + start) * keys).update(from: scoreGradient, count: count * keys)
                        }
                        if let pRows, let pColumns, case .decomposed(_, _, let gridRows, let gridColumns)? = bias?.kind {
                            for r in 0..<count {
                                let ds = scoreGradient + r * keys
                                let dRows = pRows.pointer + (index * queries + start + r) * gridRows
                                let dColumns = pColumns.pointer + (index * queries + start + r) * gridColumns
                                for x in 0..<gridColumns { dColumns[x] = 0 }
                                for y in 0..<gridRows {
                                    var sum: Float = 0
                                    let segment = ds + y * gridColumns
                                    for x in 0..<gridColumns { sum += segment[x]; dColumns[x] += segment[x] }
                                    dRows[y] = sum
                                }
                            }
                        }
                        // dQ = scale · dS · k;  dK += scale · dSᵀ · q
                        if needQ {
                            GEMM.multiply(transposeA: false, transposeB: false, m: count, n: depth, k: keys, alpha: scale,
                                          a: scoreGradient, lda: keys, b: kh, ldb: k.rowStride, beta: 0,
                                          c: pdq.pointer + (index * queries + start) * depth, ldc: depth, parallel: parallelGEMM)
                        }
                        if needK {
                            GEMM.multiply(transposeA: true, transposeB: false, m: keys, n: depth, k: count, alpha: scale,
                                          a: scoreGradient, lda: keys, b: qh + start * q.rowStride, ldb: q.rowStride,
                                          beta: accumulate, c: pdk.pointer + index * keys * depth, ldc: depth,
                                          parallel: parallelGEMM)
                        }
                    }
                }
            }
        }
        withExtendedLifetime(g.owner) {}
        var result: [Tensor?] = [needQ ? dq : nil, needK ? dk : nil, needV ? dv : nil]
        switch bias?.kind {
        case .dense?:
            result.append(needs[3] ? denseGradient?.summed(toShape: bias!.shapes[0]) : nil)
        case .decomposed?:
            result.append(needs[3] ? gridGradients?.rows : nil)
            result.append(needs[4] ? gridGradients?.columns : nil)
        case nil:
            break
        }
        return result
    }
}

// MARK: - row kernels

/// Softmax of one row in place; returns its log-sum-exp (−∞, with a zero row, when every score is −∞).
@inline(__always)
func softmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int) -> Float {
    var peak = -Float.infinity
    for j in 0..<count { peak = row[j] > peak ? row[j] : peak }
    if peak == -.infinity {
        row.initialize(repeating: 0, count: count)
        return -.infinity
    }
    let sum = exponentiate(row, count: count, shift: peak)
    let inverse = 1 / sum
    for j in 0..<count { row[j] *= inverse }
    return peak + Foundation.log(sum)
}

/// row[j] = exp(row[j] − shift) in place; returns the sum (in a fixed order).
@inline(__always)
func exponentiate(_ row: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
    for j in 0..<count { row[j] = fastExp(row[j] - shift) }
    var partial = SIMD8<Float>(repeating: 0)
    var j = 0
    let raw = UnsafeRawPointer(row)
    while j + 8 <= count {
        partial += raw.loadUnaligned(fromByteOffset: j * MemoryLayout<Float>.stride, as: SIMD8<Float>.self)
        j += 8
    }
    var sum = partial.sum()
    while j < count { sum += row[j]; j += 1 }
    return sum
}

/// eˣ for x ≤ 88 (softmax only needs x ≤ 0): Cephes' `expf` (range reduction by ln 2 in two parts, a
/// degree-6 polynomial, within 2 ulp of `Foundation.exp` in the normal range), branch-free so that
/// the loops above vectorise with plain multiply-add; exactly 0 below −87.34 (where eˣ is subnormal),
/// NaN for NaN.
@inline(__always)
func fastExp(_ x: Float) -> Float {
    var v = x < -87.336_54 ? -87.336_54 : x
    v = v > 88 ? 88 : v
    // n = round(v / ln 2) by the 1.5·2²³ trick: the low bits of t hold n as an integer.
    let t = v * 1.442_695_04 + 12_582_912
    let n = t - 12_582_912
    let r = v - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float = r * 1.987_569_15e-4 + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * (r * r) + r + 1
    let scale = Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    return x < -87.336_54 ? 0 : p * scale
}
