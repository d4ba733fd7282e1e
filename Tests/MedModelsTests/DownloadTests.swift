import Foundation
import MedIO
import MedTestSupport
import MedTensor
import Testing

// FileDownloader against LocalHTTPServer (127.0.0.1, ephemeral port): no network needed.

enum DownloadFixture {
    /// Every name in `directory`, hidden temporary files included.
    static func contents(_ directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    static func payload(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// Fast retries for tests.
    static func options(_ attempts: Int = 3, checksum: Checksum? = nil) -> FileDownloadOptions {
        var options = FileDownloadOptions(expectedChecksum: checksum, progress: .never, maxAttempts: attempts, initialBackoff: 0.01, timeout: 10)
        options.maxBackoff = 0.05
        return options
    }

    static func downloadError(_ body: () async throws -> Void) async -> FileDownloadError? {
        do {
            try await body()
            Issue.record("the download should have failed")
            return nil
        } catch let error as FileDownloadError {
            return error
        } catch {
            Issue.record("expected a FileDownloadError, got \(type(of: error)): \(error)")
            return nil
        }
    }
}

@Suite struct DownloadTests {
    @Test func servesFileVerifiedBySHA256ETag() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = DownloadFixture.payload(300_000)
        let sha = SHA256.hexDigest(body)
        server.route("/weights.safetensors", .ok(body: body, headers: ["ETag": "\"\(sha)\""]))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let destination = directory.appending("sub/dir/weights.safetensors")

        let result = try await FileDownloader.download(
            from: server.url("/weights.safetensors"), to: destination, options: DownloadFixture.options())
        #expect(Array(try Data(contentsOf: destination)) == body)
        #expect(result.byteCount == 300_000 && result.sha256 == sha && result.attempts == 1)
        #expect(result.verified.map(\.checksum) == [.sha256(sha)] && result.verified.first?.source == "the server's ETag")
        #expect(DownloadFixture.contents(destination.deletingLastPathComponent()) == ["weights.safetensors"])
        #expect(server.requestCount("/weights.safetensors") == 1)
    }

    @Test func wrongServerChecksumLeavesNothingAndIsNotRetried() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = DownloadFixture.payload(5000)
        let wrong = SHA256.hexDigest(Array("something else".utf8))
        server.route("/bad", .ok(body: body, headers: ["ETag": "\"\(wrong)\""]))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let destination = directory.appending("bad.bin")

        let error = await DownloadFixture.downloadError {
            try await FileDownloader.download(from: server.url("/bad"), to: destination, options: DownloadFixture.options())
        }
        #expect(error?.reason == .checksumMismatch(
            algorithm: .sha256, expected: wrong, actual: SHA256.hexDigest(body), source: "the server's ETag"))
        #expect(error?.attempts == 1 && server.requestCount("/bad") == 1)
        #expect(DownloadFixture.contents(directory.url).isEmpty, "left behind: \(DownloadFixture.contents(directory.url))")

        // The same file passes when the server's checksum is not trusted and no other is given...
        var trusting = DownloadFixture.options()
        trusting.verifyServerChecksum = false
        try await FileDownloader.download(from: server.url("/bad"), to: destination, options: trusting)
        #expect(Array(try Data(contentsOf: destination)) == body)
    }

    @Test func callerChecksumsSHA256AndMD5() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = DownloadFixture.payload(70_000, seed: 7)
        server.route("/data.npz", .ok(body: body))  // no ETag
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let destination = directory.appending("data.npz")

        let md5 = MD5.hexDigest(body)
        let result = try await FileDownloader.download(
            from: server.url("/data.npz"), to: destination, options: DownloadFixture.options(checksum: .md5(md5.uppercased())))
        #expect(result.verified.map(\.checksum) == [.md5(md5)])
        try await FileDownloader.download(
            from: server.url("/data.npz"), to: destination,
            options: DownloadFixture.options(checksum: Checksum(hex: SHA256.hexDigest(body))))

        // A wrong expected checksum: error, and the good file already there is left alone (never replaced by a bad one).
        let zeros = String(repeating: "0", count: 64)
        let error = await DownloadFixture.downloadError {
            try await FileDownloader.download(
                from: server.url("/data.npz"), to: destination, options: DownloadFixture.options(checksum: .sha256(zeros)))
        }
        guard case .checksumMismatch(.sha256, zeros, _, "the expected checksum")? = error?.reason else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(Array(try Data(contentsOf: destination)) == body)
        #expect(DownloadFixture.contents(directory.url) == ["data.npz"])
    }

    @Test func notFoundIsNotRetried() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let destination = directory.appending("missing.bin")
        let error = await DownloadFixture.downloadError {
            try await FileDownloader.download(from: server.url("/missing"), to: destination, options: DownloadFixture.options())
        }
        #expect(error?.reason == .httpStatus(404) && error?.attempts == 1)
        #expect(server.requestCount("/missing") == 1)
        #expect(DownloadFixture.contents(directory.url).isEmpty)
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("HTTP 404") && text.contains(server.url("/missing").absoluteString) && text.contains(destination.path))
    }

    @Test func serverErrorsAreRetriedWithBackoff() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = DownloadFixture.payload(1000)
        server.route("/flaky", .sequence([.status(503), .status(429), .ok(body: body)]))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let destination = directory.appending("flaky.bin")
        let result = try await FileDownloader.download(from: server.url("/flaky"), to: destination, options: DownloadFixture.options(4))
        #expect(result.attempts == 3 && server.requestCount("/flaky") == 3)
        #expect(Array(try Data(contentsOf: destination)) == body)
        #expect(DownloadFixture.contents(directory.url) == ["flaky.bin"])
    }

    @Test func droppedConnectionIsRetriedAndNeverLeavesAPartialFile() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = DownloadFixture.payload(200_000, seed: 3)
        let sha = SHA256.hexDigest(body)
        server.route("/drop-once", .sequence([.dropAfter(body: body, sendBytes: 50_000), .ok(body: body, headers: ["ETag": "\"\(sha)\""])]))
        server.route("/drop-always", .dropAfter(body: body, sendBytes: 64_000))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }

        let once = directory.appending("once.bin")
        let result = try await FileDownloader.download(from: server.url("/drop-once"), to: once, options: DownloadFixture.options())
        #expect(result.attempts == 2 && server.requestCount("/drop-once") == 2)
        #expect(Array(try Data(contentsOf: once)) == body)

        let always = directory.appending("always.bin")
        let error = await DownloadFixture.downloadError {
            try await FileDownloader.download(from: server.url("/drop-always"), to: always, options: DownloadFixture.options(3))
        }
        #expect(error?.attempts == 3 && server.requestCount("/drop-always") == 3)
        switch error?.reason {
        case .transport?, .incomplete?: break
        default: Issue.record("a dropped connection should be a transport or incomplete error, got \(String(describing: error))")
        }
        #expect(DownloadFixture.contents(directory.url) == ["once.bin"], "left behind: \(DownloadFixture.contents(directory.url))")
    }

    @Test func hubStyleRedirectCarriesTheChecksum() async throws {
        // The hub answers /resolve/ with a redirect carrying X-Linked-Etag (the SHA-256) and X-Linked-Size; the
        // storage backend's own ETag is something else and must not be used.
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = DownloadFixture.payload(123_456, seed: 9)
        let sha = SHA256.hexDigest(body)
        let cdnETag = "\"" + String(repeating: "ab", count: 32) + "\""  // looks like a SHA-256, is not this file's
        server.route("/cdn/blob", .ok(body: body, headers: ["ETag": cdnETag]))
        server.route("/good", .redirect(location: "/cdn/blob", headers: ["X-Linked-Etag": "\"\(sha)\"", "X-Linked-Size": "123456"]))
        server.route("/lying", .redirect(location: "/cdn/blob", headers: ["X-Linked-Etag": cdnETag]))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }

        let good = directory.appending("good.bin")
        let result = try await FileDownloader.download(from: server.url("/good"), to: good, options: DownloadFixture.options())
        #expect(result.verified.map(\.checksum) == [.sha256(sha)] && result.verified.first?.source == "the server's X-Linked-Etag")
        #expect(Array(try Data(contentsOf: good)) == body)

        let lying = directory.appending("lying.bin")
        let error = await DownloadFixture.downloadError {
            try await FileDownloader.download(from: server.url("/lying"), to: lying, options: DownloadFixture.options())
        }
        guard case .checksumMismatch(.sha256, _, sha, "the server's X-Linked-Etag")? = error?.reason else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(DownloadFixture.contents(directory.url) == ["good.bin"])
    }

    @Test func unreachableServerSaysWhatFailedAndWhereToPutTheFile() async throws {
        let refusing = try LocalHTTPServer.RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let port = refusing.port
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = URL(string: "http://127.0.0.1:\(port)/timm/resnet18.a1_in1k/resolve/main/model.safetensors")!
        let destination = directory.appending("resnet18.a1_in1k.safetensors")
        let error = await DownloadFixture.downloadError {
            try await FileDownloader.download(from: url, to: destination, options: DownloadFixture.options(2))
        }
        guard let error else { return }
        guard case .transport(let reason) = error.reason else { Issue.record("got \(error)"); return }
        #expect(reason.contains("could not connect"), "\(reason)")
        #expect(error.attempts == 2)
        let text = "\(error)"
        #expect(text.contains(url.absoluteString) && text.contains("after 2 attempts"))
        #expect(text.contains("put the file at \(destination.path)"))
        #expect(DownloadFixture.contents(directory.url).isEmpty)
    }

    @Test func replacesAnExistingFileAndCopiesFileURLs() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = directory.appending("mirror.bin")
        let body = DownloadFixture.payload(10_000, seed: 11)
        try Data(body).write(to: source)
        let destination = directory.appending("copy.bin")
        try Data("old".utf8).write(to: destination)
        let result = try await FileDownloader.download(
            from: source, to: destination, options: DownloadFixture.options(checksum: .sha256(SHA256.hexDigest(body))))
        #expect(try result.byteCount == 10_000 && Array(Data(contentsOf: destination)) == body)
        #expect(DownloadFixture.contents(directory.url) == ["copy.bin", "mirror.bin"])
        let missing = await DownloadFixture.downloadError {
            try await FileDownloader.download(from: directory.appending("nope"), to: destination, options: DownloadFixture.options(3))
        }
        guard case .unreadableSource(let reason)? = missing?.reason else { Issue.record("got \(String(describing: missing))"); return }
        #expect(reason.contains("nope") && missing?.attempts == 1)
    }

    @Test func progressBarDrawsWithoutATerminal() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.route("/p", .ok(body: DownloadFixture.payload(50_000)))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var options = DownloadFixture.options()
        options.progress = .always
        options.progressLabel = "progress-test"
        try await FileDownloader.download(from: server.url("/p"), to: directory.appending("p.bin"), options: options)
    }

    @Test func stalledServerTimesOut() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.route("/slow", .stall(body: DownloadFixture.payload(10_000), sendBytes: 100, seconds: 3))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var options = DownloadFixture.options(1)
        options.timeout = 1  // corelibs URLSession rounds time-outs to whole seconds
        let error = await DownloadFixture.downloadError {
            try await FileDownloader.download(from: server.url("/slow"), to: directory.appending("slow.bin"), options: options)
        }
        // "timed out" rather than a lost connection or a short body: the time-out fired before the server
        // closed the connection 3 s in. (No wall-clock bound: parallel tests may keep this task waiting.)
        guard case .transport(let reason)? = error?.reason else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("timed out"), "\(reason)")
        #expect(DownloadFixture.contents(directory.url).isEmpty)
    }

    /// The time-out is for silence, not for the whole transfer: a slow download that keeps sending lives on.
    @Test func slowButLiveTransferIsNotTimedOut() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let body = DownloadFixture.payload(30_000)
        server.route("/trickle", .trickle(body: body, chunks: 10, interval: 0.3))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var options = DownloadFixture.options(1)
        options.timeout = 1
        let destination = directory.appending("slow.bin")
        let result = try await FileDownloader.download(from: server.url("/trickle"), to: destination, options: options)
        #expect(try result.byteCount == 30_000 && Array(Data(contentsOf: destination)) == body)
    }

    @Test func cancellationStopsTheTransferAndCleansUp() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        server.route("/slow", .stall(body: DownloadFixture.payload(10_000), sendBytes: 100, seconds: 2))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = server.url("/slow"), destination = directory.appending("slow.bin")
        let task = Task { try await FileDownloader.download(from: url, to: destination, options: DownloadFixture.options(3)) }
        try await Task.sleep(nanoseconds: 300_000_000)
        task.cancel()
        // Without the cancellation, every attempt would end in a short body and the result would be a
        // FileDownloadError after three stalls.
        let result = await task.result
        guard case .failure(let error) = result, error is CancellationError else {
            Issue.record("expected CancellationError, got \(result)")
            return
        }
        #expect(DownloadFixture.contents(directory.url).isEmpty)
    }

    @Test func etagParsing() {
        let sha = String(repeating: "0f", count: 32)
        #expect(Checksum.sha256(fromETag: "\"\(sha)\"") == .sha256(sha))
        #expect(Checksum.sha256(fromETag: sha.uppercased()) == .sha256(sha))
        #expect(Checksum.sha256(fromETag: "W/\"\(sha)\"") == nil)
        #expect(Checksum.sha256(fromETag: "\"" + String(repeating: "a", count: 40) + "\"") == nil)  // git blob SHA-1
        #expect(Checksum.sha256(fromETag: "\"d41d8cd98f00b204e9800998ecf8427e-3\"") == nil)
        #expect(Checksum(hex: "d41d8cd98f00b204e9800998ecf8427e")?.algorithm == .md5)
        #expect(Checksum(hex: "xyz") == nil && Checksum(algorithm: .sha256, hex: String(repeating: "g", count: 64)) == nil)
    }
}
