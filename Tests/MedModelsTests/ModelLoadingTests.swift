import Foundation
import MedIO
import MedLayers
import MedModels
import MedTensor
import MedTestSupport
import Testing

/// "This model with these weights" in one call: the whole checkpoint when it fits, a fresh classifier when
/// the checkpoint's head has another class count, a named error when it is for another architecture.
@Suite struct ModelLoadingTests {
    /// A trained-looking ResNet-18 with 9 classes, saved as safetensors in `directory`.
    static func savedResNet(in directory: TemporaryDirectory) throws -> (model: any ImageEncoder, url: URL) {
        let model = try RandomState.withSeed(5) { try ModelRegistry.create("resnet18", numClasses: 9) }
        let url = directory.appending("resnet18_9.safetensors")
        try model.save(to: url)
        return (model, url)
    }

    static func differingKeys(_ a: any ImageEncoder, _ b: any ImageEncoder) -> [String] {
        zip(a.stateDict(), b.stateDict()).filter { $0.0.array != $0.1.array }.map(\.0.key)
    }

    @Test func aFittingCheckpointLoadsWhole() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (saved, url) = try Self.savedResNet(in: directory)
        let loaded = try ModelRegistry.create("resnet18", numClasses: 9, weights: url)
        #expect(loaded.numClasses == 9 && Self.differingKeys(saved, loaded).isEmpty)
    }

    @Test func anotherHeadIsReplacedAndTheBackboneLoaded() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (saved, url) = try Self.savedResNet(in: directory)
        let loaded = try RandomState.withSeed(6) { try ModelRegistry.create("resnet18", numClasses: 4, weights: url) }
        #expect(loaded.numClasses == 4 && loaded.classifier?.weight.shape == [4, 512])
        let backbone = zip(saved.stateDict(), loaded.stateDict()).filter { !$0.0.key.hasPrefix("fc.") }
        #expect(backbone.count == saved.stateDict().count - 2 && backbone.allSatisfy { $0.0.array == $0.1.array })

        // Asked to fit exactly, the head's shape is an error naming the file.
        let error = #expect(throws: StateDictMismatch.self) {
            try ModelRegistry.create("resnet18", numClasses: 4, weights: url, replacingClassifier: false)
        }
        #expect(error?.problems.map(\.key).sorted() == ["fc.bias", "fc.weight"])
        #expect(error?.description.contains(url.path) == true)
    }

    @Test func aCheckpointForAnotherArchitectureIsNamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (_, url) = try Self.savedResNet(in: directory)
        let error = #expect(throws: StateDictMismatch.self) { try ModelRegistry.create("densenet121", numClasses: 9, weights: url) }
        #expect(error?.source == url.path && (error?.problems.count ?? 0) > 10)
        #expect(throws: ModelRegistryError.self) { try ModelRegistry.create("resnet19", numClasses: 9, weights: url) }
    }

    /// `pretrained` resolves the tag, downloads the hub's file into the cache (a local server here) and
    /// loads it under a new head.
    @Test func pretrainedDownloadsAndLoads() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (saved, url) = try Self.savedResNet(in: directory)
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let path = "/timm/resnet18.a1_in1k/resolve/main/model.safetensors"
        server.route(path, .ok(body: [UInt8](try Data(contentsOf: url))))
        var configuration = PretrainedWeights.Configuration(cacheDirectory: directory.appending("cache"), endpoint: server.baseURL)
        configuration.download = FileDownloadOptions(progress: .never, maxAttempts: 1, timeout: 30)
        let model = try await ModelRegistry.pretrained("resnet18", numClasses: 7, configuration: configuration)
        #expect(server.requestCount(path) == 1 && model.numClasses == 7)
        #expect(Self.differingKeys(saved, model) == ["fc.weight", "fc.bias"])
    }
}
