import MedLayers
import MedTensor

/// timm's `EvaBlock` as EVA-02 CLIP uses it (no LayerScale): x + drop_path(attn(norm1(x), rope)), then
/// x + drop_path(mlp(norm2(x))), with ``EvaAttention`` (separate q/k/v, sub-LN before `proj`) and the
/// ``SwiGLU`` MLP with its own LayerNorm.
///
/// Keys: `norm1.*`, `attn.q_proj.*`, `attn.k_proj.weight`, `attn.v_proj.*`, `attn.norm.*`, `attn.proj.*`,
/// `norm2.*`, `mlp.fc1_g.*`, `mlp.fc1_x.*`, `mlp.norm.*`, `mlp.fc2.*`.
public final class EvaBlock: Module, UnaryLayer {
    public let norm1: LayerNorm
    public let attn: EvaAttention
    public let dropPath1: DropPath
    public let norm2: LayerNorm
    public let mlp: SwiGLU
    public let dropPath2: DropPath

    /// - `mlpRatio`: SwiGLU hidden width as a multiple of `dim` (timm: `int(dim * mlp_ratio)`; EVA-02: 8/3).
    /// - `dropPath`: this block's stochastic-depth rate; `attnDrop` and `projDrop` as in ``TransformerBlock``.
    public init(dim: Int, numHeads: Int, mlpRatio: Double = 4 * 2 / 3, numPrefixTokens: Int = 1, dropPath: Float = 0,
                attnDrop: Float = 0, projDrop: Float = 0, normEps: Float = 1e-6) {
        norm1 = LayerNorm(dim, eps: normEps)
        attn = EvaAttention(dim: dim, numHeads: numHeads, qkvBias: true, qkvFused: false, numPrefixTokens: numPrefixTokens,
                            attnDrop: attnDrop, projDrop: projDrop, scaleNorm: true, normEps: normEps)
        dropPath1 = DropPath(p: dropPath)
        norm2 = LayerNorm(dim, eps: normEps)
        mlp = SwiGLU(inFeatures: dim, hiddenFeatures: Int(Double(dim) * mlpRatio), drop: projDrop, normEps: normEps)
        dropPath2 = DropPath(p: dropPath)
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input, rotaryEmbedding: nil) }

    /// The block with the rotary embedding of this input's grid ([gridH·gridW, 2·headDim], from
    /// ``rotaryEmbeddingCat(dim:gridSize:referenceGridSize:temperature:gridOffset:half:)``), applied to q and k
    /// of the patch tokens; nil: no rotation.
    public func forward(_ input: Tensor, rotaryEmbedding embedding: Tensor?) -> Tensor {
        let rotary: RotaryEmbeddingHook? = embedding.map { embedding in { applyRotaryEmbeddingCat($0, embedding: embedding) } }
        let x = input + dropPath1(attn.forward(norm1(input), rotary: rotary))
        return x + dropPath2(mlp(norm2(x)))
    }
}

