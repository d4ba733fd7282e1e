import Foundation
import MedTensor

/// timm's `resample_abs_pos_embed`: the grid part of a [1, prefix + H·W, C] position embedding resampled
/// to `newSize` with bicubic interpolation (`F.interpolate(mode='bicubic', align_corners=False)`), the
/// `numPrefixTokens` leading tokens (class, distillation, register tokens) kept as they are.
///
/// This is how a ViT trained at one resolution runs and trains at another (28, 64, 128 pixels): the
/// model keeps its stored embedding and resamples it in each forward pass. The resampling is a fixed
/// linear map, applied separably as two matrix products (rows, then columns), so its backward pass is the
/// exact transpose and the gradient reaches the stored embedding.
///
/// - `oldSize`: the stored grid; nil means square, as in timm.
/// - `antialias`: true is timm's default, which its ViT and EVA forward passes (`dynamic_img_size`) and
///   its checkpoint resizing use: PyTorch's antialiased bicubic (Keys' kernel with A = −0.5, widened by
///   the scale when shrinking, weights renormalised at the borders). false is PyTorch's plain bicubic
///   (A = −0.75, border pixels repeated). The two differ in up- and downsampling alike.
/// - Returns the embedding itself when the grid already has the requested size.
public func resampleAbsolutePositionEmbedding(_ positionEmbedding: Tensor, newSize: Size2, oldSize: Size2? = nil,
                                              numPrefixTokens: Int = 1, antialias: Bool = true) -> Tensor {
    precondition(positionEmbedding.rank == 3 && positionEmbedding.shape[0] == 1,
                 "resampleAbsolutePositionEmbedding: expected [1, tokens, C], got \(positionEmbedding.shape)")
    let (tokens, channels) = (positionEmbedding.shape[1], positionEmbedding.shape[2])
    let gridTokens = tokens - numPrefixTokens
    let old = oldSize ?? {
        let side = Int(Double(gridTokens).squareRoot())
        return Size2(side)
    }()
    precondition(numPrefixTokens >= 0 && old.height * old.width == gridTokens,
                 "resampleAbsolutePositionEmbedding: \(tokens) tokens are not \(numPrefixTokens) prefix tokens and a \(old) grid")
    if old == newSize { return positionEmbedding }
    let grid = positionEmbedding.narrowed(axis: 1, start: numPrefixTokens, length: gridTokens)
        .reshaped([old.height, old.width, channels])
    let resampled = resampleGrid(grid, to: newSize, antialias: antialias).reshaped([1, newSize.height * newSize.width, channels])
    guard numPrefixTokens > 0 else { return resampled }
    let prefix = positionEmbedding.narrowed(axis: 1, start: 0, length: numPrefixTokens)
    return Tensor.concatenate([prefix, resampled], axis: 1)
}

/// timm's `resample_abs_pos_embed_nhwc` (SAM): a [1, H, W, C] position embedding resampled to `newSize`
/// with bicubic interpolation; see ``resampleAbsolutePositionEmbedding(_:newSize:oldSize:numPrefixTokens:antialias:)``.
public func resampleAbsolutePositionEmbeddingNHWC(_ positionEmbedding: Tensor, newSize: Size2, antialias: Bool = true) -> Tensor {
    precondition(positionEmbedding.rank == 4 && positionEmbedding.shape[0] == 1,
                 "resampleAbsolutePositionEmbeddingNHWC: expected [1, H, W, C], got \(positionEmbedding.shape)")
    let s = positionEmbedding.shape
    if Size2(s[1], s[2]) == newSize { return positionEmbedding }
    return resampleGrid(positionEmbedding.reshaped([s[1], s[2], s[3]]), to: newSize, antialias: antialias)
        .reshaped([1, newSize.height, newSize.width, s[3]])
}

