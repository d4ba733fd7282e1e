import Foundation
import MedIO
import MedTestSupport
import Testing
@testable import MedMNISTData

@Suite(.serialized) struct DownloadTests {
    let npz: [UInt8]
    let md5: String

    init() throws {
        npz = try [UInt8](Data(contentsOf: Fixtures.url("data/npz/breastmnist.npz")))
        md5 = (try Fixtures.json("data/npz/meta.json")["breastmnist"] as! [String: Any])["md5"] as! String
    }

    func file(_ md5: String? = nil) -> DatasetFile {
        DatasetFile(flag: "breastmnist", size: 28, fileName: "breastmnist.npz",
                    url: URL(string: "https://zenodo.org/records/10519652/files/breastmnist.npz?download=1")!, md5: md5 ?? self.md5)
    }

    func downloader(_ server: LocalHTTPServer, _ prefix: String, attempts: Int = 2) -> Downloader {
        Downloader(mirror: server.baseURL.appendingPathComponent(prefix), attempts: attempts, retryDelay: 0.05, timeout: 10,
                   showProgress: false)
    }

    @Test func downloadsVerifiesAndRenames() async throws {
        let server = try LocalHTTPServer(routes: ["/ok/breastmnist.npz": .ok(body: npz)])
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.url
        let root = DatasetRoot(folder.appendingPathComponent("nested/root"))
        let url = try await downloader(server, "ok").download(file(), into: root)
        #expect(url == root.url(for: file()))
        #expect(try [UInt8](Data(contentsOf: url)) == npz)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.url.path) == ["breastmnist.npz"])
        try root.verify(file())
        // A second call finds the file with the right MD5 and does not fetch again.
        try await downloader(server, "ok").download(file(), into: root)
        #expect(server.requestCount("/ok/breastmnist.npz") == 1)
    }

    @Test func wrongMD5IsRejectedAndLeavesNothing() async throws {
        var other = npz
        other[other.count / 2] ^= 0xFF
        let server = try LocalHTTPServer(routes: ["/bad/breastmnist.npz": .ok(body: other)])
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.url
        let root = DatasetRoot(folder)
        do {
            try await downloader(server, "bad").download(file(), into: root)
            Issue.record("expected an MD5 error")
        } catch let error as DownloadError {
            guard case .md5Mismatch(let url, let expected, _, let destination) = error else { Issue.record("\(error)"); return }
            #expect(url.hasSuffix("/bad/breastmnist.npz") && expected == md5 && destination == root.url(for: file()).path)
        }
        #expect(server.requestCount("/bad/breastmnist.npz") == 2)  // retried once
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func notFoundFailsAtOnceNamingTheURL() async throws {
        let server = try LocalHTTPServer(routes: [:])
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.url
        do {
            try await downloader(server, "missing", attempts: 3).download(file(), into: DatasetRoot(folder))
            Issue.record("expected a 404")
        } catch let error as DownloadError {
            guard case .httpStatus(_, 404, _) = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("/missing/breastmnist.npz") && error.description.contains(folder.path))
        }
        #expect(server.requestCount("/missing/breastmnist.npz") == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func droppedConnectionIsRetriedThenReported() async throws {
        let server = try LocalHTTPServer(routes: ["/drop/breastmnist.npz": .dropAfter(body: npz, sendBytes: npz.count / 2, reset: true), "/flaky/breastmnist.npz": .sequence([.dropAfter(body: npz, sendBytes: npz.count / 3, reset: true), .ok(body: npz)])])
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.url
        let root = DatasetRoot(folder)
        await #expect(throws: DownloadError.self) { try await downloader(server, "drop").download(file(), into: root) }
        #expect(server.requestCount("/drop/breastmnist.npz") == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        // A connection that drops once succeeds on the retry.
        try await downloader(server, "flaky").download(file(), into: root)
        #expect(server.requestCount("/flaky/breastmnist.npz") == 2)
        try root.verify(file())
    }

    @Test func offlineSaysWhichURLAndWhereToPutTheFile() async throws {
        // A port with nothing listening: connection refused.
        let server = try LocalHTTPServer(routes: [:])
        let port = server.port
        server.stop()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.url
        let downloader = Downloader(mirror: URL(string: "http://127.0.0.1:\(port)")!, attempts: 2, retryDelay: 0.01,
                                    timeout: 5, showProgress: false)
        do {
            try await downloader.download(file(), into: DatasetRoot(folder))
            Issue.record("expected a transport error")
        } catch let error as DownloadError {
            let text = error.description
            #expect(text.contains("http://127.0.0.1:\(port)/breastmnist.npz"))
            #expect(text.contains(folder.appendingPathComponent("breastmnist.npz").path))
            #expect(text.contains("2 attempts"))
        }
    }

    /// A mirror that cannot work (a flag's typo, a bare folder name) is refused before anything is fetched,
    /// instead of failing every retry as an "unsupported URL"; so is an expected MD5 that is not one.
    @Test func unusableMirrorOrMD5IsRefusedBeforeAnyAttempt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.url
        let cases: [(String, String)] = [
            ("localhost:8000", "the scheme 'localhost' is not http, https or file"),
            ("mirror-folder", "it has no scheme (http://, https:// or file://)"),
            ("ftp://example.org/medmnist", "the scheme 'ftp' is not http, https or file"),
            ("http:///medmnist", "it names no host"),
            ("file:relative/folder", "a file mirror needs an absolute path"),
            ("https://example.org/files?download=1", "a mirror is a base folder, without ?query or #fragment"),
        ]
        for (text, reason) in cases {
            #expect(throws: DownloadError.invalidMirror(mirror: text, reason: reason)) { try Downloader.mirror(parsing: text) }
            let downloader = Downloader(mirror: URL(string: text)!, attempts: 3, retryDelay: 10, showProgress: false)
            let started = Date()
            await #expect(throws: DownloadError.invalidMirror(mirror: text, reason: reason)) {
                try await downloader.download(file(), into: DatasetRoot(folder))
            }
            #expect(Date().timeIntervalSince(started) < 5, "\(text): no attempt, no retry delay")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        #expect(DownloadError.invalidMirror(mirror: "localhost:8000", reason: "the scheme 'localhost' is not http, https or file")
            .description == "the mirror 'localhost:8000' cannot be used: the scheme 'localhost' is not http, https or file; " +
            "give a base URL such as https://host/medmnist or file:///absolute/folder")
        for good in ["https://example.org/medmnist", "http://127.0.0.1:8080", "file:///srv/medmnist"] {
            #expect(throws: Never.self) { try Downloader.mirror(parsing: good) }
        }
        await #expect(throws: DownloadError.invalidMD5("abc")) {
            try await Downloader(showProgress: false).fetch(URL(fileURLWithPath: "/nonexistent"),
                                                            to: folder.appendingPathComponent("x"), expectedMD5: "abc")
        }
        #expect(DownloadError.invalidMD5("abc").description == "'abc' is not an MD5 digest (32 hexadecimal digits)")
    }

    @Test func mirrorComesFromTheEnvironmentOrTheCatalog() throws {
        let catalog = try MedMNISTCatalog.info("pathmnist").file(size: 64)
        #expect(Downloader(mirror: nil).sourceURL(for: catalog) == (ProcessInfo.processInfo.environment["MEDMNIST_MIRROR"] == nil
            ? catalog.url : Downloader().sourceURL(for: catalog)))
        #expect(Downloader(mirror: URL(string: "http://mirror.example/medmnist")!).sourceURL(for: catalog).absoluteString
                == "http://mirror.example/medmnist/pathmnist_64.npz")
    }
}
