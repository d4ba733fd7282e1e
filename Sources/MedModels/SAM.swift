import MedLayers
import MedTensor

/// timm's SAM `Block` (`vision_transformer_sam.Block`) over a [B, H, W, C] grid: pre-norm attention with
/// decomposed relative positions, within non-overlapping `windowSize`×`windowSize` windows (or over the whole
/// grid when `windowSize` is 0, a global block), then the MLP. LayerNorm eps 1e-5 (PyTorch's, as timm's SAM).
///
/// Windowed blocks zero-pad the normalised grid right and bottom to a multiple of the window (timm's
/// `window_partition`), so a grid smaller than one window (4×4 at 64 px) is one padded window whose padding
/// tokens take part as keys, and crop the padding off afterwards. Their relative-position tables have
/// 2·window − 1 rows; a global block's have 2·grid − 1 for the training grid and are resized by linear
/// interpolation to the input's grid (``relativePositionEmbeddings(querySize:keySize:table:)``).
///
/// Keys: `norm1.*`, `attn.rel_pos_h`, `attn.rel_pos_w`, `attn.qkv.*`, `attn.proj.*`, `norm2.*`, `mlp.fc1.*`, `mlp.fc2.*`.
public final class SAMBlock: Module, UnaryLayer {
    public let norm1: LayerNorm
    public let attn: Attention
    public let dropPath1: DropPath
    public let norm2: LayerNorm
    public let mlp: Mlp
    public let dropPath2: DropPath
    /// The window side; 0 for a global block.
    public let windowSize: Int

    /// - `gridSize`: the training grid (64×64 for 1024 px), which sizes a global block's tables.
    public init(dim: Int, numHeads: Int, mlpRatio: Double = 4, windowSize: Int, gridSize: Size2, dropPath: Float = 0,
                attnDrop: Float = 0, projDrop: Float = 0, normEps: Float = 1e-5) {
        norm1 = LayerNorm(dim, eps: normEps)
        attn = Attention(dim: dim, numHeads: numHeads, qkvBias: true, attnDrop: attnDrop, projDrop: projDrop,
                         relativePositionSize: windowSize > 0 ? Size2(windowSize) : gridSize)
        dropPath1 = DropPath(p: dropPath)
        norm2 = LayerNorm(dim, eps: normEps)
        mlp = Mlp(inFeatures: dim, hiddenFeatures: Int(Double(dim) * mlpRatio), act: GELU(), drop: projDrop)
        dropPath2 = DropPath(p: dropPath)
        self.windowSize = windowSize
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "SAMBlock: expected [B, H, W, C], got \(input.shape)")
        let (batch, height, width, channels) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        var x = norm1(input)
        if windowSize > 0 {
            let w = windowSize
            let (padH, padW) = ((w - height % w) % w, (w - width % w) % w)
            if padH > 0 || padW > 0 { x = x.padded([(0, 0), (0, padH), (0, padW), (0, 0)]) }
            let (rows, columns) = ((height + padH) / w, (width + padW) / w)
            let windows = x.reshaped([batch, rows, w, columns, w, channels]).permuted([0, 1, 3, 2, 4, 5])
                .reshaped([batch * rows * columns, w, w, channels])
            // Drop path acts per window, as timm applies it before un-partitioning.
            x = dropPath1(attn(windows)).reshaped([batch, rows, columns, w, w, channels]).permuted([0, 1, 3, 2, 4, 5])
                .reshaped([batch, rows * w, columns * w, channels])
            if padH > 0 { x = x.narrowed(axis: 1, start: 0, length: height) }
            if padW > 0 { x = x.narrowed(axis: 2, start: 0, length: width) }
        } else {
            x = dropPath1(attn(x))
        }
        x = (input + x).reshaped([batch, height * width, channels])
        x = x + dropPath2(mlp(norm2(x)))
        return x.reshaped([batch, height, width, channels])
    }
}

