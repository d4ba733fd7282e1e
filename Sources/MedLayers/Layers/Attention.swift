import MedTensor

/// Rotates queries or keys by position: [B, heads, tokens, headDim] in, the same shape out (EVA-02's
/// rotary embedding; see ``applyRotaryEmbeddingCat(_:embedding:half:)``). Applied after q/k normalisation
/// to the tokens after the module's `numPrefixTokens`.
public typealias RotaryEmbeddingHook = (Tensor) -> Tensor

/// An additive term on the attention scores computed from the queries ([B, heads, N, headDim], after
/// q normalisation, before any rotation), such as SAM's decomposed relative position
/// (``decomposedRelativePositionBias(query:relPosH:relPosW:querySize:keySize:)``).
public typealias ScoreBiasHook = (Tensor) -> AttentionBias

/// timm's multi-head self-attention (`timm.layers.Attention`, and SAM's `Attention` when built with
/// `relativePositionSize`): a fused `qkv` projection, optional per-head `q_norm`/`k_norm`, the fused
/// ``scaledDotProductAttention(query:key:value:scale:bias:)``, an optional `norm` before `proj`.
///
/// Keys: `qkv.*`, `q_norm.*`, `k_norm.*`, `norm.*`, `proj.*`, `rel_pos_h`, `rel_pos_w` (each when present).
/// Input [B, N, C] gives [B, N, dimOut]; input [B, H, W, C] (SAM) gives [B, H, W, dimOut], and its
/// relative-position tables use the H×W grid.
public final class Attention: Module, UnaryLayer {
    public let qkv: Linear
    public let qNorm: LayerNorm?
    public let kNorm: LayerNorm?
    public let attnDrop: Dropout
    public let norm: LayerNorm?
    public let proj: Linear
    public let projDrop: Dropout
    /// SAM's relative-position tables, [2·gridHeight − 1, headDim] and [2·gridWidth − 1, headDim].
    public let relPosH: Parameter?
    public let relPosW: Parameter?

    public let numHeads: Int
    public let headDim: Int
    public let scale: Float
    /// Leading tokens (class, register) that ``rotaryEmbedding`` leaves alone.
    public var numPrefixTokens = 0
    /// Applied to q and k on every call that passes no hook of its own.
    public var rotaryEmbedding: RotaryEmbeddingHook?
    /// Added to the scores on every call that passes no hook of its own.
    public var scoreBias: ScoreBiasHook?

