import MedLayers

/// Creating the library's encoders by timm's names, with or without a pretrained tag.
public enum ModelRegistry {
    // timm's IMAGENET_DEFAULT_MEAN/STD, as the table's default (MedMNISTData's `Normalization.imagenet`
    // holds the same numbers for the data side; a test pins the two together).
    private static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    private static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
    // timm's IMAGENET_INCEPTION_MEAN/STD (the augreg ViTs) and OPENAI_CLIP_MEAN/STD.
    private static let inceptionMean: [Float] = [0.5, 0.5, 0.5]
    private static let inceptionStd: [Float] = [0.5, 0.5, 0.5]
    private static let clipMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    private static let clipStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

    /// Architectures by timm name (torchvision's for `alexnet`) with their default tag first.
    private static let builders: [(name: String, build: @Sendable (Int, WeightInitialization) -> any ImageEncoder)] = [
        ("alexnet", { classes, _ in AlexNet.alexnet(numClasses: classes) }),   // torchvision: layer defaults
        ("vgg16", { VGG.vgg16(numClasses: $0, initialization: $1) }),
        ("resnet18", { ResNet.resnet18(numClasses: $0, initialization: $1) }),
        ("resnet50", { ResNet.resnet50(numClasses: $0, initialization: $1) }),
        ("densenet121", { DenseNet.densenet121(numClasses: $0, initialization: $1) }),
        ("efficientnet_b0", { EfficientNet.efficientnetB0(numClasses: $0, initialization: $1) }),
        ("efficientnet_b4", { EfficientNet.efficientnetB4(numClasses: $0, initialization: $1) }),
        ("vit_tiny_patch16_224", { VisionTransformer.vitTinyPatch16(numClasses: $0, initialization: $1) }),
        ("vit_small_patch16_224", { VisionTransformer.vitSmallPatch16(numClasses: $0, initialization: $1) }),
        ("vit_base_patch16_224", { VisionTransformer.vitBasePatch16(numClasses: $0, initialization: $1) }),
        ("vit_base_patch16_clip_224", { VisionTransformer.vitBasePatch16CLIP(numClasses: $0, initialization: $1) }),
        ("vit_base_patch16_clip_quickgelu_224", { VisionTransformer.vitBasePatch16CLIP(quickGELU: true, numClasses: $0, initialization: $1) }),
        ("eva02_base_patch16_clip_224", { Eva.eva02BasePatch16CLIP(numClasses: $0, initialization: $1) }),
        ("samvit_base_patch16", { VisionTransformerSAM.samvitBasePatch16(numClasses: $0, initialization: $1) }),
    ]

    /// Every architecture name ``create(_:numClasses:)`` accepts.
    public static var architectures: [String] { builders.map(\.name) }

    /// Every `architecture.tag` with a known preprocessing configuration, default tags first per architecture.
    public static var pretrainedTags: [String] { configs.map(\.name) }

    /// Splits `resnet18.a1_in1k` into (`resnet18`, `a1_in1k`); a bare name has no tag.
    public static func split(_ name: String) -> (architecture: String, tag: String?) {
        guard let dot = name.firstIndex(of: ".") else { return (name, nil) }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }

    /// A randomly initialised model for `name` (`resnet18` or `resnet18.a1_in1k`; the tag is checked, not
    /// loaded). `numClasses` 0 builds it without a classifier. Pass `initialization: .layerDefaults` when a
    /// checkpoint will be loaded into every weight (it skips timm's slower re-initialisation).
    /// - Throws: ``ModelRegistryError`` for an unknown architecture or tag, or a negative `numClasses`.
    public static func create(_ name: String, numClasses: Int = 1000,
                              initialization: WeightInitialization = .timm) throws -> any ImageEncoder {
        let (architecture, tag) = split(name)
        guard let builder = builders.first(where: { $0.name == architecture }) else {
            throw ModelRegistryError.unknownArchitecture(name: name, valid: architectures)
        }
        if tag != nil { _ = try pretrainedConfig(name) }
        guard numClasses >= 0 else { throw ModelRegistryError.negativeClassCount(name: name, numClasses: numClasses) }
        return builder.build(numClasses, initialization)
    }

