import MedTensor

/// timm's `Mlp`, the feed-forward block of a transformer: fc1 → act → drop → norm → fc2 → drop, over the
/// last axis. Keys: `fc1.*`, `norm.*` (when `norm` is set), `fc2.*`.
public final class Mlp: Module, UnaryLayer {
    public let fc1: Linear
    public let act: any UnaryLayer
    public let drop1: Dropout
    public let norm: LayerNorm?
    public let fc2: Linear
    public let drop2: Dropout

    /// - `hiddenFeatures`, `outFeatures` default to `inFeatures`, as in timm.
    /// - `act` is GELU (exact) by default; CLIP uses ``QuickGELU``.
    /// - `normEps`, when set, adds a LayerNorm over the hidden features (timm's `norm_layer`).
    public init(inFeatures: Int, hiddenFeatures: Int? = nil, outFeatures: Int? = nil, act: any UnaryLayer = GELU(),
                bias: Bool = true, drop: Float = 0, normEps: Float? = nil) {
        let hidden = hiddenFeatures ?? inFeatures
        fc1 = Linear(inFeatures: inFeatures, outFeatures: hidden, bias: bias)
        self.act = act
        drop1 = Dropout(p: drop)
        norm = normEps.map { LayerNorm(hidden, eps: $0) }
        fc2 = Linear(inFeatures: hidden, outFeatures: outFeatures ?? inFeatures, bias: bias)
        drop2 = Dropout(p: drop)
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = drop1(act(fc1(input)))
        if let norm { x = norm(x) }
        return drop2(fc2(x))
    }
}

/// timm's `SwiGLU` (EVA-02's MLP): act(fc1_g(x)) · fc1_x(x) → drop → norm → fc2 → drop, with SiLU by
/// default. Keys: `fc1_g.*`, `fc1_x.*`, `norm.*` (EVA-02's sub-LN, when `normEps` is set), `fc2.*`.
public final class SwiGLU: Module, UnaryLayer {
    public let fc1G: Linear
    public let fc1X: Linear
    public let act: any UnaryLayer
    public let drop1: Dropout
    public let norm: LayerNorm?
    public let fc2: Linear
    public let drop2: Dropout

    public init(inFeatures: Int, hiddenFeatures: Int? = nil, outFeatures: Int? = nil, act: any UnaryLayer = SiLU(),
                bias: Bool = true, drop: Float = 0, normEps: Float? = nil) {
        let hidden = hiddenFeatures ?? inFeatures
        fc1G = Linear(inFeatures: inFeatures, outFeatures: hidden, bias: bias)
        fc1X = Linear(inFeatures: inFeatures, outFeatures: hidden, bias: bias)
        self.act = act
        drop1 = Dropout(p: drop)
        norm = normEps.map { LayerNorm(hidden, eps: $0) }
        fc2 = Linear(inFeatures: hidden, outFeatures: outFeatures ?? inFeatures, bias: bias)
        drop2 = Dropout(p: drop)
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = drop1(act(fc1G(input)) * fc1X(input))
        if let norm { x = norm(x) }
        return drop2(fc2(x))
    }
}

/// timm's `GluMlp`: one `fc1` to twice the gate width, split in halves x₁, x₂ along the last axis, then
/// x₁ · act(x₂) (`gateLast`, the default) or act(x₁) · x₂ (timm's `SwiGLUPacked`), drop, norm, fc2, drop.
/// `hiddenFeatures` is the width of fc1's output (both halves), as in timm.
public final class GluMlp: Module, UnaryLayer {
    public let fc1: Linear
    public let act: any UnaryLayer
    public let drop1: Dropout
    public let norm: LayerNorm?
    public let fc2: Linear
    public let drop2: Dropout
    public let gateLast: Bool

    public init(inFeatures: Int, hiddenFeatures: Int? = nil, outFeatures: Int? = nil, act: any UnaryLayer = Sigmoid(),
                bias: Bool = true, drop: Float = 0, normEps: Float? = nil, gateLast: Bool = true) {
        let hidden = hiddenFeatures ?? inFeatures
        precondition(hidden % 2 == 0, "GluMlp: hidden features (\(hidden)) must be even")
        fc1 = Linear(inFeatures: inFeatures, outFeatures: hidden, bias: bias)
        self.act = act
        drop1 = Dropout(p: drop)
        norm = normEps.map { LayerNorm(hidden / 2, eps: $0) }
        fc2 = Linear(inFeatures: hidden / 2, outFeatures: outFeatures ?? inFeatures, bias: bias)
        drop2 = Dropout(p: drop)
        self.gateLast = gateLast
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let halves = fc1(input).chunked(2, axis: -1)
        var x = gateLast ? halves[0] * act(halves[1]) : act(halves[0]) * halves[1]
        x = drop1(x)
        if let norm { x = norm(x) }
        return drop2(fc2(x))
    }
}

/// timm's `LayerScale`: x · γ over the last axis, γ (key `gamma`) initialised to `initValues`
/// (ViT-style blocks hold two, `ls1` and `ls2`; EVA keeps `gamma_1`/`gamma_2` on the block itself).
public final class LayerScale: Module, UnaryLayer {
    public let gamma: Parameter

    public init(dim: Int, initValues: Float = 1e-5) {
        gamma = Parameter(.full([dim], initValues))
        super.init()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { input * gamma.value }
}