/// timm's `Eva` configured as `eva02_base_patch16_clip_224` (the EVA-02 CLIP ViT-B/16 image tower): a ViT with
/// a class token and absolute position embedding, ``EvaBlock``s with rotary position embedding (timm's
/// `RotaryEmbeddingCat`, 16 bands per axis for 64-wide heads, coordinates scaled to the 16×16 reference grid,
/// interleaved rotation of q and k of the patch tokens; the class token is not rotated), SwiGLU MLPs and
/// sub-LayerNorms, the final `norm`, class-token pooling and the head. LayerNorm eps 1e-6 throughout.
///
/// Keys and shapes equal timm 1.0.31's: `cls_token`, `pos_embed` [1, 197, 768], `patch_embed.proj.*`,
/// `blocks.N.*` (``EvaBlock``), `norm.*`, `head.*`.
///
/// **Input sizes.** Built as timm's `dynamic_img_size=True, dynamic_img_pad=True` (as the ViTs here), so any
/// input of at least 1×1 pixels works: a side that is not a multiple of 16 is zero-padded right and bottom
/// (28 → 32, a 2×2 grid); the 14×14 position embedding is resampled to the grid (antialiased bicubic, class
/// token untouched) in every forward pass, and the rotary embedding is rebuilt for the grid with its
/// coordinates scaled to the 16×16 reference (so a 4×4 grid at 64 px spans the same range as 14×14 at 224).
/// 224 is the checkpoint's size; 28, 64, 128 and 72×56 are checked against timm built with those flags.
public final class Eva: Module, ImageEncoder {
    /// The flags of timm's `Eva.__init__` that EVA-02 CLIP uses.
    public struct Configuration: Sendable, Equatable {
        /// The training size (timm's `img_size`): fixes the stored position-embedding grid.
        public var imageSize = 224
        public var patchSize = 16
        public var inChannels = 3
        public var embedDim = 768
        public var depth = 12
        public var numHeads = 12
        /// SwiGLU hidden width over `embedDim` (timm: `4 * 2 / 3`).
        public var mlpRatio: Double = 4 * 2 / 3
        /// The rotary embedding's reference grid (timm's `ref_feat_shape`).
        public var referenceGridSize = Size2(16)
        /// The rotary embedding's temperature (timm's `rope_temperature`).
        public var ropeTemperature: Float = 10000
        public var normEps: Float = 1e-6
        /// Dropout before the head (timm's `drop_rate`).
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

        /// timm `eva02_base_patch16_clip_224`: width 768, 12 blocks, 12 heads of 64.
        public static var eva02BaseCLIP: Configuration { Configuration() }
    }

    public let clsToken: Parameter
    public let posEmbed: Parameter
    public let patchEmbed: PatchEmbed
    public let posDrop: Dropout
    public let blocks: ModuleList<EvaBlock>
    public let norm: LayerNorm
    public let headDrop: Dropout
    public private(set) var head: Linear?

    public let configuration: Configuration
    public let architecture: String
    public var inChannels: Int { configuration.inChannels }
    public var numFeatures: Int { configuration.embedDim }
    public let classifierKeyPrefix = "head"
    public var classifier: Linear? { head }
    /// The width each head rotates (the head width).
    public var headDim: Int { configuration.embedDim / configuration.numHeads }

    /// - Parameters:
    ///   - initialization: `.timm` is `Eva.init_weights`: every Linear N(0, 0.02²) truncated with zero bias,
    ///     position embedding and class token truncated normal (std 0.02), each block's `attn.proj` and
    ///     `mlp.fc2` weights divided by √(2·(index + 1)), and the head's weight and bias scaled by 0.001.
    public init(_ configuration: Configuration = .eva02BaseCLIP, numClasses: Int = 1000, architecture: String? = nil,
                initialization: WeightInitialization = .timm) {
        let c = configuration
        precondition(c.embedDim % c.numHeads == 0 && (c.embedDim / c.numHeads) % 4 == 0,
                     "Eva: width \(c.embedDim) over \(c.numHeads) heads must give a head width divisible by 4")
        self.configuration = c
        self.architecture = architecture ?? "eva(width \(c.embedDim), depth \(c.depth), heads \(c.numHeads))"
        patchEmbed = PatchEmbed(imageSize: Size2(c.imageSize), patchSize: Size2(c.patchSize), inChannels: c.inChannels,
                                embedDim: c.embedDim, bias: true, strictImageSize: false, dynamicImagePad: true)
        clsToken = Parameter(Initializer.truncatedNormal([1, 1, c.embedDim], std: 0.02))
        posEmbed = Parameter(Initializer.truncatedNormal([1, patchEmbed.numPatches! + 1, c.embedDim], std: 0.02))
        posDrop = Dropout(p: c.posDropRate)
        blocks = ModuleList((0..<c.depth).map { index in
            EvaBlock(dim: c.embedDim, numHeads: c.numHeads, mlpRatio: c.mlpRatio, numPrefixTokens: 1,
                     dropPath: c.depth > 1 ? c.dropPathRate * Float(index) / Float(c.depth - 1) : 0,
                     attnDrop: c.attnDropRate, projDrop: c.projDropRate, normEps: c.normEps)
        })
        norm = LayerNorm(c.embedDim, eps: c.normEps)
        headDrop = Dropout(p: c.dropRate)
        head = numClasses > 0 ? Linear(inFeatures: c.embedDim, outFeatures: numClasses) : nil
        super.init()
        if initialization == .timm { initializeWeights() }
    }

