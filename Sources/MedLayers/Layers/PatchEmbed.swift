import MedTensor

/// timm's `PatchEmbed`: an image [B, C, H, W] cut into non-overlapping patches, each projected to
/// `embedDim` by the `proj` convolution (kernel = stride = patch size), then flattened to tokens
/// [B, gridH·gridW, embedDim] (or kept as [B, gridH, gridW, embedDim] for SAM, or [B, embedDim, gridH, gridW]),
/// then the optional `norm`. Keys: `proj.weight` [embedDim, C, pH, pW], `proj.bias`, `norm.*`.
///
/// With kernel = stride and no padding the convolution is exactly one GEMM: the patches are laid out as
/// rows [B·gridH·gridW, C·pH·pW] (one copy of the image) and multiplied by the conv weight viewed as
/// [embedDim, C·pH·pW]; the rows come out in token order, so no transpose follows. This is what the
/// forward pass does; `proj` is a ``Conv2d`` only so that weights, initialisation and keys are the conv's.
public final class PatchEmbed: Module, UnaryLayer {
    /// How the patch grid is returned (timm's `output_fmt`; `flatten=True` is `.nlc`).
    public enum OutputFormat: Sendable { case nlc, nhwc, nchw }

    public let proj: Conv2d
    public let norm: LayerNorm?
    public let patchSize: Size2
    /// The training image size (timm's `img_size`); nil accepts any size.
    public let imageSize: Size2?
    public let outputFormat: OutputFormat
    /// When true, input must be `imageSize` exactly (timm's default); otherwise any multiple of the patch.
    public let strictImageSize: Bool
    /// Zero-pads the right and bottom up to a multiple of the patch size (timm's `dynamic_img_pad`).
    public let dynamicImagePad: Bool

    public init(imageSize: Size2? = 224, patchSize: Size2 = 16, inChannels: Int = 3, embedDim: Int = 768,
                normEps: Float? = nil, outputFormat: OutputFormat = .nlc, bias: Bool = true,
                strictImageSize: Bool = true, dynamicImagePad: Bool = false) {
        precondition(normEps == nil || outputFormat != .nchw, "PatchEmbed: a norm needs channels-last output")
        proj = Conv2d(inChannels: inChannels, outChannels: embedDim, kernelSize: patchSize, stride: patchSize, bias: bias)
        norm = normEps.map { LayerNorm(embedDim, eps: $0) }
        self.patchSize = patchSize
        self.imageSize = imageSize
        self.outputFormat = outputFormat
        self.strictImageSize = strictImageSize && imageSize != nil
        self.dynamicImagePad = dynamicImagePad
        super.init()
    }

    /// The patch grid of `imageSize` (timm's `grid_size`).
    public var gridSize: Size2? { imageSize.map { Size2($0.height / patchSize.height, $0.width / patchSize.width) } }
    public var numPatches: Int? { gridSize.map { $0.height * $0.width } }
    public var embedDim: Int { proj.outChannels }

    /// The patch grid an input of `size` gives (after any dynamic padding).
    public func gridSize(forInput size: Size2) -> Size2 {
        let (ph, pw) = (patchSize.height, patchSize.width)
        return dynamicImagePad ? Size2((size.height + ph - 1) / ph, (size.width + pw - 1) / pw)
                               : Size2(size.height / ph, size.width / pw)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let channels = proj.inChannels
        precondition(input.rank == 4 && input.shape[1] == channels,
                     "PatchEmbed: expected [B, \(channels), H, W], got \(input.shape)")
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let (ph, pw) = (patchSize.height, patchSize.width)
        if strictImageSize, let imageSize {
            precondition(Size2(height, width) == imageSize, "PatchEmbed: input \(height)×\(width) differs from the model's \(imageSize)")
        } else if !dynamicImagePad {
            precondition(height % ph == 0 && width % pw == 0,
                         "PatchEmbed: input \(height)×\(width) is not a multiple of the patch size \(patchSize)")
        }
        var x = input
        if dynamicImagePad && (height % ph != 0 || width % pw != 0) {
            x = x.padded([(0, 0), (0, 0), (0, (ph - height % ph) % ph), (0, (pw - width % pw) % pw)])
        }
        let grid = gridSize(forInput: Size2(height, width))
        // A fixed image size that is not a multiple of the patch: the conv ignores the remainder.
        if x.shape[2] != grid.height * ph { x = x.narrowed(axis: 2, start: 0, length: grid.height * ph) }
        if x.shape[3] != grid.width * pw { x = x.narrowed(axis: 3, start: 0, length: grid.width * pw) }
        // [B, C, gH, pH, gW, pW] → [B, gH, gW, C, pH, pW] → rows of C·pH·pW
        let patches = x.reshaped([batch, channels, grid.height, ph, grid.width, pw])
            .permuted([0, 2, 4, 1, 3, 5])
            .reshaped([batch * grid.height * grid.width, channels * ph * pw])
        var tokens = patches.matmul(proj.weight.value.reshaped([embedDim, channels * ph * pw]).transposed())
        if let bias = proj.bias { tokens = tokens + bias.value }
        switch outputFormat {
        case .nlc: tokens = tokens.reshaped([batch, grid.height * grid.width, embedDim])
        case .nhwc: tokens = tokens.reshaped([batch, grid.height, grid.width, embedDim])
        case .nchw: return tokens.reshaped([batch, grid.height, grid.width, embedDim]).permuted([0, 3, 1, 2])
        }
        return norm.map { $0(tokens) } ?? tokens
    }
}
