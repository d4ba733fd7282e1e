import MedTensor

/// Turns UInt8 images into a Float32 batch tensor, on whole batches and on every core.
///
/// The steps, in order, mirror the torchvision pipeline the paper uses (MEDMNIST.md §1.3):
/// 1. `ToTensor`: bytes → Float32 in [0, 1], channels first (NCHW; 3D: NCDHW).
/// 2. grayscale → RGB by replicating the channel when ``rgb`` is set (PIL's `convert('RGB')`).
/// 3. augmentation (flips, random resized crop) when ``augmentation`` is set and a generator is given.
/// 4. resize to ``resize`` with ``interpolation`` (PyTorch `F.interpolate` rules, see ``Interpolation``).
/// 5. `Normalize(mean, std)` when ``normalization`` is set.
/// 6. centred zero padding to ``padTo`` — after normalisation, so pad pixels are 0 in normalised space:
///    `total = max(0, padTo − size)`, left/top `total / 2`, right/bottom the rest.
///
/// Steps 1, 2 and 5 run through a 256-entry table per channel computed with torchvision's exact Float32
/// operations, so without resizing the output is bit-identical to PyTorch. 3D volumes support steps 1, 2, 5.
public struct ImageTransform: Sendable, Equatable {
    /// Replicate grayscale to 3 channels (`as_rgb=True`).
    public var rgb: Bool
    /// Output height and width before padding; nil keeps the input size (or the crop size).
    public var resize: Int?
    public var interpolation: Interpolation
    public var normalization: Normalization?
    /// Final height and width after centred zero padding; nil for no padding.
    public var padTo: Int?
    public var augmentation: Augmentation?

    /// A pipeline; every step is off by default, giving plain `ToTensor` (bytes → [0, 1], channels first).
    /// The sizes may come from a user's settings: ``validate(for:)`` (which ``BatchLoader`` calls) reports a
    /// `resize` or `padTo` below 1, which applying the transform traps on.
    public init(
        rgb: Bool = false, resize: Int? = nil, interpolation: Interpolation = .bilinear,
        normalization: Normalization? = nil, padTo: Int? = nil, augmentation: Augmentation? = nil
    ) {
        self.rgb = rgb
        self.resize = resize
        self.interpolation = interpolation
        self.normalization = normalization
        self.padTo = padTo
        self.augmentation = augmentation
    }

    /// The paper's protocol: RGB, the model's normalisation, zero padding to `targetSize` (224), no
    /// resizing, no augmentation.
    public static func paper(normalization: Normalization, targetSize: Int = 224) -> ImageTransform {
        ImageTransform(rgb: true, normalization: normalization, padTo: targetSize)
    }

    /// Channels of the output.
    public func outputChannels(for layout: ImageLayout) -> Int { rgb ? 3 : layout.channels }

    /// Checks that this pipeline can run on images of `layout`, which ``apply(_:indices:generator:)`` otherwise
    /// traps on: sizes of at least 1, one normalisation value or one per output channel, only `rgb` and
    /// `normalization` for volumes, and a `resize` whenever there is a random resized crop. ``BatchLoader``
    /// calls it when it is built; call it yourself before applying a transform assembled from a user's settings.
    /// - Throws: ``TransformError``.
    public func validate(for layout: ImageLayout) throws {
        for (step, value) in [("resize", resize), ("padTo", padTo)] {
            if let value, value < 1 { throw TransformError.size(step: step, value: value) }
        }
        let channels = outputChannels(for: layout)
        if let normalization, normalization.mean.count != 1 && normalization.mean.count != channels {
            throw TransformError.normalizationChannels(values: normalization.mean.count, channels: channels, layout: layout)
        }
        if layout == .volume {
            let twoDimensional = [("resize", resize != nil), ("padTo", padTo != nil), ("augmentation", augmentation != nil)]
            if let step = twoDimensional.first(where: \.1)?.0 { throw TransformError.notForVolumes(step: step) }
        } else if augmentation?.resizedCrop != nil && resize == nil {
            throw TransformError.resizedCropWithoutResize
        }
    }

    /// The output shape for `batch` samples of `images`: `[B, C, H, W]` or, for volumes, `[B, C, D, H, W]`.
    public func outputShape(for images: ImageArray, batch: Int) -> [Int] {
        outputShape(sampleShape: images.sampleShape, layout: images.layout, batch: batch)
    }