    /// The preprocessing of `name`'s tag, or of the architecture's default tag when `name` has none.
    public static func pretrainedConfig(_ name: String) throws -> PretrainedConfig {
        let (architecture, tag) = split(name)
        guard architectures.contains(architecture) else {
            throw ModelRegistryError.unknownArchitecture(name: name, valid: architectures)
        }
        let candidates = configs.filter { $0.architecture == architecture }
        guard let tag else { return candidates[0] }
        guard let config = candidates.first(where: { $0.tag == tag }) else {
            throw ModelRegistryError.unknownTag(name: name, valid: candidates.map(\.name))
        }
        return config
    }

    /// The default tag of an architecture (what timm resolves `pretrained=True` to; 1.0.31).
    public static func defaultTag(_ architecture: String) throws -> String {
        try pretrainedConfig(split(architecture).architecture).name
    }

    // MARK: the table (timm 1.0.31 `pretrained_cfg`s; torchvision's IMAGENET1K_V1 transforms for AlexNet)

    private static func timm(_ name: String, _ size: Int, test: Int? = nil, crop: Double, testCrop: Double? = nil,
                             _ interpolation: PretrainedConfig.Interpolation, mean: [Float] = imagenetMean, std: [Float] = imagenetStd,
                             classes: Int = 1000, first: String, classifier: String, hub: String? = nil) -> PretrainedConfig {
        let (architecture, tag) = split(name)
        return PretrainedConfig(name: name, architecture: architecture, tag: tag ?? "", hubRepository: "timm/\(hub ?? name)", url: nil,
                                inputSize: [3, size, size], testInputSize: test.map { [3, $0, $0] }, cropPct: crop,
                                testCropPct: testCrop, cropMode: .center, interpolation: interpolation, mean: mean, std: std,
                                numClasses: classes, firstConv: first, classifier: classifier)
    }