/// timm's `VisionTransformerSAM` configured as `samvit_base_patch16` (the Segment Anything ViT-B/16 image
/// encoder, as a classifier): patch embedding to a [B, H, W, 768] grid, the absolute position embedding
/// (stored for 1024 px: [1, 64, 64, 768], NHWC), 12 ``SAMBlock``s (windows of 14 but in the global blocks 2, 5,
/// 8, 11), the neck (1×1 conv 768 → 256 without bias, LayerNorm2d, 3×3 conv, LayerNorm2d), average pooling
/// and the head. The pre-logit features are the neck's 256 channels, averaged.
///
/// Keys and shapes equal timm 1.0.31's: `pos_embed`, `patch_embed.proj.*`, `blocks.N.*`, `neck.0.weight`,
/// `neck.1.*`, `neck.2.weight`, `neck.3.*`, `head.fc.*`.
///
/// **Input sizes.** Any input of at least 1×1 pixels:
/// - A side that is not a multiple of 16 is zero-padded right and bottom to the next multiple (28 → 32, a 2×2
///   grid), as timm's `PatchEmbed(dynamic_img_pad=True)`. timm's own `samvit_base_patch16` does not pad: it
///   rejects such sides ("should be divisible by patch size"); the fixtures check ours against timm built
///   with `embed_layer=partial(PatchEmbed, output_fmt='NHWC', strict_img_size=False, dynamic_img_pad=True)`.
/// - The 64×64 position embedding is resampled to the grid in every forward pass by antialiased bicubic
///   interpolation (timm's `resample_abs_pos_embed_nhwc`): 14×14 at 224, 4×4 at 64.
/// - Windowed blocks pad the grid to a multiple of 14 (one padded window for every grid up to 14×14);
///   global blocks resize their 127-entry tables to 2·grid − 1 by linear interpolation.
/// 1024 is the checkpoint's size; 28, 64, 128, 224 and 72×56 are checked against timm.
public final class VisionTransformerSAM: Module, ImageEncoder {
    /// The flags of timm's `VisionTransformerSAM.__init__` that SAM uses.
    public struct Configuration: Sendable, Equatable {
        /// The training size (`img_size`): fixes the stored position-embedding grid and the global tables.
        public var imageSize = 1024
        public var patchSize = 16
        public var inChannels = 3
        public var embedDim = 768
        public var depth = 12
        public var numHeads = 12
        public var mlpRatio: Double = 4
        public var windowSize = 14
        /// The blocks that attend over the whole grid (timm's `global_attn_indexes`).
        public var globalAttentionIndexes: [Int] = [2, 5, 8, 11]
        /// The neck's width (`neck_chans`): the pre-logit width.
        public var neckChannels = 256
        /// Dropout before the head (`drop_rate`).
        public var dropRate: Float = 0
        /// Dropout after adding the position embedding (`pos_drop_rate`).
        public var posDropRate: Float = 0
        /// Dropout after the attention and MLP projections (`proj_drop_rate`).
        public var projDropRate: Float = 0
        /// Dropout on the attention probabilities (`attn_drop_rate`).
        public var attnDropRate: Float = 0
        /// Stochastic depth, rising linearly from 0 in the first block to this in the last.
        public var dropPathRate: Float = 0

        public init(embedDim: Int = 768, depth: Int = 12, numHeads: Int = 12) {
            self.embedDim = embedDim
            self.depth = depth
            self.numHeads = numHeads
        }

        /// timm `samvit_base_patch16`.
        public static var samBase: Configuration { Configuration() }
    }

    public let posEmbed: Parameter
    public let patchEmbed: PatchEmbed
    public let posDrop: Dropout
    public let blocks: ModuleList<SAMBlock>
    public let neck: Sequential
    public let head: ClassifierHead

    public let configuration: Configuration
    public let architecture: String
    public var inChannels: Int { configuration.inChannels }
    public var numFeatures: Int { configuration.neckChannels }
    public let classifierKeyPrefix = "head.fc"
    public var classifier: Linear? { head.fc }

