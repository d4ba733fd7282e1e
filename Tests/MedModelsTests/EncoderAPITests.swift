import Foundation
import MedIO
import MedTestSupport
import MedLayers
import MedTensor
import Testing
@testable import MedModels

/// resetClassifier, freezeBackbone, head replacement on load, input-size errors, and the registry.
@Suite struct EncoderAPITests {
    @Test(arguments: ModelFixtures.reducedModelsWithHead)
    func resetClassifierMakesAFreshTrainableHead(_ name: String) throws {
        let model = try ModelFixtures.model(name)
        model.eval()
        let before = model.classifier!.weight.value.scalars
        model.resetClassifier(numClasses: 5)
        let classifier = try #require(model.classifier)
        #expect(model.numClasses == 5)
        #expect(classifier.weight.shape == [5, model.numFeatures])
        #expect(classifier.weight.requiresGrad && !classifier.isTraining)
        #expect(Array(classifier.weight.value.scalars.prefix(5)) != Array(before.prefix(5)))
        let keys = model.stateDict().map(\.key)
        #expect(keys.contains("\(model.classifierKeyPrefix).weight") && keys.contains("\(model.classifierKeyPrefix).bias"))
        let input = Tensor.ones([1, 3, 64, 64])
        #expect(withoutGrad { model(input) }.shape == [1, 5])
        // 0 classes removes the head: the forward returns the pre-logit features.
        model.resetClassifier(numClasses: 0)
        #expect(model.classifier == nil && model.numClasses == 0)
        #expect(!model.stateDict().contains { $0.key.hasPrefix(model.classifierKeyPrefix + ".") })
        #expect(withoutGrad { model(input) }.shape == [1, model.numFeatures])
    }

    @Test(arguments: ModelFixtures.reducedModelsWithHead)
    func freezeBackboneLeavesOnlyTheClassifierTrainable(_ name: String) throws {
        let model = try ModelFixtures.model(name)
        model.freezeBackbone()
        let trainable = model.namedParameters(includeBuffers: false).filter { $0.parameter.requiresGrad }.map(\.key)
        #expect(trainable.sorted() == ["\(model.classifierKeyPrefix).bias", "\(model.classifierKeyPrefix).weight"])
        #expect(model.trainableParameterCount == model.numFeatures * 9 + 9)
        // A linear-probe step: gradients reach the head only.
        model.train()
        let loss = try crossEntropy(logits: model(Tensor.ones([2, 3, 64, 64])), labels: IndexTensor([1, 2]))
        loss.backward()
        #expect(model.classifier!.weight.grad != nil)
        #expect(model.namedParameters(includeBuffers: false).filter { !$0.parameter.requiresGrad }.allSatisfy { $0.parameter.grad == nil })
        model.unfreeze()
        #expect(model.trainableParameterCount == model.parameterCount)
    }

    /// The paper's head swap: an ImageNet-style checkpoint (another class count) loads into a model for the
    /// dataset's classes with the backbone copied and the model's own fresh classifier kept.
    @Test func checkpointWithAnotherClassCountKeepsTheFreshHead() throws {
        let source = try RandomState.withSeed(3) { try ModelFixtures.model("resnet18_reduced") }
        let target = ResNet(block: .basic, layers: [1, 1, 1, 1], channels: [8, 16, 24, 32], numClasses: 4)
        let head = target.fc!.weight.value.scalars
        #expect(throws: StateDictMismatch.self) { try target.loadStateDict(source.stateDict()) }
        let report = try target.loadStateDict(source.stateDict(), options: target.replacingClassifierLoadOptions)
        #expect(report.reinitialized.sorted() == ["fc.bias", "fc.weight"])
        #expect(target.fc!.weight.value.scalars == head)
        #expect(target.conv1.weight.value.scalars == (source as! ResNet).conv1.weight.value.scalars)
        // A headless checkpoint (num_classes=0) loads the same way.
        let headless = ResNet(block: .basic, layers: [1, 1, 1, 1], channels: [8, 16, 24, 32], numClasses: 0)
        try headless.loadStateDict(source.stateDict().filter { !$0.key.hasPrefix("fc.") })
        try target.loadStateDict(headless.stateDict(), options: target.replacingClassifierLoadOptions)
    }

