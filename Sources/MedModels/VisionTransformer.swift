import MedLayers
import MedTensor

/// timm's ViT `Block`: pre-norm multi-head self-attention and MLP, each residual branch with an optional
/// LayerScale and stochastic depth: x + drop_path(ls1(attn(norm1(x)))), then x + drop_path(ls2(mlp(norm2(x)))).
///
/// Keys: `norm1.*`, `attn.qkv.*`, `attn.proj.*`, `ls1.gamma` (when LayerScale is on), `norm2.*`, `mlp.fc1.*`,
/// `mlp.fc2.*`, `ls2.gamma`.
public final class TransformerBlock: Module, UnaryLayer {
    public let norm1: LayerNorm
    public let attn: Attention
    public let ls1: LayerScale?
    public let dropPath1: DropPath
    public let norm2: LayerNorm
    public let mlp: Mlp
    public let ls2: LayerScale?
    public let dropPath2: DropPath

    /// - Parameters:
    ///   - mlpRatio: MLP hidden width as a multiple of `dim` (timm: `int(dim * mlp_ratio)`).
    ///   - layerScaleInit: timm's `init_values`; nil leaves LayerScale out (every model here but none of
    ///     the checkpoints uses it).
    ///   - dropPath: this block's stochastic-depth rate; `attnDrop`, `projDrop` are dropout rates inside
    ///     attention (on the probabilities) and after each projection (attention's `proj`, the MLP's `fc1`, `fc2`).
    public init(dim: Int, numHeads: Int, mlpRatio: Double = 4, qkvBias: Bool = true, layerScaleInit: Float? = nil,
                dropPath: Float = 0, attnDrop: Float = 0, projDrop: Float = 0, normEps: Float = 1e-6,
                activation: VisionTransformer.Activation = .gelu) {
        norm1 = LayerNorm(dim, eps: normEps)
        attn = Attention(dim: dim, numHeads: numHeads, qkvBias: qkvBias, attnDrop: attnDrop, projDrop: projDrop, normEps: normEps)
        ls1 = layerScaleInit.map { LayerScale(dim: dim, initValues: $0) }
        dropPath1 = DropPath(p: dropPath)
        norm2 = LayerNorm(dim, eps: normEps)
        mlp = Mlp(inFeatures: dim, hiddenFeatures: Int(Double(dim) * mlpRatio), act: activation.makeLayer(), drop: projDrop)
        ls2 = layerScaleInit.map { LayerScale(dim: dim, initValues: $0) }
        dropPath2 = DropPath(p: dropPath)
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var branch = attn(norm1(input))
        if let ls1 { branch = ls1(branch) }
        let x = input + dropPath1(branch)
        branch = mlp(norm2(x))
        if let ls2 { branch = ls2(branch) }
        return x + dropPath2(branch)
    }
}

/// timm's `VisionTransformer`, one class for the ViT family configured by flags: the augreg ViTs
/// (`vit_tiny/small/base_patch16_224`), DINO (`vit_base_patch16_224.dino`, built without a head) and the
/// CLIP image towers (`vit_base_patch16_clip_224` with pre-norm, bias-free patch projection and LayerNorm
/// eps 1e-5; `vit_base_patch16_clip_quickgelu_224` with QuickGELU). Keys and shapes equal timm 1.0.31's:
/// `cls_token`, `pos_embed`, `patch_embed.proj.*`, `norm_pre.*` (pre-norm), `blocks.N.*`
/// (``TransformerBlock``), `norm.*` (or `fc_norm.*` with average pooling), `head.*`.
///
/// **Input sizes.** The models are built as timm's `dynamic_img_size=True, dynamic_img_pad=True`, so they take
/// any input of at least 1×1 pixels, square or not:
/// - The image is cut into 16×16 patches; a side that is not a multiple of 16 is zero-padded at the right and
///   bottom to the next multiple first (28 → 32, a 2×2 grid; 100 → 112, 7×7).
/// - The stored 14×14 position embedding (224 / 16) is used as it is for a 14×14 grid, and otherwise
///   resampled to the grid by antialiased bicubic interpolation in every forward pass, the class token's
///   entry untouched (64 → 4×4, 128 → 8×8; ``resampleAbsolutePositionEmbedding(_:newSize:oldSize:numPrefixTokens:antialias:)``),
///   so the gradient reaches the stored embedding in training.
/// - 224 is the checkpoints' native size; 28, 64 and 128 (the MedMNIST+ sizes) are checked against timm
///   built with those flags, as is a non-square 72×56 input.
///
/// With `dynamicImageSize: false` the model is timm's default instead: only `imageSize` itself is accepted.
///
/// ``forwardFeatures(_:)`` returns the normalised tokens [N, prefix + gridH·gridW, embedDim] (class token
/// first), as timm's `forward_features`; ``forwardHead(_:preLogits:)`` pools them (the class token, or the
/// mean of the patch tokens with `.avg`), applies `fc_norm` and dropout, and the head.
public final class VisionTransformer: Module, ImageEncoder {
    /// The MLP's activation (timm's `act_layer`).
    public enum Activation: String, Sendable, Equatable {
        /// Exact (erf) GELU, `nn.GELU`.
        case gelu
        /// x·σ(1.702x), OpenAI CLIP's `quick_gelu`.
        case quickGELU

