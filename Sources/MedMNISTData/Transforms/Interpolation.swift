/// How a resize picks source pixels. All three follow PyTorch's `F.interpolate` on CPU, in Float32, for a
/// given output size (no `scale_factor`, no antialiasing).
public enum Interpolation: String, Sendable, CaseIterable {
    /// `mode="bilinear", align_corners=False`: source coordinate `(x + 0.5)·in/out − 0.5`, clamped at 0.
    case bilinear
    /// `mode="nearest"` (PyTorch's legacy rule): source `floor(x·in/out)`. Equals PIL's NEAREST for integer
    /// upscaling factors (28 → 224), not in general.
    case nearest
    /// `mode="nearest-exact"`: source `floor((x + 0.5)·in/out)`, the pixel-centre rule of PIL's `NEAREST`
    /// (and scikit-image).
    case nearestExact = "nearest-exact"
}

/// For one axis: which two source indices and weights feed each output index.
struct AxisSampling {
    var index0: [Int32]
    var index1: [Int32]
    var weight0: [Float]
    var weight1: [Float]

    /// Sampling `outputSize` positions from the source range `start ..< start + inputSize`, optionally
    /// mirrored (flip).
    init(inputSize: Int, outputSize: Int, start: Int = 0, flipped: Bool = false, mode: Interpolation) {
        index0 = []; index1 = []; weight0 = []; weight1 = []
        index0.reserveCapacity(outputSize)
        let scale = Float(inputSize) / Float(outputSize)
        for x in 0..<outputSize {
            var i0: Int, i1: Int, w1: Float
            switch mode {
            case .bilinear:
                if inputSize == outputSize {
                    (i0, i1, w1) = (x, x, 0)
                } else {
                    // ATen area_pixel_compute_source_index, in the input's float type.
                    let real = max(scale * (Float(x) + 0.5) - 0.5, 0)
                    i0 = Int(real)
                    i1 = i0 < inputSize - 1 ? i0 + 1 : i0
                    w1 = min(max(real - Float(i0), 0), 1)
                }
            case .nearest:
                if inputSize == outputSize { i0 = x } else if outputSize == 2 * inputSize { i0 = x >> 1 } else {
                    i0 = min(Int((Float(x) * scale).rounded(.down)), inputSize - 1)
                }
                (i1, w1) = (i0, 0)
            case .nearestExact:
                i0 = inputSize == outputSize ? x : min(Int(((Float(x) + 0.5) * scale).rounded(.down)), inputSize - 1)
                (i1, w1) = (i0, 0)
            }
            if flipped {
                i0 = inputSize - 1 - i0
                i1 = inputSize - 1 - i1
            }
            index0.append(Int32(start + i0))
            index1.append(Int32(start + i1))
            weight0.append(1 - w1)
            weight1.append(w1)
        }
    }
}
