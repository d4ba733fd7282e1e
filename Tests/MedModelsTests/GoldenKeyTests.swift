import Foundation
import MedTestSupport
import MedLayers
import MedTensor
import Testing
@testable import MedModels

/// Every model's state dict — keys, dtypes, shapes and order — equals timm 1.0.31's / torchvision 0.29's with
/// 9 classes (Tests/Fixtures/state-dict-keys/, copied from the shared reference lists).
@Suite(.serialized) struct GoldenKeyTests {
    /// (model name, golden list, class count). timm 1.0.31 gives `vit_base_patch16_clip_quickgelu_224` exactly
    /// `vit_base_patch16_clip_224`'s state dict (checked in Python), so it is held to that list; DINO's list is
    /// headless (num_classes=0).
    static let cases: [(model: String, golden: String, classes: Int)] =
        ["alexnet", "vgg16", "resnet18", "resnet50", "densenet121", "efficientnet_b0", "efficientnet_b4",
         "vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224", "vit_base_patch16_clip_224",
         "eva02_base_patch16_clip_224", "samvit_base_patch16"].map { ($0, $0, 9) } +
        [("vit_base_patch16_clip_quickgelu_224", "vit_base_patch16_clip_224", 9), ("vit_base_patch16_224.dino", "vit_base_patch16_224.dino", 0)]

    @Test(arguments: cases.map(\.model))
    func stateDictMatchesTimm(_ name: String) throws {
        let entry = Self.cases.first { $0.model == name }!
        let golden = try goldenKeys(entry.golden)
        let model = try ModelRegistry.create(name, numClasses: entry.classes, initialization: .layerDefaults)
        let ours = stateDictLines(model)
        #expect(ours.count == golden.count, "\(name): \(ours.count) entries, timm has \(golden.count)")
        let missing = Set(golden).subtracting(ours), extra = Set(ours).subtracting(golden)
        #expect(missing.isEmpty, "\(name): missing \(missing.sorted().prefix(10))")
        #expect(extra.isEmpty, "\(name): unexpected \(extra.sorted().prefix(10))")
        if missing.isEmpty && extra.isEmpty {
            let firstDifference = zip(ours, golden).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(firstDifference == nil, "\(name): order differs at entry \(firstDifference?.offset ?? -1): \(firstDifference.map { "\($0.element.0) vs \($0.element.1)" } ?? "")")
        }
        // The header's value count (timm counts buffers too).
        let header = try String(contentsOf: Fixtures.url("state-dict-keys/\(entry.golden).txt"), encoding: .utf8)
            .split(separator: "\n")[0]
        let values = model.stateDict().reduce(0) { $0 + $1.array.count }
        #expect(header.contains(" \(values) values"), "\(name): \(values) values; header: \(header)")
    }

    /// Without a classifier (timm's num_classes=0), the head's keys are absent and the rest is unchanged.
    @Test(arguments: ["alexnet", "resnet18", "densenet121", "efficientnet_b0", "vit_tiny_patch16_224",
                      "eva02_base_patch16_clip_224", "samvit_base_patch16"])
    func headlessModelDropsOnlyTheClassifier(_ name: String) throws {
        let model = try ModelRegistry.create(name, numClasses: 0, initialization: .layerDefaults)
        let prefix = model.classifierKeyPrefix + "."
        let expected = try goldenKeys(name).filter { !$0.hasPrefix(prefix) }
        #expect(stateDictLines(model) == expected)
        #expect(model.classifier == nil)
        #expect(model.numClasses == 0)
    }
}