    static let configs: [PretrainedConfig] = {
        var list: [PretrainedConfig] = [
            // torchvision AlexNet_Weights.IMAGENET1K_V1 (the paper's AlexNet): resize 256, centre crop 224, bilinear.
            PretrainedConfig(name: "alexnet.tv_in1k", architecture: "alexnet", tag: "tv_in1k", hubRepository: nil,
                             url: "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth", inputSize: [3, 224, 224],
                             testInputSize: nil, cropPct: 0.875, testCropPct: nil, cropMode: .center, interpolation: .bilinear,
                             mean: imagenetMean, std: imagenetStd, numClasses: 1000, firstConv: "features.0", classifier: "classifier.6"),
            timm("vgg16.tv_in1k", 224, crop: 0.875, .bilinear, first: "features.0", classifier: "head.fc"),
        ]
        let resnet: [(String, Int, Int?, Double, Double?, PretrainedConfig.Interpolation)] = [
            ("a1_in1k", 224, 288, 0.95, 1.0, .bicubic), ("a2_in1k", 224, 288, 0.95, 1.0, .bicubic),
            ("a3_in1k", 160, 224, 0.95, 0.95, .bicubic), ("fb_ssl_yfcc100m_ft_in1k", 224, nil, 0.875, nil, .bilinear),
            ("fb_swsl_ig1b_ft_in1k", 224, nil, 0.875, nil, .bilinear), ("gluon_in1k", 224, nil, 0.875, nil, .bicubic),
            ("tv_in1k", 224, nil, 0.875, nil, .bilinear),
        ]
        for (tag, size, test, crop, testCrop, interpolation) in resnet {
            list.append(timm("resnet18.\(tag)", size, test: test, crop: crop, testCrop: testCrop, interpolation, first: "conv1", classifier: "fc"))
        }
        let resnet50: [(String, Int, Int?, Double, Double?, PretrainedConfig.Interpolation)] = [
            ("a1_in1k", 224, 288, 0.95, 1.0, .bicubic), ("a1h_in1k", 176, 224, 0.9, 1.0, .bicubic),
            ("a2_in1k", 224, 288, 0.95, 1.0, .bicubic), ("a3_in1k", 160, 224, 0.95, 0.95, .bicubic),
            ("am_in1k", 224, nil, 0.875, nil, .bicubic), ("b1k_in1k", 224, 288, 0.95, 1.0, .bicubic),
            ("b2k_in1k", 224, 288, 0.95, 1.0, .bicubic), ("bt_in1k", 224, 288, 0.875, 0.95, .bicubic),
            ("c1_in1k", 224, 288, 0.95, 1.0, .bicubic), ("c2_in1k", 224, 288, 0.95, 1.0, .bicubic),
            ("d_in1k", 224, 288, 0.95, 1.0, .bicubic), ("fb_ssl_yfcc100m_ft_in1k", 224, nil, 0.875, nil, .bilinear),
            ("fb_swsl_ig1b_ft_in1k", 224, nil, 0.875, nil, .bilinear), ("gluon_in1k", 224, nil, 0.875, nil, .bicubic),
            ("ra_in1k", 224, 288, 0.875, 0.95, .bicubic), ("ram_in1k", 224, 288, 0.875, 0.95, .bicubic),
            ("tv2_in1k", 176, 224, 0.875, 0.965, .bilinear), ("tv_in1k", 224, nil, 0.875, nil, .bilinear),
        ]
        for (tag, size, test, crop, testCrop, interpolation) in resnet50 {
            list.append(timm("resnet50.\(tag)", size, test: test, crop: crop, testCrop: testCrop, interpolation, first: "conv1", classifier: "fc"))
        }
        // resnet50.bamboo is a headless (num_classes 0) pretraining checkpoint.
        list.append(timm("resnet50.bamboo", 224, crop: 1.0, .bicubic, classes: 0, first: "conv1", classifier: "fc"))
        list += [
            timm("densenet121.ra_in1k", 224, test: 288, crop: 0.875, testCrop: 0.95, .bicubic, first: "features.conv0", classifier: "classifier"),
            timm("densenet121.tv_in1k", 224, crop: 0.875, .bicubic, first: "features.conv0", classifier: "classifier"),
            timm("efficientnet_b0.ra_in1k", 224, crop: 0.875, .bicubic, first: "conv_stem", classifier: "classifier"),
            timm("efficientnet_b0.ra4_e3600_r224_in1k", 224, test: 256, crop: 0.9, testCrop: 1.0, .bicubic,
                 mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], first: "conv_stem", classifier: "classifier"),
            timm("efficientnet_b4.ra2_in1k", 320, test: 384, crop: 0.875, testCrop: 1.0, .bicubic, first: "conv_stem", classifier: "classifier"),
        ]
        // The ViTs, in timm's tag order (default first); all at 224, bicubic, centre crop. Mean/std: 0.5 for the
        // augreg/original Google weights, ImageNet's for DINO and MAE, OpenAI CLIP's for the CLIP towers (and
        // the bamboo tag). Head widths: 21843 (in21k), 11821 (in12k), 512 (CLIP's projection), 0 (headless).
        typealias ViTTag = (tag: String, crop: Double, statistics: String, classes: Int)
        let vits: [(architecture: String, tags: [ViTTag])] = [
            ("vit_tiny_patch16_224", [("augreg_in21k_ft_in1k", 0.9, "inception", 1000), ("augreg_in21k", 0.9, "inception", 21843)]),
            ("vit_small_patch16_224", [("augreg_in21k_ft_in1k", 0.9, "inception", 1000), ("augreg_in1k", 0.9, "inception", 1000),
                                       ("augreg_in21k", 0.9, "inception", 21843), ("dino", 0.9, "imagenet", 0)]),
            ("vit_base_patch16_224", [("augreg2_in21k_ft_in1k", 0.9, "inception", 1000), ("augreg_in21k_ft_in1k", 0.9, "inception", 1000),
                                      ("orig_in21k_ft_in1k", 0.9, "inception", 1000), ("augreg_in1k", 0.9, "inception", 1000),
                                      ("orig_in21k", 0.9, "inception", 0), ("augreg_in21k", 0.9, "inception", 21843),
                                      ("sam_in1k", 0.9, "inception", 1000), ("bamboo", 1.0, "clip", 115217),
                                      ("dino", 0.9, "imagenet", 0), ("mae", 0.9, "imagenet", 0)]),
            ("vit_base_patch16_clip_224", [("laion2b_ft_in12k_in1k", 0.95, "clip", 1000), ("openai_ft_in12k_in1k", 0.95, "clip", 1000),
                                           ("laion2b_ft_in1k", 1.0, "clip", 1000), ("openai_ft_in1k", 0.9, "clip", 1000),
                                           ("laion2b_ft_in12k", 0.9, "clip", 11821), ("openai_ft_in12k", 0.9, "clip", 11821),
                                           ("laion2b", 1.0, "clip", 512), ("laion400m_e32", 1.0, "clip", 512),
                                           ("datacompxl", 1.0, "clip", 512), ("dfn2b", 1.0, "clip", 512),
                                           ("metaclip_2pt5b", 1.0, "clip", 512), ("metaclip_400m", 1.0, "clip", 512),
                                           ("openai", 0.9, "clip", 512)]),
            ("vit_base_patch16_clip_quickgelu_224", [("metaclip_2pt5b", 1.0, "clip", 512), ("metaclip_400m", 1.0, "clip", 512),
                                                     ("openai", 0.9, "clip", 512)]),
        ]
        for (architecture, tags) in vits {
            for entry in tags {
                let (mean, std) = switch entry.statistics {
                case "inception": (inceptionMean, inceptionStd)
                case "clip": (clipMean, clipStd)
                default: (imagenetMean, imagenetStd)
                }
                // The QuickGELU names share the GELU model's weights (timm's hf_hub_id points there).
                let hub = architecture.hasSuffix("_quickgelu_224")
                    ? "vit_base_patch16_clip_224.\(entry.tag)" : nil
                list.append(timm("\(architecture).\(entry.tag)", 224, crop: entry.crop, .bicubic, mean: mean, std: std,
                                 classes: entry.classes, first: "patch_embed.proj", classifier: "head", hub: hub))
            }
        }
        // EVA-02 CLIP (the 512-wide CLIP projection as its head) and SAM (headless, trained at 1024 px).
        list.append(timm("eva02_base_patch16_clip_224.merged2b", 224, crop: 0.9, .bicubic, mean: clipMean, std: clipStd,
                         classes: 512, first: "patch_embed.proj", classifier: "head"))
        list.append(timm("samvit_base_patch16.sa1b", 1024, crop: 1.0, .bicubic, classes: 0, first: "patch_embed.proj",
                         classifier: "head.fc"))
        return list
    }()
}

/// A model the registry cannot build: a name it does not know, or a class count no model can have.
public enum ModelRegistryError: Error, Equatable, CustomStringConvertible, Sendable {
    case unknownArchitecture(name: String, valid: [String])
    case unknownTag(name: String, valid: [String])
    /// `numClasses` below 0 (0 means "no classifier").
    case negativeClassCount(name: String, numClasses: Int)

    public var description: String {
        switch self {
        case let .unknownArchitecture(name, valid):
            "unknown model '\(name)'; valid architectures: \(valid.joined(separator: ", "))"
        case let .unknownTag(name, valid):
            "unknown pretrained tag '\(name)'; valid tags: \(valid.joined(separator: ", "))"
        case let .negativeClassCount(name, numClasses):
            "\(name): cannot build a classifier with \(numClasses) classes; use a positive count, or 0 for no classifier"
        }
    }
}
