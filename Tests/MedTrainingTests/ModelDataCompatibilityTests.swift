import Foundation
import MedMNISTData
import MedModels
import MedTestSupport
import MedTraining
import Testing

/// The one check between a model and a split: each mismatch throws its case with a message naming the model,
/// the set and the remedy; what fits passes.
@Suite struct ModelDataCompatibilityTests {
    /// A small ResNet (any input side works) and a small AlexNet (63 pixels at least), with `classes` outputs.
    static func resnet(_ classes: Int) -> any ImageEncoder {
        ResNet(block: .basic, layers: [1, 1, 1, 1], channels: [8, 16, 24, 32], numClasses: classes, architecture: "resnet18",
               initialization: .layerDefaults)
    }
    static func alexnet(_ classes: Int) -> any ImageEncoder { AlexNet(numClasses: classes, widths: [8, 16, 24, 16, 16], hiddenSize: 32) }

    static let paper = ImageTransform.paper(normalization: .imagenet)

    @Test func whatFitsPasses() throws {
        let path = try MedMNISTCatalog.info("pathmnist"), chest = try MedMNISTCatalog.info("chestmnist")
        let breast = try MedMNISTCatalog.info("breastmnist")
        try ModelDataCompatibility.validate(model: Self.resnet(9), for: path, size: 28, transform: Self.paper)
        try ModelDataCompatibility.validate(model: Self.resnet(14), for: chest, size: 64, transform: Self.paper, modelTask: .multiLabelBinary)
        // Binary sets score two classes, as in the paper; binary, ordinal and multi-class heads are all single-label.
        try ModelDataCompatibility.validate(model: Self.alexnet(2), for: breast, size: 28, transform: Self.paper, modelTask: .multiClass)
        // Features need no classifier.
        try ModelDataCompatibility.validate(model: Self.resnet(0), for: path, size: 28, transform: Self.paper, use: .features)
    }