        func makeLayer() -> any UnaryLayer {
            switch self {
            case .gelu: GELU()
            case .quickGELU: QuickGELU()
            }
        }
    }

    /// How the tokens become one feature vector per image (timm's `global_pool`).
    public enum GlobalPool: String, Sendable, Equatable {
        /// The class token (timm's `'token'`, the default).
        case token
        /// The mean of the patch tokens (timm's `'avg'`, prefix tokens excluded); moves the final norm to
        /// `fc_norm` after the pooling unless `fcNorm` says otherwise.
        case avg
    }

    /// The flags of timm's `VisionTransformer.__init__` that these models use.
    public struct Configuration: Sendable, Equatable {
        /// The training size (timm's `img_size`): fixes the stored position-embedding grid.
        public var imageSize = 224
        public var patchSize = 16
        public var inChannels = 3
        public var embedDim = 768
        public var depth = 12
        public var numHeads = 12
        public var mlpRatio: Double = 4
        public var qkvBias = true
        public var classToken = true
        /// CLIP's LayerNorm after the embeddings (`norm_pre`); also drops the patch projection's bias, as timm.
        public var preNorm = false
        /// Every LayerNorm's eps: 1e-6 (timm's ViT), 1e-5 (CLIP).
        public var normEps: Float = 1e-6
        public var activation: Activation = .gelu
        /// LayerScale's initial value (timm's `init_values`); nil: no LayerScale.
        public var layerScaleInit: Float? = nil
        public var globalPool: GlobalPool = .token
        /// LayerNorm after pooling instead of before (timm's `fc_norm`); nil: on exactly for `.avg` pooling.
        public var fcNorm: Bool? = nil
        /// Dropout before the head (timm's `drop_rate`).
        public var dropRate: Float = 0
        /// Dropout after adding the position embedding (`pos_drop_rate`).
        public var posDropRate: Float = 0
        /// Dropout after the attention and MLP projections (`proj_drop_rate`).
        public var projDropRate: Float = 0
        /// Dropout on the attention probabilities (`attn_drop_rate`).
        public var attnDropRate: Float = 0
        /// Stochastic depth, rising linearly from 0 in the first block to this in the last (timm's rule).
        public var dropPathRate: Float = 0
        /// Resample the position embedding to the input's grid (timm's `dynamic_img_size`).
        public var dynamicImageSize = true
        /// Zero-pad right and bottom to a multiple of the patch size (timm's `dynamic_img_pad`).
        public var dynamicImagePad = true

        public init(embedDim: Int = 768, depth: Int = 12, numHeads: Int = 12) {
            self.embedDim = embedDim
            self.depth = depth
            self.numHeads = numHeads
        }

        /// timm `vit_tiny_patch16_224`: width 192, 12 blocks, 3 heads.
        public static var vitTiny: Configuration { Configuration(embedDim: 192, depth: 12, numHeads: 3) }
        /// timm `vit_small_patch16_224`: width 384, 12 blocks, 6 heads.
        public static var vitSmall: Configuration { Configuration(embedDim: 384, depth: 12, numHeads: 6) }
        /// timm `vit_base_patch16_224` (and its `.dino` tag): width 768, 12 blocks, 12 heads.
        public static var vitBase: Configuration { Configuration() }
        /// timm `vit_base_patch16_clip_224`: ViT-B/16 with pre-norm, LayerNorm eps 1e-5 and GELU
        /// (or QuickGELU, `vit_base_patch16_clip_quickgelu_224`).
        public static func vitBaseCLIP(quickGELU: Bool = false) -> Configuration {
            var configuration = Configuration()
            configuration.preNorm = true
            configuration.normEps = 1e-5
            configuration.activation = quickGELU ? .quickGELU : .gelu
            return configuration
        }
    }