    @Test func inputSizeLimitsMatchPyTorch() throws {
        // Smallest sides PyTorch accepts (found by running timm/torchvision): AlexNet 63, VGG16 32, DenseNet 29.
        let expected = ["alexnet": 63, "vgg16": 32, "densenet121": 29, "resnet18": 1, "resnet50": 1,
                        "efficientnet_b0": 1, "efficientnet_b4": 1, "vit_tiny_patch16_224": 1]
        for (name, minimum) in expected {
            let model = try ModelRegistry.create(name, numClasses: 9, initialization: .layerDefaults)
            #expect(model.minimumInputSize == minimum, "\(name)")
            for size in [28, 64, 128, 224] {
                if size >= minimum {
                    #expect(throws: Never.self) { try model.validateInputSize(height: size, width: size) }
                } else {
                    #expect(throws: ImageEncoderError.inputTooSmall(model: name, height: size, width: size, minimum: minimum)) {
                        try model.validateInputSize(height: size, width: size)
                    }
                }
            }
        }
        let alexnet = try ModelRegistry.create("alexnet", numClasses: 0)
        let error = ImageEncoderError.inputTooSmall(model: "alexnet", height: 28, width: 28, minimum: 63)
        #expect(error.description.contains("63×63"))
        #expect(throws: ImageEncoderError.inputTooSmall(model: "alexnet", height: 224, width: 40, minimum: 63)) {
            try alexnet.validateInput(shape: [1, 3, 224, 40])
        }
        #expect(throws: ImageEncoderError.wrongInputShape(model: "alexnet", shape: [1, 1, 224, 224], channels: 3)) {
            try alexnet.validateInput(shape: [1, 1, 224, 224])
        }
        #expect(throws: ImageEncoderError.wrongInputShape(model: "alexnet", shape: [3, 224, 224], channels: 3)) {
            try alexnet.validateInput(shape: [3, 224, 224])
        }
    }

    /// Every encoder's forward traps on a shape it cannot take (a programmer's error); a user's input goes
    /// through `validateInput(shape:)` first, which throws, for every architecture, the error naming the model,
    /// the shape it got and the one it needs.
    @Test(arguments: ModelRegistry.architectures)
    func everyEncoderValidatesItsInputBeforeTheForward(_ name: String) throws {
        let model = try ModelRegistry.create(name, numClasses: 0, initialization: .layerDefaults)
        #expect(throws: Never.self) { try model.validateInput(shape: [2, 3, 224, 224]) }
        for shape in [[2, 1, 224, 224], [3, 224, 224], [2, 3, 64, 64, 64], [2, 224, 224, 3]] {
            #expect(throws: ImageEncoderError.wrongInputShape(model: name, shape: shape, channels: 3)) {
                try model.validateInput(shape: shape)
            }
        }
        #expect(ImageEncoderError.wrongInputShape(model: name, shape: [2, 1, 224, 224], channels: 3).description ==
            "\(name): expected an input of shape [N, 3, H, W], got [2, 1, 224, 224]")
        let minimum = model.minimumInputSize
        for side in Set([0, minimum - 1]) where side >= 0 && side < minimum {
            #expect(throws: ImageEncoderError.inputTooSmall(model: name, height: side, width: 224, minimum: minimum)) {
                try model.validateInput(shape: [1, 3, side, 224])
            }
        }
    }

    @Test func reducedVariantsFollowTheirOwnLimits() throws {
        #expect(try ModelFixtures.model("vgg16_reduced").minimumInputSize == 32)
        #expect(try ModelFixtures.model("densenet121_reduced").minimumInputSize == 29)
        #expect(try ModelFixtures.model("alexnet_reduced").minimumInputSize == 63)
        // Feature-map sides at the paper's resolutions.
        let resnet = ResNet.resnet18(initialization: .layerDefaults)
        #expect([28, 64, 128, 224].map { resnet.featureMapSize(forInputSize: $0) } == [1, 2, 4, 7])
        let effnet = EfficientNet.efficientnetB4(initialization: .layerDefaults)
        #expect([28, 64, 128, 224].map { effnet.featureMapSize(forInputSize: $0) } == [1, 2, 4, 7])
        let vgg = VGG.vgg16(initialization: .layerDefaults)
        #expect([32, 64, 128, 224].map { vgg.featureMapSize(forInputSize: $0) } == [1, 2, 4, 7])
    }

    /// timm's construction-time initialisation (what `timm.create_model` gives before any checkpoint).
    @Test func timmInitialisation() throws {
        func std(_ t: Tensor) -> Double {
            let v = t.scalars.map(Double.init), mean = v.reduce(0, +) / Double(v.count)
            return (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
        }
        let resnet = RandomState.withSeed(1) { ResNet.resnet18(numClasses: 9) }
        let block = resnet.layer2[0] as! BasicBlock
        #expect(block.bn2.weight!.value.scalars.allSatisfy { $0 == 0 })          // zero_init_last
        #expect(abs(std((resnet.layer3[1] as! BasicBlock).conv1.weight.value) / (2.0 / (256 * 9)).squareRoot() - 1) < 0.02)
        let plain = ResNet.resnet18(numClasses: 9, initialization: .layerDefaults)
        #expect((plain.layer2[0] as! BasicBlock).bn2.weight!.value.scalars.allSatisfy { $0 == 1 })

        let effnet = RandomState.withSeed(2) { EfficientNet.efficientnetB0(numClasses: 9) }
        let fc = effnet.classifier!
        #expect(fc.bias!.value.scalars.allSatisfy { $0 == 0 } && fc.weight.value.scalars.allSatisfy { abs($0) <= 1 / 3 })
        #expect(abs(std(effnet.convHead.weight.value) / (2.0 / 1280).squareRoot() - 1) < 0.02)
        let se = (effnet.blocks[1] as! Sequential)[0] as! InvertedResidual
        #expect(se.se!.convReduce.bias!.value.scalars.allSatisfy { $0 == 0 })

        let vgg = RandomState.withSeed(3) { try! ModelFixtures.model("vgg16_reduced") as! VGG }
        #expect(abs(std(vgg.head.fc!.weight.value) / 0.01 - 1) < 0.2 && vgg.head.fc!.bias!.value.scalars.allSatisfy { $0 == 0 })
        let densenet = RandomState.withSeed(4) { DenseNet.densenet121(numClasses: 9) }
        #expect(abs(std(densenet.features.conv0.weight.value) / (2.0 / 147).squareRoot() - 1) < 0.03)   // fan-in
    }

    @Test func registryCreatesByTimmName() throws {
        #expect(ModelRegistry.architectures == ["alexnet", "vgg16", "resnet18", "resnet50", "densenet121",
                                                "efficientnet_b0", "efficientnet_b4", "vit_tiny_patch16_224",
                                                "vit_small_patch16_224", "vit_base_patch16_224", "vit_base_patch16_clip_224",
                                                "vit_base_patch16_clip_quickgelu_224", "eva02_base_patch16_clip_224",
                                                "samvit_base_patch16"])
        let model = try ModelRegistry.create("resnet18.a1_in1k", numClasses: 9)
        #expect(model is ResNet && model.architecture == "resnet18" && model.numClasses == 9 && model.numFeatures == 512)
        let features: [String: Int] = ["alexnet": 4096, "vgg16": 4096, "resnet18": 512, "resnet50": 2048, "densenet121": 1024,
                                       "efficientnet_b0": 1280, "efficientnet_b4": 1792, "vit_tiny_patch16_224": 192,
                                       "vit_small_patch16_224": 384, "vit_base_patch16_224": 768,
                                       "vit_base_patch16_clip_224": 768, "vit_base_patch16_clip_quickgelu_224": 768,
                                       "eva02_base_patch16_clip_224": 768, "samvit_base_patch16": 256]
        for name in ModelRegistry.architectures {
            let encoder = try ModelRegistry.create(name, numClasses: 0, initialization: .layerDefaults)
            #expect(encoder.architecture == name && encoder.numFeatures == features[name], "\(name)")
        }
        #expect(ModelRegistry.split("resnet50.fb_ssl_yfcc100m_ft_in1k") == ("resnet50", "fb_ssl_yfcc100m_ft_in1k"))
    }

    @Test func registryErrorsListValidNames() {
        #expect(throws: ModelRegistryError.unknownArchitecture(name: "resnet19", valid: ModelRegistry.architectures)) {
            try ModelRegistry.create("resnet19")
        }
        do {
            _ = try ModelRegistry.create("resnet18.a9_in1k")
            Issue.record("expected an unknown-tag error")
        } catch let error as ModelRegistryError {
            guard case let .unknownTag(name, valid) = error else { Issue.record("\(error)"); return }
            #expect(name == "resnet18.a9_in1k" && valid.first == "resnet18.a1_in1k" && valid.contains("resnet18.tv_in1k"))
            #expect(error.description.contains("resnet18.gluon_in1k"))
        } catch { Issue.record("\(error)") }
        let message = ModelRegistryError.unknownArchitecture(name: "vit", valid: ModelRegistry.architectures).description
        #expect(message.contains("vgg16") && message.contains("efficientnet_b4"))
        // A class count from a user's flag: negative throws (it trapped before), 0 is the headless model.
        #expect(throws: ModelRegistryError.negativeClassCount(name: "resnet18", numClasses: -1)) {
            try ModelRegistry.create("resnet18", numClasses: -1)
        }
        #expect(ModelRegistryError.negativeClassCount(name: "resnet18", numClasses: -1).description ==
            "resnet18: cannot build a classifier with -1 classes; use a positive count, or 0 for no classifier")
    }

    /// The paper's default tags (MEDMNIST.md §1.2) and timm's `pretrained_cfg` values for them.
    @Test func pretrainedConfigsMatchTimm() throws {
        let imagenet: ([Float], [Float]) = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        let expected: [(String, String, Int, Double, String)] = [
            ("vgg16", "vgg16.tv_in1k", 224, 0.875, "bilinear"),
            ("resnet18", "resnet18.a1_in1k", 224, 0.95, "bicubic"),
            ("resnet50", "resnet50.a1_in1k", 224, 0.95, "bicubic"),
            ("densenet121", "densenet121.ra_in1k", 224, 0.875, "bicubic"),
            ("efficientnet_b0", "efficientnet_b0.ra_in1k", 224, 0.875, "bicubic"),
            ("efficientnet_b4", "efficientnet_b4.ra2_in1k", 320, 0.875, "bicubic"),
            ("alexnet", "alexnet.tv_in1k", 224, 0.875, "bilinear"),
        ]
        for (architecture, tag, size, crop, interpolation) in expected {
            #expect(try ModelRegistry.defaultTag(architecture) == tag)
            let config = try ModelRegistry.pretrainedConfig(architecture)
            #expect(config == (try ModelRegistry.pretrainedConfig(tag)))
            #expect(config.inputSize == [3, size, size] && config.cropPct == crop && config.interpolation.rawValue == interpolation, "\(tag)")
            #expect(config.mean == imagenet.0 && config.std == imagenet.1, "\(tag)")
            #expect(config.numClasses == 1000)
            let model = try ModelRegistry.create(tag, numClasses: 9, initialization: .layerDefaults)
            #expect(config.classifier == model.classifierKeyPrefix, "\(tag)")
        }
        let b4 = try ModelRegistry.pretrainedConfig("efficientnet_b4.ra2_in1k")
        #expect(b4.testInputSize == [3, 384, 384] && b4.testCropPct == 1.0 && b4.hubRepository == "timm/efficientnet_b4.ra2_in1k")
        let ra4 = try ModelRegistry.pretrainedConfig("efficientnet_b0.ra4_e3600_r224_in1k")
        #expect(ra4.mean == [0.5, 0.5, 0.5] && ra4.std == [0.5, 0.5, 0.5])
        #expect(try ModelRegistry.pretrainedConfig("alexnet").url == "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth")
        #expect(ModelRegistry.pretrainedTags.count == 33 + 32 + 2)
    }

    /// The ViT tags (timm 1.0.31 `pretrained_cfg`s): the paper's defaults (MEDMNIST.md §1.2) with their statistics,
    /// headless DINO, and the QuickGELU names that share the GELU tower's hub repository.
    @Test func vitPretrainedConfigsMatchTimm() throws {
        let half: [Float] = [0.5, 0.5, 0.5]
        let imagenet: ([Float], [Float]) = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        let clip: ([Float], [Float]) = ([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711])
        let expected: [(String, String, Double, [Float], [Float], Int)] = [
            ("vit_tiny_patch16_224", "vit_tiny_patch16_224.augreg_in21k_ft_in1k", 0.9, half, half, 1000),
            ("vit_small_patch16_224", "vit_small_patch16_224.augreg_in21k_ft_in1k", 0.9, half, half, 1000),
            ("vit_base_patch16_224", "vit_base_patch16_224.augreg2_in21k_ft_in1k", 0.9, half, half, 1000),
            ("vit_base_patch16_clip_224", "vit_base_patch16_clip_224.laion2b_ft_in12k_in1k", 0.95, clip.0, clip.1, 1000),
            ("vit_base_patch16_clip_quickgelu_224", "vit_base_patch16_clip_quickgelu_224.metaclip_2pt5b", 1.0, clip.0, clip.1, 512),
        ]
        for (architecture, tag, crop, mean, std, classes) in expected {
            #expect(try ModelRegistry.defaultTag(architecture) == tag)
            let config = try ModelRegistry.pretrainedConfig(architecture)
            #expect(config.inputSize == [3, 224, 224] && config.cropPct == crop && config.interpolation == .bicubic, "\(tag)")
            #expect(config.mean == mean && config.std == std && config.numClasses == classes, "\(tag)")
            #expect(config.firstConv == "patch_embed.proj" && config.classifier == "head")
        }
        let dino = try ModelRegistry.pretrainedConfig("vit_base_patch16_224.dino")
        #expect(dino.mean == imagenet.0 && dino.std == imagenet.1 && dino.numClasses == 0 && dino.hubRepository == "timm/vit_base_patch16_224.dino")
        let openai = try ModelRegistry.pretrainedConfig("vit_base_patch16_clip_quickgelu_224.openai")
        #expect(openai.hubRepository == "timm/vit_base_patch16_clip_224.openai" && openai.cropPct == 0.9)
        #expect(try ModelRegistry.pretrainedConfig("vit_base_patch16_clip_224.openai").hubRepository == "timm/vit_base_patch16_clip_224.openai")
        let model = try ModelRegistry.create("vit_base_patch16_224.dino", numClasses: 0, initialization: .layerDefaults)
        #expect(model is VisionTransformer && model.classifier == nil && model.numFeatures == 768)
        let quick = try #require(try ModelRegistry.create("vit_base_patch16_clip_quickgelu_224", numClasses: 2,
                                                          initialization: .layerDefaults) as? VisionTransformer)
        #expect(quick.configuration.activation == .quickGELU && quick.configuration.preNorm && quick.configuration.normEps == 1e-5)
        #expect(quick.patchEmbed.proj.bias == nil && quick.normPre != nil)
    }

    /// A ResNet-18 saved by the library loads back identically. Everything is written into a temporary
    /// directory; only when `MEDMODELS_VERIFY_DIR` names a folder is the file (with its input and logits)
    /// also left there as `swift_resnet18.safetensors`, for `make_model_fixtures.py --verify DIR` to check
    /// in timm.
    @Test func savedResNet18LoadsBack() throws {
        let model = RandomState.withSeed(5) { ResNet.resnet18(numClasses: 9) }
        RandomState.withSeed(6) {
            for (_, module) in model.namedModules() {
                guard let bn = module as? BatchNorm2d else { continue }
                let c = bn.channels
                bn.weight!.assign(Initializer.uniform([c], bound: 0.5) + 1)
                bn.bias!.assign(Initializer.uniform([c], bound: 0.2))
                bn.runningMean!.assign(Initializer.uniform([c], bound: 0.3))
                bn.runningVar!.assign(Initializer.uniform([c], bound: 0.5) + 1)
            }
        }
        model.eval()
        let input = RandomState.withSeed(7) { Initializer.normal([2, 3, 64, 64], std: 1) }
        let logits = withoutGrad { model(input) }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("resnet18.safetensors")
        try model.save(to: url)
        let loaded = ResNet.resnet18(numClasses: 9)
        try loaded.load(contentsOf: url)
        loaded.eval()
        #expect(relativeError(withoutGrad { loaded(input) }, logits) == 0)

        var entries = model.stateDict().map { (name: "param.\($0.key)", array: $0.array) }
        entries.append((name: "input", array: TypedArray(floats: input.scalars, shape: input.shape)))
        entries.append((name: "swift_logits", array: TypedArray(floats: logits.scalars, shape: logits.shape)))
        let forTimm = directory.appending("swift_resnet18.safetensors")
        try SafeTensorsFile(entries).write(to: forTimm)
        #expect(try SafeTensorsFile.read(contentsOf: forTimm)["swift_logits"]?.floats() == logits.scalars)
        if let verifyDirectory = ProcessInfo.processInfo.environment["MEDMODELS_VERIFY_DIR"] {
            let folder = URL(fileURLWithPath: verifyDirectory, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try SafeTensorsFile(entries).write(to: folder.appendingPathComponent("swift_resnet18.safetensors"))
        }
    }
}