    /// The output shape for `batch` samples of `sampleShape` (`[H, W]`, `[H, W, 3]` or `[D, H, W]`, as
    /// ``DatasetInfo/sampleShape(size:)`` gives it) in `layout`, before any image is loaded.
    public func outputShape(sampleShape: [Int], layout: ImageLayout, batch: Int) -> [Int] {
        let c = outputChannels(for: layout)
        if layout == .volume { return [batch, c] + sampleShape }
        let size = outputSpatialSize(height: sampleShape[0], width: sampleShape[1])
        return [batch, c, size.height, size.width]
    }

    func outputSpatialSize(height: Int, width: Int) -> (height: Int, width: Int) {
        var h = resize ?? height, w = resize ?? width
        if let padTo { h = max(h, padTo); w = max(w, padTo) }
        return (h, w)
    }

    /// The samples `indices` of `images` as one batch tensor. Augmentation, if configured, needs the generator
    /// variant.
    public func apply(_ images: ImageArray, indices: [Int]) -> Tensor {
        precondition(augmentation == nil, "ImageTransform: augmentation needs a RandomGenerator; call apply(_:indices:generator:)")
        var unused = RandomGenerator(seed: 0)
        return apply(images, indices: indices, generator: &unused)
    }

    /// All samples of `images` (a batch already gathered) as one tensor.
    public func apply(_ images: ImageArray) -> Tensor { apply(images, indices: Array(0..<images.count)) }

    /// The samples `indices` of `images` as one batch tensor, drawing augmentation parameters from `generator`.
    public func apply(_ images: ImageArray, indices: [Int], generator: inout RandomGenerator) -> Tensor {
        applyResized(images, indices: indices, height: resize, width: resize, generator: &generator)
    }

    /// The pipeline with a resize to `height` × `width` (nil: keep the input or crop size).
    func applyResized(_ images: ImageArray, indices: [Int], height: Int?, width: Int?, generator: inout RandomGenerator) -> Tensor {
        precondition((height ?? 1) > 0 && (width ?? 1) > 0 && (padTo ?? 1) > 0, "ImageTransform: resize and padTo must be positive")
        for index in indices {
            precondition(index >= 0 && index < images.count, "ImageTransform: sample \(index) out of range 0..<\(images.count)")
        }
        if let normalization {
            precondition(normalization.mean.count == 1 || normalization.mean.count == outputChannels(for: images.layout),
                         "ImageTransform: \(normalization.mean.count) normalisation values for \(outputChannels(for: images.layout)) output channels")
        }
        if images.layout == .volume {
            precondition(height == nil && width == nil && padTo == nil && augmentation == nil,
                         "ImageTransform: resize, padding and augmentation are 2D-only; volumes support rgb and normalization")
            return applyVolume(images, indices: indices)
        }
        let batch = indices.count
        let channels = outputChannels(for: images.layout)
        let sourceChannels = images.layout.channels
        let h = images.height, w = images.width
        // Per-sample crop boxes and flips, drawn in batch order.
        let draws: [Augmentation.Draw] = indices.map { _ in
            augmentation?.draw(height: h, width: w, generator: &generator)
                ?? Augmentation.Draw(top: 0, left: 0, height: h, width: w, flipHorizontal: false, flipVertical: false)
        }
        // Without a resize every sample keeps its crop size, so crops need a resize to stack into one tensor.
        precondition(height != nil || augmentation?.resizedCrop == nil,
                     "ImageTransform: a random resized crop needs `resize` (the output size)")
        let outH = max(height ?? h, padTo ?? 0), outW = max(width ?? w, padTo ?? 0)
        let result = Tensor.uninitialized([batch, channels, outH, outW])
        let tables = (0..<channels).map { c in normalization?.table(channel: c) ?? unitTable }
        let destination = SendablePointer(result.contiguousPointer)
        let plane = outH * outW
        let mode = interpolation
        let norm = normalization
        // One work item = one channel plane of one sample.
        Parallel.forEachRange(batch * channels, grain: 1) { range in
            for item in range {
                let (b, c) = (item / channels, item % channels)
                let draw = draws[b]
                let sizeH = height ?? draw.height, sizeW = width ?? draw.width
                let top = (outH - sizeH) / 2, left = (outW - sizeW) / 2
                let dst = destination.pointer + item * plane
                if outH != sizeH || outW != sizeW { dst.initialize(repeating: 0, count: plane) }
                let src = images.samplePointer(indices[b])
                let sc = sourceChannels == 3 ? c : 0
                if sizeH == h && sizeW == w && draw.height == h && draw.width == w && !draw.flipHorizontal && !draw.flipVertical {
                    // No geometry: one table look-up per pixel.
                    tables[c].withUnsafeBufferPointer { table in
                        for y in 0..<sizeH {
                            let row = dst + (top + y) * outW + left
                            let srcRow = src + (y * w) * sourceChannels + sc
                            for x in 0..<sizeW { row[x] = table[Int(srcRow[x * sourceChannels])] }
                        }
                    }
                    continue
                }
                let ys = AxisSampling(inputSize: draw.height, outputSize: sizeH, start: draw.top, flipped: draw.flipVertical, mode: mode)
                let xs = AxisSampling(inputSize: draw.width, outputSize: sizeW, start: draw.left, flipped: draw.flipHorizontal, mode: mode)
                if mode != .bilinear {
                    // Nearest: still a table look-up, so exact.
                    tables[c].withUnsafeBufferPointer { table in
                        for y in 0..<sizeH {
                            let row = dst + (top + y) * outW + left
                            let srcRow = src + Int(ys.index0[y]) * w * sourceChannels + sc
                            for x in 0..<sizeW { row[x] = table[Int(srcRow[Int(xs.index0[x]) * sourceChannels])] }
                        }
                    }
                    continue
                }
                let (mean, std) = norm?.parameters(channel: c) ?? (0, 1)
                let normalise = norm != nil
                unitTable.withUnsafeBufferPointer { unit in
                    for y in 0..<sizeH {
                        let row = dst + (top + y) * outW + left
                        let r0 = src + Int(ys.index0[y]) * w * sourceChannels + sc
                        let r1 = src + Int(ys.index1[y]) * w * sourceChannels + sc
                        let wy0 = ys.weight0[y], wy1 = ys.weight1[y]
                        for x in 0..<sizeW {
                            let x0 = Int(xs.index0[x]) * sourceChannels, x1 = Int(xs.index1[x]) * sourceChannels
                            let wx0 = xs.weight0[x], wx1 = xs.weight1[x]
                            // ATen's order: interpolate along W inside, then along H.
                            let upper = unit[Int(r0[x0])] * wx0 + unit[Int(r0[x1])] * wx1
                            let lower = unit[Int(r1[x0])] * wx0 + unit[Int(r1[x1])] * wx1
                            let value = upper * wy0 + lower * wy1
                            row[x] = normalise ? (value - mean) / std : value
                        }
                    }
                }
            }
        }
        return result
    }