    /// - `headDim` defaults to dim / numHeads; `dimOut` to dim.
    /// - `qkNorm` and `scaleNorm` add LayerNorms with `normEps` (timm's ViT passes eps 1e-6).
    /// - `relativePositionSize`: SAM's grid for zero-initialised `rel_pos_h`/`rel_pos_w` tables.
    public init(dim: Int, numHeads: Int = 8, headDim: Int? = nil, dimOut: Int? = nil, qkvBias: Bool = false,
                qkNorm: Bool = false, scaleNorm: Bool = false, projBias: Bool = true, attnDrop: Float = 0,
                projDrop: Float = 0, normEps: Float = 1e-6, relativePositionSize: Size2? = nil) {
        precondition(headDim != nil || dim % numHeads == 0, "Attention: dim \(dim) is not divisible by \(numHeads) heads")
        let headDim = headDim ?? dim / numHeads
        let attnDim = numHeads * headDim
        self.numHeads = numHeads
        self.headDim = headDim
        scale = 1 / Float(headDim).squareRoot()
        qkv = Linear(inFeatures: dim, outFeatures: 3 * attnDim, bias: qkvBias)
        qNorm = qkNorm ? LayerNorm(headDim, eps: normEps) : nil
        kNorm = qkNorm ? LayerNorm(headDim, eps: normEps) : nil
        self.attnDrop = Dropout(p: attnDrop)
        norm = scaleNorm ? LayerNorm(attnDim, eps: normEps) : nil
        proj = Linear(inFeatures: attnDim, outFeatures: dimOut ?? dim, bias: projBias)
        self.projDrop = Dropout(p: projDrop)
        relPosH = relativePositionSize.map { Parameter(.zeros([2 * $0.height - 1, headDim])) }
        relPosW = relativePositionSize.map { Parameter(.zeros([2 * $0.width - 1, headDim])) }
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    /// The forward pass with hooks for this call (falling back to the stored ones).
    public func forward(_ input: Tensor, rotary: RotaryEmbeddingHook? = nil, scoreBias: ScoreBiasHook? = nil) -> Tensor {
        precondition(input.rank == 3 || input.rank == 4, "Attention: expected [B, N, C] or [B, H, W, C], got \(input.shape)")
        let batch = input.shape[0]
        let grid = input.rank == 4 ? Size2(input.shape[1], input.shape[2]) : nil
        let x = grid.map { input.reshaped([batch, $0.height * $0.width, input.shape[3]]) } ?? input
        let tokens = x.shape[1]
        let qkv = self.qkv(x).reshaped([batch, tokens, 3, numHeads, headDim]).permuted([2, 0, 3, 1, 4])
        var (q, k, v) = (qkv.selected(axis: 0, index: 0), qkv.selected(axis: 0, index: 1), qkv.selected(axis: 0, index: 2))
        if let qNorm { q = qNorm(q) }
        if let kNorm { k = kNorm(k) }
        var bias = (scoreBias ?? self.scoreBias)?(q)
        if let relPosH, let relPosW {
            guard let grid else { preconditionFailure("Attention: relative positions need [B, H, W, C] input, got \(input.shape)") }
            precondition(bias == nil, "Attention: a score-bias hook and relative-position tables cannot both be used")
            bias = decomposedRelativePositionBias(query: q, relPosH: relPosH.value, relPosW: relPosW.value,
                                                  querySize: grid, keySize: grid)
        }
        if let rotate = rotary ?? rotaryEmbedding {
            q = rotatingTokens(q, after: numPrefixTokens, rotate)
            k = rotatingTokens(k, after: numPrefixTokens, rotate)
        }
        var out = multiHeadAttention(query: q, key: k, value: v, scale: scale, bias: bias, dropout: attnDrop)
        if let norm { out = norm(out) }
        out = projDrop(proj(out))
        return grid.map { out.reshaped([batch, $0.height, $0.width, out.shape[2]]) } ?? out
    }
}

/// timm's `EvaAttention` (EVA-02): separate `q_proj`/`k_proj`/`v_proj` (`qkvFused: false`, as the
/// EVA-02 CLIP checkpoints store them; `k_proj` has no bias), or a fused bias-free `qkv` with `q_bias`
/// and `v_bias` parameters (no k bias); optional `q_norm`/`k_norm`; rotary embeddings on the tokens after
/// the `numPrefixTokens`; the sub-LN `norm` before `proj` (`scaleNorm`, on by default as in timm).
///
/// Keys: `qkv.weight`, `q_bias`, `v_bias` or `q_proj.*`, `k_proj.weight`, `v_proj.*`; then `q_norm.*`,
/// `k_norm.*`, `norm.*`, `proj.*` when present.
public final class EvaAttention: Module, UnaryLayer {
    public let qkv: Linear?
    public let qBias: Parameter?
    public let vBias: Parameter?
    public let qProj: Linear?
    public let kProj: Linear?
    public let vProj: Linear?
    public let qNorm: LayerNorm?
    public let kNorm: LayerNorm?
    public let attnDrop: Dropout
    public let norm: LayerNorm?
    public let proj: Linear
    public let projDrop: Dropout

    public let numHeads: Int
    public let headDim: Int
    public let scale: Float
    public var numPrefixTokens: Int
    public var rotaryEmbedding: RotaryEmbeddingHook?
    public var scoreBias: ScoreBiasHook?

