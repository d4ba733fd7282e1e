import Foundation
import MedTestSupport
import MedLayers
import MedTensor
import Testing
@testable import MedModels

/// EVA-02 and SAM beyond parity: sizes, tags, the rotary embedding's layout, input grids, and training
/// (dropout, drop path, the gradient through SAM's padded windows and resized tables).
@Suite struct EvaSAMTests {
    @Test func parameterCountsMatchTimm() throws {
        // timm 1.0.31, 1000 classes.
        for (name, count) in ["eva02_base_patch16_clip_224": 86_638_312, "samvit_base_patch16": 89_927_912] {
            let model = try ModelRegistry.create(name, numClasses: 1000, initialization: .layerDefaults)
            #expect(model.parameterCount == count, "\(name)")
        }
    }

    /// timm's `pretrained_cfg`s: EVA-02 CLIP with OpenAI CLIP statistics and its 512-wide projection head,
    /// SAM headless at 1024 px with ImageNet statistics.
    @Test func pretrainedConfigsMatchTimm() throws {
        let eva = try ModelRegistry.pretrainedConfig("eva02_base_patch16_clip_224")
        #expect(eva.name == "eva02_base_patch16_clip_224.merged2b" && eva.hubRepository == "timm/eva02_base_patch16_clip_224.merged2b")
        #expect(eva.inputSize == [3, 224, 224] && eva.cropPct == 0.9 && eva.interpolation == .bicubic && eva.numClasses == 512)
        #expect(eva.mean == [0.48145466, 0.4578275, 0.40821073] && eva.std == [0.26862954, 0.26130258, 0.27577711])
        #expect(eva.classifier == "head")
        let sam = try ModelRegistry.pretrainedConfig("samvit_base_patch16")
        #expect(sam.name == "samvit_base_patch16.sa1b" && sam.hubRepository == "timm/samvit_base_patch16.sa1b")
        #expect(sam.inputSize == [3, 1024, 1024] && sam.cropPct == 1.0 && sam.numClasses == 0 && sam.classifier == "head.fc")
        #expect(sam.mean == [0.485, 0.456, 0.406] && sam.std == [0.229, 0.224, 0.225])
    }

    /// timm's RotaryEmbeddingCat for a 14×14 grid with the 16×16 reference, head width 64 (values printed by
    /// timm 1.0.31: `rope.get_embed(shape=(14, 14))`): [196, 128], sin then cos, each angle twice (interleaved).
    @Test func rotaryEmbeddingLayout() {
        let embedding = rotaryEmbeddingCat(dim: 64, gridSize: Size2(14), referenceGridSize: Size2(16))
        #expect(embedding.shape == [196, 128])
        let s = embedding.scalars
        // Token (row 1, column 2): row coordinate 16/14, column 32/14; band 0 is 1, band 1 is 10000^(-1/16).
        let token = 1 * 14 + 2
        let (row, column) = (Float(1) / 14 * 16, Float(2) / 14 * 16)
        let band1 = 1 / Foundation.pow(Float(10000), 1 / 16)
        func value(_ index: Int) -> Float { s[token * 128 + index] }
        #expect(abs(value(0) - Foundation.sin(row)) < 1e-6 && value(0) == value(1))
        #expect(abs(value(2) - Foundation.sin(row * band1)) < 1e-6)
        #expect(abs(value(32) - Foundation.sin(column)) < 1e-6 && value(32) == value(33))
        #expect(abs(value(64) - Foundation.cos(row)) < 1e-6 && abs(value(96) - Foundation.cos(column)) < 1e-6)
        // The first token has angle 0 everywhere.
        #expect(s[0..<64].allSatisfy { $0 == 0 } && s[64..<128].allSatisfy { $0 == 1 })
    }