    public let clsToken: Parameter?
    public let posEmbed: Parameter
    public let patchEmbed: PatchEmbed
    public let posDrop: Dropout
    public let normPre: LayerNorm?
    public let blocks: Sequential
    public let norm: LayerNorm?
    public let fcNorm: LayerNorm?
    public let headDrop: Dropout
    public private(set) var head: Linear?

    public let configuration: Configuration
    public let architecture: String
    public var inChannels: Int { configuration.inChannels }
    public var numFeatures: Int { configuration.embedDim }
    /// Class token (1) or none (0): the leading tokens that pooling and position resampling treat apart.
    public var numPrefixTokens: Int { clsToken == nil ? 0 : 1 }
    public let classifierKeyPrefix = "head"
    public var classifier: Linear? { head }

    /// - Parameters:
    ///   - initialization: `.timm` is timm's `init_weights_vit_timm` (truncated normal, std 0.02, on every
    ///     Linear with zero bias); `.layerDefaults` keeps PyTorch's Linear defaults. Both draw the position
    ///     embedding from a truncated normal (std 0.02) and the class token from N(0, 1e-12), as timm.
    public init(_ configuration: Configuration = .vitBase, numClasses: Int = 1000, architecture: String? = nil,
                initialization: WeightInitialization = .timm) {
        let c = configuration
        precondition(c.classToken || c.globalPool != .token, "VisionTransformer: token pooling needs the class token")
        precondition(c.embedDim % c.numHeads == 0, "VisionTransformer: width \(c.embedDim) is not divisible by \(c.numHeads) heads")
        self.configuration = c
        self.architecture = architecture ?? "vit(width \(c.embedDim), depth \(c.depth), heads \(c.numHeads))"
        let useFcNorm = c.fcNorm ?? (c.globalPool == .avg)
        patchEmbed = PatchEmbed(imageSize: Size2(c.imageSize), patchSize: Size2(c.patchSize), inChannels: c.inChannels,
                                embedDim: c.embedDim, bias: !c.preNorm, strictImageSize: !c.dynamicImageSize,
                                dynamicImagePad: c.dynamicImagePad)
        let prefix = c.classToken ? 1 : 0
        clsToken = c.classToken ? Parameter(Initializer.normal([1, 1, c.embedDim], std: 1e-6)) : nil
        posEmbed = Parameter(Initializer.truncatedNormal([1, patchEmbed.numPatches! + prefix, c.embedDim], std: 0.02))
        posDrop = Dropout(p: c.posDropRate)
        normPre = c.preNorm ? LayerNorm(c.embedDim, eps: c.normEps) : nil
        blocks = Sequential((0..<c.depth).map { index in
            TransformerBlock(dim: c.embedDim, numHeads: c.numHeads, mlpRatio: c.mlpRatio, qkvBias: c.qkvBias,
                             layerScaleInit: c.layerScaleInit,
                             dropPath: c.depth > 1 ? c.dropPathRate * Float(index) / Float(c.depth - 1) : 0,
                             attnDrop: c.attnDropRate, projDrop: c.projDropRate, normEps: c.normEps, activation: c.activation)
        })
        norm = useFcNorm ? nil : LayerNorm(c.embedDim, eps: c.normEps)
        fcNorm = useFcNorm ? LayerNorm(c.embedDim, eps: c.normEps) : nil
        headDrop = Dropout(p: c.dropRate)
        head = numClasses > 0 ? Linear(inFeatures: c.embedDim, outFeatures: numClasses) : nil
        super.init()
        if initialization == .timm { initializeWeights() }
    }

    /// timm's `init_weights_vit_timm`: every Linear N(0, 0.02²) truncated to ±2, bias 0.
    private func initializeWeights() {
        TimmInit.truncatedNormalLinears(in: self)
    }

    /// Patch embedding, class token, position embedding (resampled to the grid), pre-norm, the blocks and the
    /// final norm: [N, C, H, W] → [N, prefix + gridH·gridW, embedDim].
    public func forwardFeatures(_ input: Tensor) -> Tensor {
        checkInput(input)
        let batch = input.shape[0]
        let grid = patchEmbed.gridSize(forInput: Size2(input.shape[2], input.shape[3]))
        var x = patchEmbed(input)
        var position = posEmbed.value
        if configuration.dynamicImageSize {
            position = resampleAbsolutePositionEmbedding(position, newSize: grid, oldSize: patchEmbed.gridSize,
                                                         numPrefixTokens: numPrefixTokens)
        }
        if let clsToken {
            x = Tensor.concatenate([clsToken.value.expanded(to: [batch, 1, numFeatures]), x], axis: 1)
        }
        x = posDrop(x + position)
        if let normPre { x = normPre(x) }
        x = blocks(x)
        return norm.map { $0(x) } ?? x
    }