    @Test func classCountAndClassifier() throws {
        let path = try MedMNISTCatalog.info("pathmnist")
        let wrong = ModelDataMismatch.classCountMismatch(model: "resnet18", modelClasses: 1000, dataset: "pathmnist", task: .multiClass,
                                                 dataClasses: 9, exact: true)
        #expect(throws: wrong) { try ModelDataCompatibility.validate(model: Self.resnet(1000), for: path, size: 28, transform: Self.paper) }
        #expect(wrong.description == "resnet18 has 1000 outputs, but pathmnist (multi-class) has 9 classes; build it with " +
            "numClasses: 9 (to load a checkpoint with another head, use replacingClassifierLoadOptions)")
        let headless = ModelDataMismatch.noClassifier(model: "resnet18", dataset: "pathmnist", numClasses: 9)
        #expect(throws: headless) { try ModelDataCompatibility.validate(model: Self.resnet(0), for: path, size: 28, transform: Self.paper) }
        #expect(headless.description == "resnet18 has no classifier, but scoring pathmnist needs one with 9 outputs; " +
            "build it with numClasses: 9, or use its pre-logit features")
        // ChestMNIST's 14 labels, binary's 2 classes.
        let chest = try MedMNISTCatalog.info("chestmnist")
        #expect(throws: ModelDataMismatch.classCountMismatch(model: "resnet18", modelClasses: 9, dataset: "chestmnist",
                                                     task: .multiLabelBinary, dataClasses: 14, exact: true)) {
            try ModelDataCompatibility.validate(model: Self.resnet(9), for: chest, size: 28, transform: Self.paper)
        }
        let breast = try MedMNISTCatalog.info("breastmnist")
        #expect(throws: ModelDataMismatch.classCountMismatch(model: "resnet18", modelClasses: 1, dataset: "breastmnist",
                                                     task: .binaryClass, dataClasses: 2, exact: true)) {
            try ModelDataCompatibility.validate(model: Self.resnet(1), for: breast, size: 28, transform: Self.paper)
        }
    }

    @Test func taskKind() throws {
        let path = try MedMNISTCatalog.info("pathmnist"), chest = try MedMNISTCatalog.info("chestmnist")
        let mismatch = ModelDataMismatch.task(model: "resnet18", modelTask: .multiLabelBinary, dataset: "pathmnist", task: .multiClass)
        #expect(throws: mismatch) {
            try ModelDataCompatibility.validate(model: Self.resnet(9), for: path, size: 28, transform: Self.paper, modelTask: .multiLabelBinary)
        }
        #expect(mismatch.description == "resnet18's classifier was trained for a multi-label, binary-class task, but " +
            "pathmnist is multi-class: one sigmoid per label and one softmax over classes do not score the same thing")
        #expect(throws: ModelDataMismatch.task(model: "resnet18", modelTask: .ordinalRegression, dataset: "chestmnist",
                                               task: .multiLabelBinary)) {
            try ModelDataCompatibility.validate(model: Self.resnet(14), for: chest, size: 28, transform: Self.paper,
                                                modelTask: .ordinalRegression)
        }
    }

    @Test func channelsSizeVolumesAndTransform() throws {
        let breast = try MedMNISTCatalog.info("breastmnist")
        // Grayscale without rgb gives one channel (normalised with one value, so that the transform itself fits).
        let gray = ImageTransform(normalization: Normalization(mean: [0.5], std: [0.5]), padTo: 224)
        let channels = ModelDataMismatch.channels(model: "resnet18", expected: 3, dataset: "breastmnist", layout: .grayscale, found: 1)
        #expect(throws: channels) { try ModelDataCompatibility.validate(model: Self.resnet(2), for: breast, size: 28, transform: gray) }
        #expect(channels.description == "resnet18 takes 3-channel images, but the transform makes 1-channel images of " +
            "breastmnist (grayscale); set the transform's rgb (as_rgb) to replicate the grayscale channel")
        // AlexNet at 28 pixels without the paper's padding; at 64 it fits.
        let small = ModelDataMismatch.inputTooSmall(model: "alexnet", dataset: "breastmnist", size: 28, height: 28, width: 28, minimum: 63)
        #expect(throws: small) {
            try ModelDataCompatibility.validate(model: Self.alexnet(2), for: breast, size: 28, transform: ImageTransform(rgb: true))
        }
        #expect(small.description == "alexnet needs inputs of at least 63×63, but breastmnist at size 28 reaches it as 28×28; " +
            "pad (the paper pads to 224) or resize in the transform, or use a larger size")
        #expect(throws: Never.self) {
            try ModelDataCompatibility.validate(model: Self.alexnet(2), for: breast, size: 64, transform: ImageTransform(rgb: true))
        }
        let organ = try MedMNISTCatalog.info("organmnist3d")
        let volumes = ModelDataMismatch.volumes(model: "resnet18", dataset: "organmnist3d")
        #expect(throws: volumes) { try ModelDataCompatibility.validate(model: Self.resnet(11), for: organ, size: 28, transform: Self.paper) }
        #expect(volumes.description == "resnet18 is an encoder of 2D images, but organmnist3d holds 3D volumes")
        // A transform that cannot run on the images is named with the set.
        let transform = ModelDataMismatch.transform(dataset: "breastmnist", .normalizationChannels(values: 3, channels: 1, layout: .grayscale))
        #expect(throws: transform) {
            try ModelDataCompatibility.validate(model: Self.resnet(2), for: breast, size: 28, transform: ImageTransform(normalization: .imagenet))
        }
        #expect(transform.description.hasPrefix("breastmnist: the normalisation has 3 mean/std values"))
    }

    /// The loaded-split entry point reads the same facts off the split: the committed BreastMNIST file, and
    /// custom data, whose class count (from its labels) is a lower bound.
    @Test func loadedSplits() throws {
        let breast = try DatasetRoot(Fixtures.url("data/npz")).load("breastmnist", split: .test, cache: .off)
        try ModelDataCompatibility.validate(model: Self.resnet(2), for: breast, transform: Self.paper)
        #expect(throws: ModelDataMismatch.classCountMismatch(model: "resnet18", modelClasses: 3, dataset: "breastmnist",
                                                     task: .binaryClass, dataClasses: 2, exact: true)) {
            try ModelDataCompatibility.validate(model: Self.resnet(3), for: breast, transform: Self.paper)
        }
        let custom = try CustomDataset.load(contentsOf: Fixtures.url("data/npz/tiny/custom_multiclass.npz"), split: .test)
        try ModelDataCompatibility.validate(model: Self.resnet(custom.numClasses + 5), for: custom, transform: Self.paper)
        let fewer = ModelDataMismatch.classCountMismatch(model: "resnet18", modelClasses: custom.numClasses - 1, dataset: custom.flag,
                                                 task: custom.task, dataClasses: custom.numClasses, exact: false)
        #expect(throws: fewer) {
            try ModelDataCompatibility.validate(model: Self.resnet(custom.numClasses - 1), for: custom, transform: Self.paper)
        }
        #expect(fewer.description.contains("has at least \(custom.numClasses) classes"))
    }
}