    /// timm initialises SAM with the layers' own defaults (PyTorch's Linear and Conv2d, zero position
    /// embedding and relative-position tables), so both `initialization`s give that.
    public init(_ configuration: Configuration = .samBase, numClasses: Int = 1000, architecture: String? = nil,
                initialization: WeightInitialization = .timm) {
        let c = configuration
        precondition(c.embedDim % c.numHeads == 0, "VisionTransformerSAM: width \(c.embedDim) is not divisible by \(c.numHeads) heads")
        self.configuration = c
        self.architecture = architecture ?? "samvit(width \(c.embedDim), depth \(c.depth), heads \(c.numHeads))"
        patchEmbed = PatchEmbed(imageSize: Size2(c.imageSize), patchSize: Size2(c.patchSize), inChannels: c.inChannels,
                                embedDim: c.embedDim, outputFormat: .nhwc, bias: true, strictImageSize: false,
                                dynamicImagePad: true)
        let grid = patchEmbed.gridSize!
        posEmbed = Parameter(.zeros([1, grid.height, grid.width, c.embedDim]))
        posDrop = Dropout(p: c.posDropRate)
        blocks = ModuleList((0..<c.depth).map { index in
            SAMBlock(dim: c.embedDim, numHeads: c.numHeads, mlpRatio: c.mlpRatio,
                     windowSize: c.globalAttentionIndexes.contains(index) ? 0 : c.windowSize, gridSize: grid,
                     dropPath: c.depth > 1 ? c.dropPathRate * Float(index) / Float(c.depth - 1) : 0,
                     attnDrop: c.attnDropRate, projDrop: c.projDropRate)
        })
        neck = Sequential(
            Conv2d(inChannels: c.embedDim, outChannels: c.neckChannels, kernelSize: 1, bias: false),
            LayerNorm2d(c.neckChannels),
            Conv2d(inChannels: c.neckChannels, outChannels: c.neckChannels, kernelSize: 3, padding: 1, bias: false),
            LayerNorm2d(c.neckChannels))
        head = ClassifierHead(inFeatures: c.neckChannels, numClasses: numClasses, dropRate: c.dropRate)
        super.init()
    }

    /// Patch embedding, the resampled position embedding, the blocks and the neck:
    /// [N, C, H, W] → [N, neckChannels, gridH, gridW].
    public func forwardFeatures(_ input: Tensor) -> Tensor {
        checkInput(input)
        var x = patchEmbed(input)
        let grid = Size2(x.shape[1], x.shape[2])
        x = posDrop(x + resampleAbsolutePositionEmbeddingNHWC(posEmbed.value, newSize: grid))
        for block in blocks.modules { x = block(x) }
        return neck(x.permuted([0, 3, 1, 2]))
    }

    /// Average pooling, dropout and (unless `preLogits`) the head.
    public func forwardHead(_ features: Tensor, preLogits: Bool) -> Tensor {
        head.forward(features, preLogits: preLogits)
    }

    public func resetClassifier(numClasses: Int) {
        head.fc = freshLinear(numFeatures, numClasses, training: isTraining)
    }

    /// ⌈side / 16⌉ for any side ≥ 1 (dynamic padding).
    public func featureMapSize(forInputSize inputSize: Int) -> Int? {
        inputSize > 0 ? (inputSize + configuration.patchSize - 1) / configuration.patchSize : nil
    }

    /// timm `samvit_base_patch16`: 89.9M parameters with 1000 classes (89.7M without a head, as the `sa1b` checkpoint).
    public static func samvitBasePatch16(numClasses: Int = 1000, dropRate: Float = 0, dropPathRate: Float = 0,
                                         initialization: WeightInitialization = .timm) -> VisionTransformerSAM {
        var configuration = Configuration.samBase
        configuration.dropRate = dropRate
        configuration.dropPathRate = dropPathRate
        return VisionTransformerSAM(configuration, numClasses: numClasses, architecture: "samvit_base_patch16",
                                    initialization: initialization)
    }
}
