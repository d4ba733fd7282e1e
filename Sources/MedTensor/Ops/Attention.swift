/// An additive term on attention scores, applied before the softmax.
public enum AttentionBias {
    /// A tensor that broadcasts to the scores' shape [batch, heads, queries, keys]: a mask (−∞ where
    /// attention is not allowed) or a relative-position table.
    case dense(Tensor)
    /// SAM's decomposed relative position (MViTv2): the keys lie on a `rows.shape[3] × columns.shape[3]`
    /// grid in row-major order, and the bias of key `r·W + c` for query `i` is `rows[b, h, i, r] +
    /// columns[b, h, i, c]`. Both have shape [batch, heads, queries, gridSize]. Only this small
    /// factorisation is kept; the fused kernel expands it one block of rows at a time.
    case decomposed(rows: Tensor, columns: Tensor)

    /// The tensors that take part in differentiation, in order.
    var tensors: [Tensor] {
        switch self {
        case .dense(let bias): [bias]
        case .decomposed(let rows, let columns): [rows, columns]
        }
    }

    /// The bias as a dense tensor of shape [batch, heads, queries, keys] (or broadcastable to it).
    public func materialized() -> Tensor {
        switch self {
        case .dense(let bias):
            return bias
        case .decomposed(let rows, let columns):
            let s = rows.shape
            let full = rows.unsqueezed(axis: -1) + columns.unsqueezed(axis: -2)
            return full.reshaped([s[0], s[1], s[2], rows.shape[3] * columns.shape[3]])
        }
    }
}

/// softmax(q·kᵀ·scale + bias)·v for every (batch, head), as `torch.nn.functional.scaled_dot_product_attention`
/// (no dropout), as one fused op.
///
/// - `query` [B, heads, N, D], `key` [B, heads, M, D], `value` [B, heads, M, Dv], any strides with a unit
///   stride along the last axis (the q, k, v views of timm's fused `qkv` projection are read in place).
/// - `scale` defaults to 1/√D.
/// - The result has shape [B, heads, N, Dv] and is stored as [B, N, heads, Dv], so that
///   `transposed(1, 2).reshaped([B, N, heads·Dv])`, which every attention layer does next, is free.
///
/// Memory: the forward pass works on one block of query rows of one head at a time (several in
/// parallel, each thread with its own scratch), so no more than one head's score matrix exists per
/// thread. It saves only q, k, v, the output and the log-sum-exp of each score row; the backward pass
/// recomputes each block's probabilities from those (as flash attention does) and is exact.
/// Gradients flow to `query`, `key`, `value` and the bias tensors, each when it requires one.
public func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, scale: Float? = nil,
                                      bias: AttentionBias? = nil) -> Tensor {
    scaledDotProductAttention(query: query, key: key, value: value, scale: scale, bias: bias, blockRows: nil)
}

/// The op with the number of query rows per block fixed (tests use small blocks to exercise the
/// accumulation across blocks); nil sizes blocks so that one block's scores take about 512 KB.
func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, scale: Float?, bias: AttentionBias?,
                               blockRows: Int?) -> Tensor {
    precondition(query.rank == 4 && key.rank == 4 && value.rank == 4,
                 "scaledDotProductAttention: expected [B, heads, L, D] operands, got \(query.shape), \(key.shape), \(value.shape)")
    let (b, h, d, m) = (query.shape[0], query.shape[1], query.shape[3], key.shape[2])
    precondition(key.shape[0] == b && key.shape[1] == h && key.shape[3] == d,
                 "scaledDotProductAttention: key \(key.shape) does not match query \(query.shape)")
    precondition(value.shape[0] == b && value.shape[1] == h && value.shape[2] == m,
                 "scaledDotProductAttention: value \(value.shape) does not match key \(key.shape)")
    precondition(m > 0, "scaledDotProductAttention: no keys")
    let kernel = FusedAttention(query: query, key: key, value: value,
                                scale: scale ?? 1 / Float(max(d, 1)).squareRoot(), bias: bias, blockRows: blockRows)
    let output = kernel.forward()
    let needs = [query.requiresGrad, key.requiresGrad, value.requiresGrad] + (bias?.tensors.map(\.requiresGrad) ?? [])
    return Tensor.record(output, "scaled_dot_product_attention", inputs: [query, key, value] + (bias?.tensors ?? [])) { gradient in
        kernel.backward(gradient, needs: needs)
    }
}
