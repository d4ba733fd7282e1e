import Foundation
import MedTestSupport
import Testing
import MedTensor
@testable import MedLayers

@Suite struct TransformerLayerParityTests {
    @Test func mlp() throws {
        let fixture = TransformerFixture("mlp")
        let module = Mlp(inFeatures: 24, hiddenFeatures: 48)
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
        #expect(module.namedParameters().map(\.key) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
    }

    @Test func swiGLU() throws {
        let fixture = TransformerFixture("swiglu")
        let module = SwiGLU(inFeatures: 16, hiddenFeatures: 32, normEps: 1e-6)
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
        #expect(module.namedParameters().map(\.key) == ["fc1_g.weight", "fc1_g.bias", "fc1_x.weight", "fc1_x.bias",
                                                        "norm.weight", "norm.bias", "fc2.weight", "fc2.bias"])
    }

    @Test func gluMlp() throws {
        let fixture = TransformerFixture("glu_mlp")
        let module = GluMlp(inFeatures: 16, hiddenFeatures: 32)
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
    }

    @Test func layerScale() throws {
        let fixture = TransformerFixture("layer_scale")
        let module = LayerScale(dim: 16, initValues: 0.1)
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
        #expect(module.namedParameters().map(\.key) == ["gamma"])
    }

    @Test func patchEmbed() throws {
        let fixture = TransformerFixture("patch_embed")
        let module = PatchEmbed(imageSize: 32, patchSize: 8, inChannels: 3, embedDim: 48)
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
        #expect(module.gridSize == Size2(4, 4) && module.numPatches == 16)
    }

    /// SAM's layout (NHWC tokens) with dynamic padding of a 20×27 image to 24×32, and a norm.
    @Test func patchEmbedNHWCWithPadding() throws {
        let fixture = TransformerFixture("patch_embed_nhwc_pad")
        let module = PatchEmbed(imageSize: nil, patchSize: 8, inChannels: 3, embedDim: 8, normEps: 1e-6,
                                outputFormat: .nhwc, dynamicImagePad: true)
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
    }

    /// The single-GEMM patch embedding equals the convolution it stands for.
    @Test func patchEmbedEqualsConvolution() {
        let module = PatchEmbed(imageSize: nil, patchSize: Size2(4, 2), inChannels: 2, embedDim: 5, outputFormat: .nchw)
        let x = randomTensor([2, 2, 8, 6], seed: 3)
        let conv = module.proj(x)
        #expect(relativeError(module(x), conv) < 1e-6)
    }

    @Test func rotaryEmbeddingHalfAndInterleaved() {
        // x = [1, 2, 3, 4]; interleaved rot → [−2, 1, −4, 3]; half rot → [−3, −4, 1, 2].
        let x = Tensor([1, 2, 3, 4]).reshaped([1, 4])
        #expect(rotatedPairs(x, half: false).scalars == [-2, 1, -4, 3])
        #expect(rotatedPairs(x, half: true).scalars == [-3, -4, 1, 2])
        let embedding = Tensor(shape: [1, 8], scalars: [0, 1, 0, 1, 1, 0, 1, 0])   // sin | cos
        #expect(applyRotaryEmbeddingCat(x, embedding: embedding).scalars == [1, 1, 3, 3])
    }
}

/// Keys and shapes against the golden lists of timm 1.0.31 (`reference/state-dict-keys/`), for the
/// blocks of the paper's ViT, EVA-02 and SAM encoders.
@Suite struct TransformerKeyTests {
    func keys(_ module: Module) -> [String] { module.namedParameters().map { "\($0.key) \($0.parameter.shape)" } }

    @Test func vitBase() {
        #expect(keys(Attention(dim: 768, numHeads: 12, qkvBias: true))
                == ["qkv.weight [2304, 768]", "qkv.bias [2304]", "proj.weight [768, 768]", "proj.bias [768]"])
        #expect(keys(Mlp(inFeatures: 768, hiddenFeatures: 3072))
                == ["fc1.weight [3072, 768]", "fc1.bias [3072]", "fc2.weight [768, 3072]", "fc2.bias [768]"])
        #expect(keys(PatchEmbed(imageSize: 224, patchSize: 16, embedDim: 768))
                == ["proj.weight [768, 3, 16, 16]", "proj.bias [768]"])
        // CLIP's patch embedding has no bias (timm: bias = not pre_norm).
        #expect(keys(PatchEmbed(imageSize: 224, patchSize: 16, embedDim: 768, bias: false)) == ["proj.weight [768, 3, 16, 16]"])
    }

    @Test func eva02() {
        #expect(keys(EvaAttention(dim: 768, numHeads: 12, qkvBias: true, qkvFused: false))
                == ["q_proj.weight [768, 768]", "q_proj.bias [768]", "k_proj.weight [768, 768]", "v_proj.weight [768, 768]",
                    "v_proj.bias [768]", "norm.weight [768]", "norm.bias [768]", "proj.weight [768, 768]", "proj.bias [768]"])
        #expect(keys(SwiGLU(inFeatures: 768, hiddenFeatures: 2048, normEps: 1e-6))
                == ["fc1_g.weight [2048, 768]", "fc1_g.bias [2048]", "fc1_x.weight [2048, 768]", "fc1_x.bias [2048]",
                    "norm.weight [2048]", "norm.bias [2048]", "fc2.weight [768, 2048]", "fc2.bias [768]"])
    }

    @Test func sam() {
        // Window blocks (14×14 windows) and global blocks (the 64×64 grid of a 1024-pixel image).
        #expect(keys(Attention(dim: 768, numHeads: 12, qkvBias: true, relativePositionSize: Size2(14)))
                == ["rel_pos_h [27, 64]", "rel_pos_w [27, 64]", "qkv.weight [2304, 768]", "qkv.bias [2304]",
                    "proj.weight [768, 768]", "proj.bias [768]"])
        #expect(keys(Attention(dim: 768, numHeads: 12, qkvBias: true, relativePositionSize: Size2(64))).prefix(2)
                == ["rel_pos_h [127, 64]", "rel_pos_w [127, 64]"])
    }
}