    private func initializeWeights() {
        TimmInit.truncatedNormalLinears(in: self)
        for (index, block) in blocks.modules.enumerated() {
            let scale = (2 * Float(index + 1)).squareRoot()
            block.attn.proj.weight.reinitialize(block.attn.proj.weight.value / scale)
            block.mlp.fc2.weight.reinitialize(block.mlp.fc2.weight.value / scale)
        }
        if let head {
            head.weight.reinitialize(head.weight.value * 0.001)
            head.bias?.reinitialize(head.bias!.value * 0.001)
        }
    }

    /// The rotary embedding for a patch grid, [gridH·gridW, 2·headDim] (what timm's `rope.get_embed(shape=grid)` gives).
    public func rotaryEmbedding(gridSize: Size2) -> Tensor {
        rotaryEmbeddingCat(dim: headDim, gridSize: gridSize, referenceGridSize: configuration.referenceGridSize,
                           temperature: configuration.ropeTemperature)
    }

    /// Patch embedding, class token, position embedding (resampled to the grid), the blocks (with the grid's
    /// rotary embedding) and the final norm: [N, C, H, W] → [N, 1 + gridH·gridW, embedDim].
    public func forwardFeatures(_ input: Tensor) -> Tensor {
        checkInput(input)
        let batch = input.shape[0]
        let grid = patchEmbed.gridSize(forInput: Size2(input.shape[2], input.shape[3]))
        var x = patchEmbed(input)
        let position = resampleAbsolutePositionEmbedding(posEmbed.value, newSize: grid, oldSize: patchEmbed.gridSize,
                                                         numPrefixTokens: 1)
        x = Tensor.concatenate([clsToken.value.expanded(to: [batch, 1, numFeatures]), x], axis: 1)
        x = posDrop(x + position)
        let rope = rotaryEmbedding(gridSize: grid)
        for block in blocks.modules {
            x = block.forward(x, rotaryEmbedding: rope)
        }
        return norm(x)
    }

    /// Class-token pooling, dropout and (unless `preLogits`) the head.
    public func forwardHead(_ features: Tensor, preLogits: Bool) -> Tensor {
        let x = headDrop(features.selected(axis: 1, index: 0))
        guard !preLogits, let head else { return x }
        return head(x)
    }

    public func resetClassifier(numClasses: Int) {
        head = freshLinear(numFeatures, numClasses, training: isTraining)
    }

    /// ⌈side / 16⌉ for any side ≥ 1 (dynamic padding).
    public func featureMapSize(forInputSize inputSize: Int) -> Int? {
        inputSize > 0 ? (inputSize + configuration.patchSize - 1) / configuration.patchSize : nil
    }

    /// timm `eva02_base_patch16_clip_224`: 86.6M parameters with 1000 classes (85.9M without a head).
    public static func eva02BasePatch16CLIP(numClasses: Int = 1000, dropRate: Float = 0, dropPathRate: Float = 0,
                                            initialization: WeightInitialization = .timm) -> Eva {
        var configuration = Configuration.eva02BaseCLIP
        configuration.dropRate = dropRate
        configuration.dropPathRate = dropPathRate
        return Eva(configuration, numClasses: numClasses, architecture: "eva02_base_patch16_clip_224",
                   initialization: initialization)
    }
}