    /// Any side is accepted (⌈side / 16⌉ patches); EVA returns the class token and the grid, SAM the neck's map.
    @Test func gridsForEverySize() throws {
        let eva = try #require(ModelFixtures.reducedEvaSAM("eva02_base_reduced") as? Eva)
        let sam = try #require(ModelFixtures.reducedEvaSAM("samvit_base_reduced") as? VisionTransformerSAM)
        eva.eval()
        sam.eval()
        for model in [eva, sam] as [any ImageEncoder] {
            #expect([1, 16, 17, 28, 64, 128, 224].map { model.featureMapSize(forInputSize: $0) } == [1, 1, 2, 2, 4, 8, 14])
            #expect(model.minimumInputSize == 1)
        }
        for (height, width) in [(28, 28), (100, 60), (5, 5), (240, 240)] {
            let (gh, gw) = ((height + 15) / 16, (width + 15) / 16)
            #expect(withoutGrad { eva.forwardFeatures(Tensor.ones([1, 3, height, width])) }.shape == [1, 1 + gh * gw, 128])
            // 240 px: a 15×15 grid, two windows per side (padded to 28×28) in the windowed block.
            #expect(withoutGrad { sam.forwardFeatures(Tensor.ones([1, 3, height, width])) }.shape == [1, 32, gh, gw])
        }
        #expect(withoutGrad { sam.preLogits(Tensor.ones([2, 3, 64, 64])) }.shape == [2, 32])
    }

    /// With every dropout and drop path on, training is random, evaluation equals the same weights without
    /// any, and the gradient reaches every parameter: the rotary-rotated q/k projections, SAM's stored 64×64
    /// position embedding through the resampling, and both blocks' relative-position tables (the windowed
    /// block's through the padding of a 4×4 grid, the global block's through its resize to 7 rows).
    @Test func dropoutDropPathAndGradients() throws {
        var evaConfiguration = Eva.Configuration(embedDim: 32, depth: 2, numHeads: 2)
        var samConfiguration = VisionTransformerSAM.Configuration(embedDim: 32, depth: 2, numHeads: 4)
        samConfiguration.globalAttentionIndexes = [1]
        samConfiguration.neckChannels = 8
        samConfiguration.imageSize = 256
        (evaConfiguration.posDropRate, evaConfiguration.attnDropRate, evaConfiguration.projDropRate) = (0.1, 0.2, 0.1)
        (evaConfiguration.dropRate, evaConfiguration.dropPathRate) = (0.3, 0.5)
        (samConfiguration.posDropRate, samConfiguration.attnDropRate, samConfiguration.projDropRate) = (0.1, 0.2, 0.1)
        (samConfiguration.dropRate, samConfiguration.dropPathRate) = (0.3, 0.5)
        let models: [(any ImageEncoder, any ImageEncoder)] = [
            (RandomState.withSeed(31) { Eva(evaConfiguration, numClasses: 5) },
             Eva(Eva.Configuration(embedDim: 32, depth: 2, numHeads: 2), numClasses: 5)),
            (RandomState.withSeed(32) { VisionTransformerSAM(samConfiguration, numClasses: 5) },
             { var plain = samConfiguration
               (plain.posDropRate, plain.attnDropRate, plain.projDropRate, plain.dropRate, plain.dropPathRate) = (0, 0, 0, 0, 0)
               return VisionTransformerSAM(plain, numClasses: 5) }()),
        ]
        let input = RandomState.withSeed(33) { Initializer.normal([4, 3, 64, 64], std: 1) }
        for (model, plain) in models {
            if let sam = model as? VisionTransformerSAM {
                // Non-zero tables and position embedding, so that their gradients are not trivially structured.
                for (key, parameter) in sam.namedParameters() where key.contains("rel_pos") || key == "pos_embed" {
                    parameter.assign(RandomState.withSeed(34) { Initializer.normal(parameter.shape, std: 0.5) })
                }
            }
            try plain.loadStateDict(model.stateDict())
            model.eval()
            plain.eval()
            let reference = withoutGrad { plain(input) }
            #expect(relativeError(withoutGrad { model(input) }, reference) == 0, "\(model.architecture)")
            model.train()
            let first = RandomState.withSeed(13) { withoutGrad { model(input) } }
            let second = RandomState.withSeed(14) { withoutGrad { model(input) } }
            #expect(relativeError(first, second) > 1e-3 && relativeError(first, reference) > 1e-3, "\(model.architecture)")
            let loss = RandomState.withSeed(15) { try! crossEntropy(logits: model(input), labels: IndexTensor([0, 1, 2, 3])) }
            loss.backward()
            #expect(loss.item.isFinite)
            for (key, parameter) in model.namedParameters(includeBuffers: false) {
                let gradient = parameter.grad
                #expect(gradient != nil && gradient!.scalars.contains { $0 != 0 }, "\(model.architecture): \(key) has no gradient")
            }
        }
    }
}