    public init(dim: Int, numHeads: Int = 8, qkvBias: Bool = true, qkvFused: Bool = true, numPrefixTokens: Int = 1,
                attnDrop: Float = 0, projDrop: Float = 0, headDim: Int? = nil, qkNorm: Bool = false,
                scaleNorm: Bool = true, normEps: Float = 1e-6) {
        precondition(headDim != nil || dim % numHeads == 0, "EvaAttention: dim \(dim) is not divisible by \(numHeads) heads")
        let headDim = headDim ?? dim / numHeads
        let attnDim = numHeads * headDim
        self.numHeads = numHeads
        self.headDim = headDim
        scale = 1 / Float(headDim).squareRoot()
        self.numPrefixTokens = numPrefixTokens
        qkv = qkvFused ? Linear(inFeatures: dim, outFeatures: 3 * attnDim, bias: false) : nil
        qBias = qkvFused && qkvBias ? Parameter(.zeros([attnDim])) : nil
        vBias = qkvFused && qkvBias ? Parameter(.zeros([attnDim])) : nil
        qProj = qkvFused ? nil : Linear(inFeatures: dim, outFeatures: attnDim, bias: qkvBias)
        kProj = qkvFused ? nil : Linear(inFeatures: dim, outFeatures: attnDim, bias: false)
        vProj = qkvFused ? nil : Linear(inFeatures: dim, outFeatures: attnDim, bias: qkvBias)
        qNorm = qkNorm ? LayerNorm(headDim, eps: normEps) : nil
        kNorm = qkNorm ? LayerNorm(headDim, eps: normEps) : nil
        self.attnDrop = Dropout(p: attnDrop)
        norm = scaleNorm ? LayerNorm(attnDim, eps: normEps) : nil
        proj = Linear(inFeatures: attnDim, outFeatures: dim)
        self.projDrop = Dropout(p: projDrop)
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    /// The forward pass over [B, N, C] with hooks for this call (timm passes `rope` per call, since it
    /// depends on the grid size), falling back to the stored ones.
    public func forward(_ input: Tensor, rotary: RotaryEmbeddingHook? = nil, scoreBias: ScoreBiasHook? = nil) -> Tensor {
        precondition(input.rank == 3, "EvaAttention: expected [B, N, C], got \(input.shape)")
        let (batch, tokens) = (input.shape[0], input.shape[1])
        var q: Tensor, k: Tensor, v: Tensor
        if let qkv {
            var projected = input.matmul(qkv.weight.value.transposed())
            if let qBias, let vBias {
                projected = projected + Tensor.concatenate([qBias.value, Tensor.zeros(qBias.shape), vBias.value])
            }
            let heads = projected.reshaped([batch, tokens, 3, numHeads, headDim]).permuted([2, 0, 3, 1, 4])
            (q, k, v) = (heads.selected(axis: 0, index: 0), heads.selected(axis: 0, index: 1), heads.selected(axis: 0, index: 2))
        } else {
            func split(_ projection: Linear) -> Tensor {
                projection(input).reshaped([batch, tokens, numHeads, headDim]).transposed(1, 2)
            }
            (q, k, v) = (split(qProj!), split(kProj!), split(vProj!))
        }
        if let qNorm { q = qNorm(q) }
        if let kNorm { k = kNorm(k) }
        let bias = (scoreBias ?? self.scoreBias)?(q)
        if let rotate = rotary ?? rotaryEmbedding {
            q = rotatingTokens(q, after: numPrefixTokens, rotate)
            k = rotatingTokens(k, after: numPrefixTokens, rotate)
        }
        var out = multiHeadAttention(query: q, key: k, value: v, scale: scale, bias: bias, dropout: attnDrop)
        if let norm { out = norm(out) }
        return projDrop(proj(out))
    }
}

/// Attention of [B, heads, N, D] queries, keys and values, returned as [B, N, heads·Dv]: the fused op, or,
/// when attention dropout is active (training with p > 0), explicit scores with dropout on the
/// probabilities, as timm's unfused path.
func multiHeadAttention(query: Tensor, key: Tensor, value: Tensor, scale: Float, bias: AttentionBias?,
                        dropout: Dropout) -> Tensor {
    let (batch, heads, tokens, valueDepth) = (query.shape[0], query.shape[1], query.shape[2], value.shape[3])
    let out: Tensor
    if dropout.isTraining && dropout.p > 0 {
        var scores = (query * scale).matmul(key.transposed())
        if let bias { scores = scores + bias.materialized() }
        out = dropout(scores.softmax(axis: -1)).matmul(value)
    } else {
        out = scaledDotProductAttention(query: query, key: key, value: value, scale: scale, bias: bias)
    }
    return out.transposed(1, 2).reshaped([batch, tokens, heads * valueDepth])
}

/// `rotate` applied to the tokens (axis 2) after the first `prefix`, which are kept, as EVA does.
func rotatingTokens(_ x: Tensor, after prefix: Int, _ rotate: RotaryEmbeddingHook) -> Tensor {
    guard prefix > 0 else { return rotate(x) }
    let tokens = x.shape[2]
    precondition(prefix <= tokens, "rotary embedding: \(prefix) prefix tokens but only \(tokens) tokens")
    return Tensor.concatenate([x.narrowed(axis: 2, start: 0, length: prefix),
                               rotate(x.narrowed(axis: 2, start: prefix, length: tokens - prefix))], axis: 2)
}
