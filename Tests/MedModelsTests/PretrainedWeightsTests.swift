import Foundation
import MedIO
import MedTestSupport
import MedModels
import MedTensor
import Testing

// PretrainedWeights against LocalHTTPServer standing in for the Hugging Face hub.

@Suite struct PretrainedWeightsTests {
    /// A small safetensors file, as a hub repository's model.safetensors.
    static func weightsFile() throws -> [UInt8] {
        try SafeTensorsFile([
            ("conv1.weight", TypedArray(floats: (0..<54).map { Float($0) / 10 }, shape: [2, 3, 3, 3])),
            ("bn1.num_batches_tracked", TypedArray(int64s: [7], shape: [])),
        ], metadata: ["format": "pt"]).encode()
    }

    @Test func timmHubConventions() throws {
        #expect(try PretrainedWeights.hubRepository(model: "resnet18", tag: "a1_in1k") == "timm/resnet18.a1_in1k")
        #expect(try PretrainedWeights.remoteURL(model: "resnet18", tag: "a1_in1k").absoluteString
            == "https://huggingface.co/timm/resnet18.a1_in1k/resolve/main/model.safetensors")
        #expect(try PretrainedWeights.remoteURL(model: "efficientnet_b0", tag: "ra_in1k", endpoint: URL(string: "http://127.0.0.1:8080/")!)
            .absoluteString == "http://127.0.0.1:8080/timm/efficientnet_b0.ra_in1k/resolve/main/model.safetensors")
        #expect(try PretrainedWeights.remoteURL(model: "m", tag: "t", endpoint: URL(string: "https://mirror.example/hf")!)
            .absoluteString == "https://mirror.example/hf/timm/m.t/resolve/main/model.safetensors")
        #expect(try PretrainedWeights.split("vit_base_patch16_224.augreg2_in21k_ft_in1k") == ("vit_base_patch16_224", "augreg2_in21k_ft_in1k"))
        #expect(try PretrainedWeights.cachedFileURL(model: "resnet18", tag: "a1_in1k", cacheDirectory: URL(fileURLWithPath: "/c"))
            .path == "/c/resnet18.a1_in1k.safetensors")

        for (model, tag) in [("../etc", "x"), ("a/b", "x"), ("", "x"), ("resnet18", ""), ("resnet18", "a/../b"),
                             ("resnet18", ".hidden"), ("resnet18", "a..b"), ("res net", "x"), ("resnet18", "x?y")] {
            #expect(throws: PretrainedWeightsError.self, "\(model).\(tag)") { try PretrainedWeights.hubRepository(model: model, tag: tag) }
        }
        #expect(throws: PretrainedWeightsError.self) { try PretrainedWeights.split("resnet18") }
    }

    @Test func configurationFromEnvironment() throws {
        let defaults = try PretrainedWeights.Configuration(environment: ["HOME": "/home/u"])
        #expect(defaults.cacheDirectory.path == "/home/u/.cache/swift-medmnist/weights")
        #expect(defaults.endpoint.absoluteString == "https://huggingface.co")
        let xdg = try PretrainedWeights.Configuration(environment: ["HOME": "/home/u", "XDG_CACHE_HOME": "/xdg"])
        #expect(xdg.cacheDirectory.path == "/xdg/swift-medmnist/weights")
        let custom = try PretrainedWeights.Configuration(environment: [
            "HOME": "/home/u", "XDG_CACHE_HOME": "/xdg",
            "MEDMNIST_WEIGHTS_CACHE": "~/weights", "MEDMNIST_HUB_ENDPOINT": "http://127.0.0.1:9999",
        ])
        #expect(custom.cacheDirectory.path == "/home/u/weights")
        #expect(custom.endpoint.absoluteString == "http://127.0.0.1:9999")
        #expect(throws: PretrainedWeightsError.invalidEndpoint("huggingface.co")) {
            try PretrainedWeights.Configuration(environment: ["MEDMNIST_HUB_ENDPOINT": "huggingface.co"])
        }
    }

    @Test func downloadsOnceIntoTheCacheAndLoads() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = try Self.weightsFile()
        let sha = SHA256.hexDigest(body)
        let path = "/timm/resnet18.a1_in1k/resolve/main/model.safetensors"
        // Like the hub: /resolve/ redirects to the storage backend, naming the SHA-256 in X-Linked-Etag.
        server.route(path, .redirect(location: "/lfs/blob", headers: ["X-Linked-Etag": "\"\(sha)\"", "X-Linked-Size": "\(body.count)"]))
        server.route("/lfs/blob", .ok(body: body))
        let cache = try TemporaryDirectory()
        defer { cache.remove() }

        // The environment route, as the command-line tool would use it (a dictionary, so tests stay isolated).
        var configuration = try PretrainedWeights.Configuration(environment: [
            "MEDMNIST_WEIGHTS_CACHE": cache.url.path, "MEDMNIST_HUB_ENDPOINT": server.baseURL.absoluteString,
        ])
        configuration.download = DownloadFixture.options()
        let url = try await PretrainedWeights.localURL(model: "resnet18", tag: "a1_in1k", configuration: configuration)
        #expect(url.path == cache.appending("resnet18.a1_in1k.safetensors").path)
        #expect(server.requestCount(path) == 1 && server.requestCount("/lfs/blob") == 1)
        let entries = try CheckpointFile.read(contentsOf: url)
        #expect(entries.map(\.key).sorted() == ["bn1.num_batches_tracked", "conv1.weight"])

        // Cached: no second request.
        let again = try await PretrainedWeights.localURL(name: "resnet18.a1_in1k", configuration: configuration)
        #expect(again == url && server.requestCount(path) == 1)
        #expect(DownloadFixture.contents(cache.url) == ["resnet18.a1_in1k.safetensors"])
    }

    @Test func corruptDownloadNeverReachesTheCache() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = try Self.weightsFile()
        var corrupt = body
        corrupt[corrupt.count - 1] ^= 0xFF
        server.route(
            "/timm/resnet50.a1_in1k/resolve/main/model.safetensors",
            .ok(body: corrupt, headers: ["X-Linked-Etag": "\"\(SHA256.hexDigest(body))\""]))
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let configuration = PretrainedWeights.Configuration(cacheDirectory: cache.url, endpoint: server.baseURL, download: DownloadFixture.options())
        let error = await DownloadFixture.downloadError {
            _ = try await PretrainedWeights.localURL(model: "resnet50", tag: "a1_in1k", configuration: configuration)
        }
        guard case .checksumMismatch? = error?.reason else { Issue.record("got \(String(describing: error))"); return }
        #expect(DownloadFixture.contents(cache.url).isEmpty)
    }

    @Test func unknownTagSaysSo() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let configuration = PretrainedWeights.Configuration(cacheDirectory: cache.url, endpoint: server.baseURL, download: DownloadFixture.options())
        let error = await DownloadFixture.downloadError {
            _ = try await PretrainedWeights.localURL(model: "resnet18", tag: "no_such_tag", configuration: configuration)
        }
        #expect(error?.reason == .httpStatus(404) && error?.attempts == 1)
        #expect(error?.hint?.contains("timm/resnet18.no_such_tag") == true)
        #expect(DownloadFixture.contents(cache.url).isEmpty)
    }

    @Test func offlineErrorNamesTheURLAndTheCachePath() async throws {
        let refusing = try LocalHTTPServer.RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let port = refusing.port
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let configuration = PretrainedWeights.Configuration(
            cacheDirectory: cache.url, endpoint: URL(string: "http://127.0.0.1:\(port)")!, download: DownloadFixture.options(2))
        let error = await DownloadFixture.downloadError {
            _ = try await PretrainedWeights.localURL(model: "densenet121", tag: "tv_in1k", configuration: configuration)
        }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("http://127.0.0.1:\(port)/timm/densenet121.tv_in1k/resolve/main/model.safetensors"))
        #expect(text.contains(cache.appending("densenet121.tv_in1k.safetensors").path))

        // Putting the file there by hand is all it takes.
        try Data(try Self.weightsFile()).write(to: cache.appending("densenet121.tv_in1k.safetensors"))
        let url = try await PretrainedWeights.localURL(model: "densenet121", tag: "tv_in1k", configuration: configuration)
        #expect(try CheckpointFile.read(contentsOf: url).count == 2)
    }
}