    private func applyVolume(_ images: ImageArray, indices: [Int]) -> Tensor {
        let channels = outputChannels(for: .volume)
        let out = outputShape(for: images, batch: indices.count)
        let result = Tensor.uninitialized(out)
        let voxels = images.sampleByteCount
        let tables = (0..<channels).map { c in normalization?.table(channel: c) ?? unitTable }
        let destination = SendablePointer(result.contiguousPointer)
        Parallel.forEachRange(indices.count * channels) { range in
            for item in range {
                let (b, c) = (item / channels, item % channels)
                let src = images.samplePointer(indices[b])
                let dst = destination.pointer + item * voxels
                tables[c].withUnsafeBufferPointer { table in
                    for i in 0..<voxels { dst[i] = table[Int(src[i])] }
                }
            }
        }
        return result
    }
}

/// An ``ImageTransform`` that cannot run on the images it is given (see ``ImageTransform/validate(for:)``).
public enum TransformError: Error, Equatable, CustomStringConvertible, Sendable {
    /// `resize` or `padTo` below 1.
    case size(step: String, value: Int)
    /// The normalisation has neither one value nor one per output channel.
    case normalizationChannels(values: Int, channels: Int, layout: ImageLayout)
    /// A 2D-only step (`resize`, `padTo`, `augmentation`) configured for 3D volumes.
    case notForVolumes(step: String)
    /// A random resized crop without `resize`: the crops would have different sizes.
    case resizedCropWithoutResize

    public var description: String {
        switch self {
        case let .size(step, value):
            "\(step) must be at least 1 pixel, got \(value)"
        case let .normalizationChannels(values, channels, layout):
            "the normalisation has \(values) mean/std values but the transform makes \(channels)-channel images from " +
                "\(layout) data" + (channels == 1 && values == 3 ? "; set rgb (as_rgb) to replicate grayscale to 3 channels" : "")
        case .notForVolumes(let step):
            "\(step) is 2D-only; 3D volumes support rgb and normalization"
        case .resizedCropWithoutResize:
            "a random resized crop needs resize (the output size)"
        }
    }
}