    /// Pooling (class token or mean of the patch tokens), `fc_norm`, dropout and (unless `preLogits`) the head.
    public func forwardHead(_ features: Tensor, preLogits: Bool) -> Tensor {
        var x: Tensor
        switch configuration.globalPool {
        case .token:
            x = features.selected(axis: 1, index: 0)
        case .avg:
            let prefix = numPrefixTokens
            x = features.narrowed(axis: 1, start: prefix, length: features.shape[1] - prefix).mean(axis: 1)
        }
        if let fcNorm { x = fcNorm(x) }
        x = headDrop(x)
        guard !preLogits, let head else { return x }
        return head(x)
    }

    public func resetClassifier(numClasses: Int) {
        head = freshLinear(numFeatures, numClasses, training: isTraining)
    }

    /// The side of the patch grid for an input side: ⌈side / 16⌉ with dynamic padding (any side ≥ 1);
    /// side / 16 for a multiple of 16 without it; only the training size when the size is not dynamic.
    public func featureMapSize(forInputSize inputSize: Int) -> Int? {
        let patch = configuration.patchSize
        guard inputSize > 0 else { return nil }
        guard configuration.dynamicImageSize else { return inputSize == configuration.imageSize ? inputSize / patch : nil }
        if configuration.dynamicImagePad { return (inputSize + patch - 1) / patch }
        return inputSize % patch == 0 ? inputSize / patch : nil
    }

    // MARK: timm's configurations

    /// The same configuration with the given regularisation (timm's `drop_rate`, `drop_path_rate`).
    private static func regularized(_ configuration: Configuration, dropRate: Float, dropPathRate: Float) -> Configuration {
        var configuration = configuration
        configuration.dropRate = dropRate
        configuration.dropPathRate = dropPathRate
        return configuration
    }

    /// timm `vit_tiny_patch16_224`: 5.7M parameters with 1000 classes.
    public static func vitTinyPatch16(numClasses: Int = 1000, dropRate: Float = 0, dropPathRate: Float = 0,
                                      initialization: WeightInitialization = .timm) -> VisionTransformer {
        VisionTransformer(regularized(.vitTiny, dropRate: dropRate, dropPathRate: dropPathRate), numClasses: numClasses,
                          architecture: "vit_tiny_patch16_224", initialization: initialization)
    }

    /// timm `vit_small_patch16_224`: 22.1M parameters with 1000 classes.
    public static func vitSmallPatch16(numClasses: Int = 1000, dropRate: Float = 0, dropPathRate: Float = 0,
                                       initialization: WeightInitialization = .timm) -> VisionTransformer {
        VisionTransformer(regularized(.vitSmall, dropRate: dropRate, dropPathRate: dropPathRate), numClasses: numClasses,
                          architecture: "vit_small_patch16_224", initialization: initialization)
    }

    /// timm `vit_base_patch16_224` (ViT-B/16; with `numClasses: 0`, the headless `.dino` checkpoint's model):
    /// 86.6M parameters with 1000 classes.
    public static func vitBasePatch16(numClasses: Int = 1000, dropRate: Float = 0, dropPathRate: Float = 0,
                                      initialization: WeightInitialization = .timm) -> VisionTransformer {
        VisionTransformer(regularized(.vitBase, dropRate: dropRate, dropPathRate: dropPathRate), numClasses: numClasses,
                          architecture: "vit_base_patch16_224", initialization: initialization)
    }

    /// timm `vit_base_patch16_clip_224` (GELU) or, with `quickGELU`, `vit_base_patch16_clip_quickgelu_224`: the
    /// CLIP ViT-B/16 image tower, 86.6M parameters with 1000 classes.
    public static func vitBasePatch16CLIP(quickGELU: Bool = false, numClasses: Int = 1000, dropRate: Float = 0,
                                          dropPathRate: Float = 0, initialization: WeightInitialization = .timm) -> VisionTransformer {
        VisionTransformer(regularized(.vitBaseCLIP(quickGELU: quickGELU), dropRate: dropRate, dropPathRate: dropPathRate),
                          numClasses: numClasses,
                          architecture: quickGELU ? "vit_base_patch16_clip_quickgelu_224" : "vit_base_patch16_clip_224",
                          initialization: initialization)
    }
}
