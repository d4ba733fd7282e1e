import MedTensor

/// timm's `apply_rot_embed_cat`: x·cos + rot(x)·sin, where `embedding` holds sin and cos concatenated
/// along its last axis ([tokens, 2·headDim], or anything that broadcasts against x after the split), as
/// timm's `RotaryEmbeddingCat` produces for EVA-02.
///
/// `half: false` rotates interleaved pairs ([x0, x1, x2, x3] → [−x1, x0, −x3, x2], timm's `rot`);
/// `half: true` rotates halves ([−x_{d/2…}, x_{…d/2}], `rope_rotate_half`).
public func applyRotaryEmbeddingCat(_ x: Tensor, embedding: Tensor, half: Bool = false) -> Tensor {
    let depth = x.shape[x.rank - 1]
    precondition(depth % 2 == 0 && embedding.shape.last == 2 * depth,
                 "applyRotaryEmbeddingCat: embedding \(embedding.shape) is not [.., 2 × \(depth)] for x \(x.shape)")
    let sinCos = embedding.chunked(2, axis: -1)
    return x * sinCos[1] + rotatedPairs(x, half: half) * sinCos[0]
}

/// timm's `rot` (interleaved pairs) or `rope_rotate_half` (halves).
func rotatedPairs(_ x: Tensor, half: Bool) -> Tensor {
    let depth = x.shape[x.rank - 1]
    if half {
        let halves = x.chunked(2, axis: -1)
        return Tensor.concatenate([-halves[1], halves[0]], axis: -1)
    }
    let pairs = x.reshaped(Array(x.shape.dropLast()) + [depth / 2, 2])
    let even = pairs.selected(axis: -1, index: 0), odd = pairs.selected(axis: -1, index: 1)
    return Tensor.stack([-odd, even], axis: -1).reshaped(x.shape)
}
