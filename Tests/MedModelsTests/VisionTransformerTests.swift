import Foundation
import MedTestSupport
import MedLayers
import MedTensor
import Testing
@testable import MedModels

/// The ViT family beyond parity: sizes, input grids, initialisation, and dropout / drop path in training.
@Suite struct VisionTransformerTests {
    @Test func parameterCountsMatchTimm() throws {
        // timm 1.0.31, 1000 classes.
        let expected = ["vit_tiny_patch16_224": 5_717_416, "vit_small_patch16_224": 22_050_664,
                        "vit_base_patch16_224": 86_567_656, "vit_base_patch16_clip_224": 86_568_424,
                        "vit_base_patch16_clip_quickgelu_224": 86_568_424]
        for (name, count) in expected {
            let model = try ModelRegistry.create(name, numClasses: 1000, initialization: .layerDefaults)
            #expect(model.parameterCount == count, "\(name)")
        }
    }

    /// Any side is accepted: ⌈side / 16⌉ patches per side after zero padding; the tokens are the class token
    /// and the grid.
    @Test func gridsForEverySize() throws {
        let model = try #require(ModelFixtures.reducedViT("vit_small_reduced"))
        model.eval()
        #expect([1, 16, 17, 28, 64, 100, 128, 224, 300].map { model.featureMapSize(forInputSize: $0) } == [1, 1, 2, 2, 4, 7, 8, 14, 19])
        #expect(model.featureMapSize(forInputSize: 0) == nil && model.minimumInputSize == 1)
        for (height, width) in [(28, 28), (100, 60), (224, 224), (5, 5)] {
            let tokens = withoutGrad { model.forwardFeatures(Tensor.ones([1, 3, height, width])) }
            let grid = model.featureMapSize(forInputSize: height)! * model.featureMapSize(forInputSize: width)!
            #expect(tokens.shape == [1, 1 + grid, 96], "\(height)×\(width)")
        }
        // timm's default (not dynamic): the training size only.
        var fixed = VisionTransformer.Configuration(embedDim: 24, depth: 1, numHeads: 2)
        fixed.dynamicImageSize = false
        fixed.dynamicImagePad = false
        let strict = VisionTransformer(fixed, numClasses: 3)
        #expect(strict.featureMapSize(forInputSize: 224) == 14 && strict.featureMapSize(forInputSize: 64) == nil)
        #expect(throws: ImageEncoderError.self) { try strict.validateInput(shape: [1, 3, 64, 64]) }
        // Dynamic size without padding: multiples of the patch.
        fixed.dynamicImageSize = true
        let multiples = VisionTransformer(fixed, numClasses: 3)
        #expect(multiples.featureMapSize(forInputSize: 64) == 4 && multiples.featureMapSize(forInputSize: 28) == nil)
    }

    /// timm's `init_weights_vit_timm`: Linear weights N(0, 0.02²) truncated, zero biases; position embedding
    /// std 0.02, class token std 1e-6.
    @Test func timmInitialisation() {
        func std(_ t: Tensor) -> Double {
            let v = t.scalars.map(Double.init), mean = v.reduce(0, +) / Double(v.count)
            return (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
        }
        let model = RandomState.withSeed(4) { VisionTransformer.vitTinyPatch16(numClasses: 9) }
        let block = model.blocks[1] as! TransformerBlock
        #expect(abs(std(block.mlp.fc1.weight.value) / 0.02 - 1) < 0.02)
        #expect(block.attn.qkv.bias!.value.scalars.allSatisfy { $0 == 0 } && model.head!.bias!.value.scalars.allSatisfy { $0 == 0 })
        #expect(abs(std(model.posEmbed.value) / 0.02 - 1) < 0.05)
        #expect(std(model.clsToken!.value) < 1e-5)
        #expect(block.norm1.eps == 1e-6 && block.dropPath1.p == 0)
        let clip = VisionTransformer.vitBasePatch16CLIP(numClasses: 0, dropPathRate: 0.1, initialization: .layerDefaults)
        #expect((clip.blocks[0] as! TransformerBlock).norm1.eps == 1e-5 && clip.normPre!.eps == 1e-5)
        // Stochastic depth rises linearly from 0 to the rate over the blocks, as torch.linspace.
        #expect((clip.blocks[0] as! TransformerBlock).dropPath1.p == 0)
        #expect(abs((clip.blocks[11] as! TransformerBlock).dropPath2.p - 0.1) < 1e-7)
        #expect(abs((clip.blocks[3] as! TransformerBlock).dropPath1.p - 0.1 * 3 / 11) < 1e-7)
    }

    /// In training, dropout (position, attention probabilities, projections, head) and drop path make the
    /// output random and the gradient still reaches every parameter; in evaluation the model is deterministic
    /// and equals the same weights without any dropout.
    @Test func dropoutAndDropPathInTraining() throws {
        var configuration = VisionTransformer.Configuration(embedDim: 32, depth: 2, numHeads: 4)
        configuration.posDropRate = 0.1
        configuration.attnDropRate = 0.2
        configuration.projDropRate = 0.1
        configuration.dropRate = 0.3
        configuration.dropPathRate = 0.5
        let model = RandomState.withSeed(11) { VisionTransformer(configuration, numClasses: 5) }
        let plain = VisionTransformer(VisionTransformer.Configuration(embedDim: 32, depth: 2, numHeads: 4), numClasses: 5)
        try plain.loadStateDict(model.stateDict())
        let input = RandomState.withSeed(12) { Initializer.normal([4, 3, 32, 32], std: 1) }
        model.eval()
        plain.eval()
        let reference = withoutGrad { plain(input) }
        #expect(relativeError(withoutGrad { model(input) }, reference) == 0)

        model.train()
        let first = RandomState.withSeed(13) { withoutGrad { model(input) } }
        let second = RandomState.withSeed(14) { withoutGrad { model(input) } }
        #expect(relativeError(first, second) > 1e-3)
        #expect(relativeError(first, reference) > 1e-3)
        let again = RandomState.withSeed(13) { withoutGrad { model(input) } }
        #expect(relativeError(first, again) == 0)

        let loss = RandomState.withSeed(15) { try! crossEntropy(logits: model(input), labels: IndexTensor([0, 1, 2, 3])) }
        loss.backward()
        for (key, parameter) in model.namedParameters(includeBuffers: false) {
            #expect(parameter.grad != nil, "\(key) has no gradient")
        }
        #expect(loss.item.isFinite)
    }

    /// Drop path drops whole samples' residual branches: with p = 0.5 on both branches, about a quarter of
    /// the samples of a batch pass a block unchanged in training.
    @Test func dropPathDropsWholeSamples() {
        let block = RandomState.withSeed(21) { TransformerBlock(dim: 16, numHeads: 2, dropPath: 0.5) }
        block.train()
        let input = RandomState.withSeed(22) { Initializer.normal([32, 5, 16], std: 1) }
        let output = RandomState.withSeed(23) { withoutGrad { block(input) } }
        let unchanged = (0..<32).filter { relativeError(output.selected(axis: 0, index: $0), input.selected(axis: 0, index: $0)) == 0 }
        #expect(unchanged.count >= 2 && unchanged.count <= 16, "\(unchanged.count) of 32 unchanged")
    }
}
