import Foundation
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

/// timm's `RotaryEmbeddingCat(dim, in_pixels=False, ref_feat_shape=…)` for one grid (`get_embed(shape=grid)`):
/// sin and cos concatenated, [gridH·gridW, 2·dim], for ``applyRotaryEmbeddingCat(_:embedding:half:)``.
///
/// - `dim` is the rotated width (EVA-02: the head width, 64); it has dim / 4 frequency bands per axis,
///   1 / temperature^(i / (dim / 4)) for i = 0 … dim/4 − 1 (16 bands for 64).
/// - The token at row r, column c has the coordinates (r + offset, c + offset), scaled by
///   reference / grid per axis when `referenceGridSize` is set (EVA's scheme for other resolutions: a 14×14
///   grid with the 16×16 reference spans the same coordinates 0 … 16·13/14 as a 16×16 grid spans 0 … 15).
/// - Angles are coordinate × band, row axis first (timm's 'ij' indexing), each repeated twice for the
///   interleaved rotation (`half: false`), or the halves layout with `half: true`.
///
/// Everything is computed in Float32, as timm computes it for float32 and float64 models alike.
public func rotaryEmbeddingCat(dim: Int, gridSize: Size2, referenceGridSize: Size2? = nil, temperature: Float = 10000,
                               gridOffset: Float = 0, half: Bool = false) -> Tensor {
    precondition(dim % 4 == 0 && dim > 0, "rotaryEmbeddingCat: dim \(dim) is not a positive multiple of 4")
    precondition(gridSize.height > 0 && gridSize.width > 0, "rotaryEmbeddingCat: empty grid \(gridSize)")
    let bandCount = dim / 4
    let bands: [Float] = (0..<bandCount).map { 1 / Foundation.pow(temperature, Float($0) / Float(bandCount)) }
    func coordinates(_ size: Int, _ reference: Int?) -> [Float] {
        (0..<size).map { index in
            let t = Float(index) + gridOffset
            guard let reference else { return t }
            return t / Float(size) * Float(reference)
        }
    }
    let rows = coordinates(gridSize.height, referenceGridSize?.height)
    let columns = coordinates(gridSize.width, referenceGridSize?.width)
    let tokens = gridSize.height * gridSize.width
    var values = [Float](repeating: 0, count: tokens * 2 * dim)
    for r in 0..<gridSize.height {
        for c in 0..<gridSize.width {
            let token = r * gridSize.width + c
            // Per-frequency angles (axis, band) flattened: the rows' bands, then the columns'.
            for axis in 0..<2 {
                let coordinate = axis == 0 ? rows[r] : columns[c]
                for band in 0..<bandCount {
                    let angle = coordinate * bands[band]
                    let frequency = axis * bandCount + band
                    let (sine, cosine) = (Foundation.sin(angle), Foundation.cos(angle))
                    let positions = half ? [frequency, frequency + 2 * bandCount] : [2 * frequency, 2 * frequency + 1]
                    for position in positions {
                        values[token * 2 * dim + position] = sine
                        values[token * 2 * dim + dim + position] = cosine
                    }
                }
            }
        }
    }
    return Tensor(shape: [tokens, 2 * dim], scalars: values)
}
