/// Matrix products. A transposed view becomes a GEMM transpose flag; only a matrix whose rows and
/// columns are both strided is copied.
extension Tensor {
    /// Matrix product with NumPy's `matmul` rules: 1-D operands are promoted (and the added axis removed),
    /// batch axes broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank >= 1 && other.rank >= 1, "matmul: operands must have at least one axis, got \(shape) and \(other.shape)")
        if rank == 1 && other.rank == 1 { return unsqueezed(axis: 0).matmul(other.unsqueezed(axis: -1)).reshaped([]) }
        if rank == 1 { return unsqueezed(axis: 0).matmul(other).squeezed(axis: -2) }
        if other.rank == 1 { return matmul(other.unsqueezed(axis: -1)).squeezed(axis: -1) }
        let (m, k) = (shape[rank - 2], shape[rank - 1])
        let (k2, n) = (other.shape[other.rank - 2], other.shape[other.rank - 1])
        precondition(k == k2, "matmul: inner dimensions differ: \(shape) × \(other.shape)")
        guard let batch = broadcastShape(Array(shape.dropLast(2)), Array(other.shape.dropLast(2))) else {
            preconditionFailure("matmul: batch dimensions of \(shape) and \(other.shape) do not broadcast")
        }
        // [batch…, m, k] · [k, n] (a Linear layer over tokens): one GEMM over batch·m rows when the rows fold
        // into a matrix without a copy. Besides the larger, faster product, the weight's gradient is then one
        // GEMM too, instead of a [batch…, k, n] stack of per-sample products summed afterwards.
        if other.rank == 2 && rank > 2 && k > 0, layout.stridesForView([count / k, k]) != nil {
            return reshaped([count / k, k]).matmul(other).reshaped(batch + [m, n])
        }
        let a = detached().expanded(to: batch + [m, k]), b = other.detached().expanded(to: batch + [k, n])
        let result = Tensor.uninitialized(batch + [m, n])
        Tensor.batchedGEMM(a, b, into: result)
        let (lhs, rhs) = (detached(), other.detached())
        let (needL, needR) = (requiresGrad, other.requiresGrad)
        return Tensor.record(result, "matmul", inputs: [self, other]) { g in
            [needL ? g.matmul(rhs.transposed()).summed(toShape: lhs.shape) : nil,
             needR ? lhs.transposed().matmul(g).summed(toShape: rhs.shape) : nil]
        }
    }

    /// x·Wᵀ + b over the last axis (PyTorch's `nn.Linear`: `weight` is [out, in], `bias` [out]). The bias is
    /// written into the output first and the product added to it by the GEMM's store (beta = 1), so the sum
    /// costs no pass of its own; each output is bias + Σ rounded as `matmul` then `+` round it (for inputs of
    /// up to 256 features exactly those bits).
    public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
        let k = shape.last ?? 0, n = weight.shape[0]
        precondition(weight.rank == 2 && weight.shape[1] == k, "linear: input \(shape) does not end in the \(weight.shape) weight's inputs")
        precondition(bias == nil || bias!.shape == [n], "linear: bias \(bias!.shape) does not match \(n) outputs")
        guard let bias, rank >= 1, k > 0, weight.isContiguous else {
            let product = matmul(weight.transposed())
            return bias.map { product + $0 } ?? product
        }
        let rows = count / k
        let x = layout.stridesForView([rows, k]) != nil ? detached().reshaped([rows, k]) : detached().contiguous().reshaped([rows, k])
        let w = weight.detached(), b = bias.detached().contiguous()
        let result = Tensor.uninitialized([rows, n])
        result.assign(b)  // the bias in every row (broadcast), on the threads of `assign`
        let a = x.matrixOperand()
        GEMM.multiply(transposeA: a.transposed, transposeB: true, m: rows, n: n, k: k, a: a.tensor.storage.pointer + a.tensor.layout.offset,
                      lda: a.leading, b: w.contiguousPointer, ldb: k, beta: 1, c: result.contiguousPointer, ldc: n)
        withExtendedLifetime((a.tensor, w, b)) {}
        let outputShape = Array(shape.dropLast()) + [n]
        let (needX, needW, needB) = (requiresGrad, weight.requiresGrad, bias.requiresGrad)
        return Tensor.record(result.reshaped(outputShape), "linear", inputs: [self, weight, bias]) { g in
            let g2 = g.reshaped([rows, n])
            return [needX ? g2.matmul(w).reshaped(Array(outputShape.dropLast()) + [k]) : nil,
                    needW ? g2.transposed().matmul(x) : nil,
                    needB ? g2.sum(axis: 0) : nil]
        }
    }

    /// `result[b] = a[b] · b[b]` for every batch index, where `a` is [batch…, m, k] and `b` [batch…, k, n]
    /// (both already broadcast, possibly with zero strides) and `result` is contiguous.
    static func batchedGEMM(_ a: Tensor, _ b: Tensor, into result: Tensor) {
        let r = a.rank
        let (m, k, n) = (a.shape[r - 2], a.shape[r - 1], b.shape[r - 1])
        let a = a.matrixOperand(), b = b.matrixOperand()
        let batchShape = Array(result.shape.dropLast(2))
        let batchCount = batchShape.reduce(1, *)
        let pa = SendablePointer(a.tensor.storage.pointer), pb = SendablePointer(b.tensor.storage.pointer)
        let pc = SendablePointer(result.storage.pointer)
        let aStrides = Array(a.tensor.strides.dropLast(2)), bStrides = Array(b.tensor.strides.dropLast(2))
        func offsets(_ batchIndex: Int) -> (Int, Int) {
            var remainder = batchIndex, offA = a.tensor.layout.offset, offB = b.tensor.layout.offset
            for axis in stride(from: batchShape.count - 1, through: 0, by: -1) {
                let index = remainder % batchShape[axis]
                remainder /= batchShape[axis]
                offA += index * aStrides[axis]
                offB += index * bStrides[axis]
            }
            return (offA, offB)
        }
        let run = { (index: Int, parallel: Bool) in
            let (offA, offB) = offsets(index)
            GEMM.multiply(transposeA: a.transposed, transposeB: b.transposed, m: m, n: n, k: k,
                          a: pa.pointer + offA, lda: a.leading, b: pb.pointer + offB, ldb: b.leading,
                          c: pc.pointer + index * m * n, ldc: n, parallel: parallel)
        }
        // Many small products (attention heads): one per thread. Few large ones: threads inside GEMM.
        if batchCount > 1 && 2 * m * n * k < 4_000_000 {
            Parallel.forEachRange(batchCount) { range in for index in range { run(index, false) } }
        } else {
            for index in 0..<batchCount { run(index, true) }
        }
    }

    /// How GEMM should read the last two axes: directly, as a transpose, or after a copy.
    private func matrixOperand() -> (tensor: Tensor, transposed: Bool, leading: Int) {
        let (rows, columns) = (shape[rank - 2], shape[rank - 1])
        let (rowStride, columnStride) = (strides[rank - 2], strides[rank - 1])
        // BLAS needs unit stride along one axis and a leading dimension that does not overlap rows.
        if (columnStride == 1 || columns == 1) && (rows == 1 || rowStride >= Swift.max(columns, 1)) {
            return (self, false, rows == 1 ? Swift.max(columns, 1) : rowStride)
        }
        if (rowStride == 1 || rows == 1) && (columns == 1 || columnStride >= Swift.max(rows, 1)) {
            return (self, true, columns == 1 ? Swift.max(rows, 1) : columnStride)
        }
        // Otherwise (both axes strided, or broadcast rows): copy the matrices (batch strides of the copy are contiguous).
        let copy = contiguous()
        return (copy, false, Swift.max(columns, 1))
    }
}

/// `a · b`; see ``Tensor/matmul(_:)``.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor { a.matmul(b) }