/// An [H, W, C] grid resampled to [H', W', C] by bicubic interpolation: a product with the row weights along H, then with the column weights along W.
func resampleGrid(_ grid: Tensor, to size: Size2, antialias: Bool) -> Tensor {
    let (h, w, c) = (grid.shape[0], grid.shape[1], grid.shape[2])
    var x = grid
    if size.height != h {
        let rows = InterpolationWeights.bicubic(inputSize: h, outputSize: size.height, antialias: antialias)
        x = rows.matmul(x.reshaped([h, w * c])).reshaped([size.height, w, c])
    }
    if size.width != w {
        let columns = InterpolationWeights.bicubic(inputSize: w, outputSize: size.width, antialias: antialias)
        x = columns.matmul(x)   // [W', W] · [H', W, C], broadcast over H'
    }
    return x
}

/// The 1-D resampling matrices of PyTorch's `F.interpolate` (align_corners=False) as dense [output, input]
/// tensors: resampling along an axis is a product with one of them, and its backward is a product with
/// the transpose. 2-D bicubic interpolation is separable, so two of them reproduce it.
public enum InterpolationWeights {
    /// `mode='bicubic'`, without or with antialiasing (see
    /// ``resampleAbsolutePositionEmbedding(_:newSize:oldSize:numPrefixTokens:antialias:)``).
    public static func bicubic(inputSize: Int, outputSize: Int, antialias: Bool) -> Tensor {
        precondition(inputSize > 0 && outputSize > 0, "InterpolationWeights: sizes must be positive")
        var weights = [Float](repeating: 0, count: outputSize * inputSize)
        // PyTorch computes the scale and source positions in Float32; so does this.
        let scale = Float(inputSize) / Float(outputSize)
        if antialias {
            let support: Float = scale >= 1 ? 2 * scale : 2
            let inverse: Float = scale >= 1 ? 1 / scale : 1
            for i in 0..<outputSize {
                let center = scale * (Float(i) + 0.5)
                let first = max(Int(center - support + 0.5), 0)
                let count = min(Int(center + support + 0.5), inputSize) - first
                var taps: [Float] = (0..<count).map { j in keysKernel((Float(j + first) - center + 0.5) * inverse, a: -0.5) }
                let total = taps.reduce(0, +)
                if total != 0 { taps = taps.map { $0 / total } }
                for j in 0..<count { weights[i * inputSize + first + j] += taps[j] }
            }
        } else {
            let a: Float = -0.75
            for i in 0..<outputSize {
                let source = scale * (Float(i) + 0.5) - 0.5
                let index = min(Int(source.rounded(.down)), inputSize - 1)
                let t = min(max(source - Float(index), 0), 1)
                let taps = [cubicOuter(t + 1, a), cubicInner(t, a), cubicInner(1 - t, a), cubicOuter(2 - t, a)]
                for j in 0..<4 {
                    let column = min(max(index - 1 + j, 0), inputSize - 1)
                    weights[i * inputSize + column] += taps[j]
                }
            }
        }
        return Tensor(shape: [outputSize, inputSize], scalars: weights)
    }

    /// `mode='linear'` (align_corners=False, no antialiasing), as SAM's `get_rel_pos` resizes its tables.
    public static func linear(inputSize: Int, outputSize: Int) -> Tensor {
        precondition(inputSize > 0 && outputSize > 0, "InterpolationWeights: sizes must be positive")
        var weights = [Float](repeating: 0, count: outputSize * inputSize)
        let scale = Float(inputSize) / Float(outputSize)
        for i in 0..<outputSize {
            if inputSize == outputSize { weights[i * inputSize + i] = 1; continue }
            let source = max(scale * (Float(i) + 0.5) - 0.5, 0)
            let index = min(Int(source.rounded(.down)), inputSize - 1)
            let t = min(max(source - Float(index), 0), 1)
            let next = index + (index < inputSize - 1 ? 1 : 0)
            weights[i * inputSize + index] += 1 - t
            weights[i * inputSize + next] += t
        }
        return Tensor(shape: [outputSize, inputSize], scalars: weights)
    }

    /// Keys' cubic convolution kernel for |x| < 1.
    static func cubicInner(_ x: Float, _ a: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
    /// Keys' cubic convolution kernel for 1 ≤ |x| < 2.
    static func cubicOuter(_ x: Float, _ a: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }

    static func keysKernel(_ x: Float, a: Float) -> Float {
        let x = abs(x)
        return x < 1 ? cubicInner(x, a) : x < 2 ? cubicOuter(x, a) : 0
    }
}
