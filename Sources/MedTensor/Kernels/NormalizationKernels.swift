import CMedKernels

/// Per-channel kernels of training-mode batch normalisation (the `BatchNorm2d` layer of MedLayers), through
/// the dispatched C target (`mk_batchnorm_*`, batchnorm_body.h): vectorised sums (Float32 lane sums over
/// blocks, added in Float64) and elementwise passes. Raw contiguous NCHW pointers; threads split the
/// channels, and each channel's result does not depend on the split or the kernel path.
public enum NormalizationKernels {
    /// Channels per thread chunk: about 16K elements each (a plane of fewer than 8 counts as 8, for the
    /// per-image work), so that only tensors too small to repay waking a thread stay on one.
    private static func grain(batch: Int, plane: Int) -> Int { Swift.max(1, 16_384 / Swift.max(1, batch * Swift.max(plane, 8))) }

    /// Rows of `n` floats per thread chunk of the layer-norm kernels: about 16K elements.
    private static func rowGrain(_ n: Int) -> Int { Swift.max(1, 16_384 / Swift.max(1, n)) }

    /// For each channel of `x` ([batch, channels, plane]): mean μ and biased variance σ² over images and
    /// pixels, inverseStd = 1/√(σ² + eps), normalized = (x − μ)·inverseStd (skipped when nil) and
    /// output = normalized·gamma + beta (gamma and beta may be nil: 1 and 0).
    public static func batchNormForward(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, eps: Float,
                                        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                        output: UnsafeMutablePointer<Float>, normalized: UnsafeMutablePointer<Float>?,
                                        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                                        inverseStd: UnsafeMutablePointer<Float>) {
        let px = SendablePointer(x), pg = gamma.map { SendablePointer($0) }, pb = beta.map { SendablePointer($0) }
        let py = SendablePointer(output), ph = normalized.map { SendablePointer($0) }
        let pm = SendablePointer(mean), pv = SendablePointer(variance), pi = SendablePointer(inverseStd)
        Parallel.forEachRange(channels, grain: grain(batch: batch, plane: plane)) { range in
            mk_batchnorm_forward(px.pointer, batch, channels, plane, eps, pg?.pointer, pb?.pointer, py.pointer, ph?.pointer,
                                 pm.pointer, pv.pointer, pi.pointer, range.lowerBound, range.upperBound)
        }
    }

    /// The backward pass of ``batchNormForward``: gradWeight = Σ gradOutput·normalized, gradBias = Σ gradOutput
    /// per channel, and gradInput = gamma·inverseStd·(gradOutput − mean(gradOutput) − normalized·mean(gradOutput·normalized)).
    public static func batchNormBackward(_ gradOutput: UnsafePointer<Float>, normalized: UnsafePointer<Float>, batch: Int,
                                         channels: Int, plane: Int, gamma: UnsafePointer<Float>?,
                                         inverseStd: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
                                         gradWeight: UnsafeMutablePointer<Float>?, gradBias: UnsafeMutablePointer<Float>?) {
        let dy = SendablePointer(gradOutput), h = SendablePointer(normalized), pg = gamma.map { SendablePointer($0) }
        let pi = SendablePointer(inverseStd), dx = gradInput.map { SendablePointer($0) }
        let dw = gradWeight.map { SendablePointer($0) }, db = gradBias.map { SendablePointer($0) }
        Parallel.forEachRange(channels, grain: grain(batch: batch, plane: plane)) { range in
            mk_batchnorm_backward(dy.pointer, h.pointer, batch, channels, plane, pg?.pointer, pi.pointer, dx?.pointer,
                                  dw?.pointer, db?.pointer, range.lowerBound, range.upperBound)
        }
    }

    /// Layer norm over the last axis of a [rows, n] matrix: per row mean μ and 1/√(σ² + eps), and
    /// output = (x − μ)·inverseStd·gamma + beta (gamma and beta may be nil: 1 and 0). Threads split the rows.
    public static func layerNormForward(_ x: UnsafePointer<Float>, rows: Int, n: Int, eps: Float, gamma: UnsafePointer<Float>?,
                                        beta: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                        mean: UnsafeMutablePointer<Float>, inverseStd: UnsafeMutablePointer<Float>) {
        let px = SendablePointer(x), pg = gamma.map { SendablePointer($0) }, pb = beta.map { SendablePointer($0) }
        let py = SendablePointer(output), pm = SendablePointer(mean), pi = SendablePointer(inverseStd)
        Parallel.forEachRange(rows, grain: rowGrain(n)) { range in
            mk_layernorm_forward(px.pointer, n, eps, pg?.pointer, pb?.pointer, py.pointer, pm.pointer, pi.pointer,
                                 range.lowerBound, range.upperBound)
        }
    }

    /// The backward pass of ``layerNormForward``: normalized = (x − μ)·inverseStd and
    /// gradInput = inverseStd·(g − mean(g) − normalized·mean(g·normalized)) per row, g = gradOutput·gamma.
    public static func layerNormBackward(_ gradOutput: UnsafePointer<Float>, input: UnsafePointer<Float>, rows: Int, n: Int,
                                         gamma: UnsafePointer<Float>?, mean: UnsafePointer<Float>, inverseStd: UnsafePointer<Float>,
                                         gradInput: UnsafeMutablePointer<Float>, normalized: UnsafeMutablePointer<Float>) {
        let dy = SendablePointer(gradOutput), px = SendablePointer(input), pg = gamma.map { SendablePointer($0) }
        let pm = SendablePointer(mean), pi = SendablePointer(inverseStd)
        let dx = SendablePointer(gradInput), ph = SendablePointer(normalized)
        Parallel.forEachRange(rows, grain: rowGrain(n)) { range in
            mk_layernorm_backward(dy.pointer, px.pointer, n, pg?.pointer, pm.pointer, pi.pointer, dx.pointer, ph.pointer,
                                  range.lowerBound, range.upperBound)
        }
    }
}
