import Foundation
import MedIO
import MedTestSupport
import MedTensor
import Testing
@testable import MedMNISTData

/// A temporary root holding fixture files under catalog names, and the catalog entries with the tiny split sizes.
struct TinyRoot {
    let directory: TemporaryDirectory
    var folder: URL { directory.url }
    var root: DatasetRoot { DatasetRoot(folder) }

    init(_ files: [String: String], function: String = #function) throws {
        directory = try TemporaryDirectory(function)
        for (fixture, name) in files {
            try FileManager.default.copyItem(at: Fixtures.url("data/npz/tiny/\(fixture)"), to: folder.appendingPathComponent(name))
        }
    }

    func remove() { directory.remove() }

    /// The catalog entry of `flag` with split sizes 6 / 3 / 4, like every tiny fixture.
    static func info(_ flag: String) throws -> DatasetInfo {
        var info = try MedMNISTCatalog.info(flag)
        info.splitSizes = SplitSizes(train: 6, val: 3, test: 4)
        return info
    }
}

@Suite struct LoadingTests {
    nonisolated(unsafe) static let meta = try! Fixtures.json("data/npz/meta.json")

    /// Checks a loaded array against the shape, sum and first values Python recorded.
    func expectMatches(_ images: ImageArray, _ labels: IndexTensor, file: String, split: Split) {
        let arrays = (Self.meta[file] as! [String: Any])["arrays"] as! [String: [String: Any]]
        let im = arrays[split.imagesKey]!, lb = arrays[split.labelsKey]!
        #expect(images.shape == im["shape"] as! [Int], "\(file) \(split)")
        let sum = images.withUnsafeBytes { $0.reduce(0) { $0 + Int($1) } }
        #expect(sum == im["sum"] as! Int, "\(file) \(split)")
        #expect(Array(images.withUnsafeBytes { $0.prefix(8) }).map(Int.init) == im["first"] as! [Int])
        #expect(labels.shape == lb["shape"] as! [Int])
        #expect(labels.values.reduce(0, +) == lb["sum"] as! Int)
    }

    @Test func catalogValidBreastMNIST() throws {
        let root = DatasetRoot(Fixtures.url("data/npz"))
        let test = try root.load("breastmnist", split: .test, cache: .off)
        #expect(test.images.shape == [156, 28, 28] && test.images.layout == .grayscale)
        #expect(test.labels.shape == [156, 1] && test.task == .binaryClass && test.numClasses == 2)
        #expect(!test.isMemoryMapped)
        for i in [0, 1, 155] { #expect(test.images.sample(i)[14 * 28 + 14] == UInt8(i % 256)) }
        let train = try root.load("breastmnist", split: .train, cache: .off)
        #expect(train.count == 546)
    }

    /// The package's Evaluator on the same file and scores gave these metrics.
    @Test func evaluatorReadsLabelsFromTheFile() throws {
        let meta = Self.meta["breastmnist"] as! [String: Any]
        let evaluator = try Evaluator(flag: "breastmnist", split: .test, root: DatasetRoot(Fixtures.url("data/npz")))
        let scores = try ScoreArray(Fixtures.npy("data/npz/breastmnist_test_scores.npy"))
        let metrics = try evaluator.evaluate(scores)
        #expect(metrics.acc == double(meta["acc"]))
        #expect(metrics.auc == double(meta["auc"]))
        #expect(evaluator.standardFileName(metrics, run: "fixture") == meta["csv_name_run_fixture"] as! String)
        // Scores for 10 samples against the 156 of the file's test split: refused, naming both shapes.
        let bad = try ScoreArray(Fixtures.npy("data/npz/breastmnist_bad_scores.npy"))
        let expected = EvaluationError.scoresShape(scores: [10, 2], labels: [156, 1], task: .binaryClass,
                                                   expected: "(156, 2) or (156, 1) or (156,)")
        #expect(throws: expected) { try evaluator.evaluate(bad) }
        #expect(expected.description == "scores of shape (10, 2) do not fit labels of shape (156, 1) for a binary-class task: " +
            "expected (156, 2) or (156, 1) or (156,)")
    }

    @Test func everyLayoutLoads() throws {
        let tiny = try TinyRoot(["bloodmnist_64.npz": "bloodmnist_64.npz", "chestmnist.npz": "chestmnist.npz",
                                 "organmnist3d.npz": "organmnist3d.npz", "pneumoniamnist_stored.npz": "pneumoniamnist.npz",
                                 "dermamnist_int64labels.npz": "dermamnist.npz"])
        defer { tiny.remove() }
        for split in Split.allCases {
            let blood = try tiny.root.load(TinyRoot.info("bloodmnist"), size: 64, split: split, cache: .off)
            #expect(blood.images.layout == .rgb && blood.images.sampleShape == [64, 64, 3])
            expectMatches(blood.images, blood.labels, file: "bloodmnist_64.npz", split: split)
            let chest = try tiny.root.load(TinyRoot.info("chestmnist"), split: split, cache: .off)
            #expect(chest.labels.shape[1] == 14 && chest.task == .multiLabelBinary)
            expectMatches(chest.images, chest.labels, file: "chestmnist.npz", split: split)
            let organ = try tiny.root.load(TinyRoot.info("organmnist3d"), split: split, cache: .off)
            #expect(organ.images.layout == .volume && organ.images.sampleShape == [28, 28, 28])
            expectMatches(organ.images, organ.labels, file: "organmnist3d.npz", split: split)
            let stored = try tiny.root.load(TinyRoot.info("pneumoniamnist"), split: split, cache: .off)
            expectMatches(stored.images, stored.labels, file: "pneumoniamnist_stored.npz", split: split)
            let derma = try tiny.root.load(TinyRoot.info("dermamnist"), split: split, cache: .off)
            expectMatches(derma.images, derma.labels, file: "dermamnist_int64labels.npz", split: split)
        }
    }

    @Test func customDataInfersOrTakesTheTask() throws {
        let multilabel = try CustomDataset.load(contentsOf: Fixtures.url("data/npz/tiny/custom_multilabel.npz"), split: .val)
        #expect(multilabel.task == .multiLabelBinary && multilabel.numClasses == 3 && multilabel.info == nil)
        expectMatches(multilabel.images, multilabel.labels, file: "custom_multilabel.npz", split: .val)
        let binary = try CustomDataset.load(contentsOf: Fixtures.url("data/npz/tiny/custom_binary.npz"), split: .train)
        #expect(binary.task == .binaryClass && binary.size == 32 && binary.flag == "custom_binary")
        let multiclass = try CustomDataset.load(contentsOf: Fixtures.url("data/npz/tiny/custom_multiclass.npz"), split: .test)
        #expect(multiclass.task == .multiClass && multiclass.images.layout == .rgb)
        let ordinal = try CustomDataset.load(contentsOf: Fixtures.url("data/npz/tiny/custom_multiclass.npz"), split: .test,
                                             task: .ordinalRegression)
        #expect(ordinal.task == .ordinalRegression)
        #expect(throws: DataFileError.self) {
            try CustomDataset.load(contentsOf: Fixtures.url("data/npz/tiny/custom_multiclass.npz"), split: .test, task: .binaryClass)
        }
        // 3D read explicitly.
        let volume = try CustomDataset.load(contentsOf: Fixtures.url("data/npz/tiny/organmnist3d.npz"), split: .val, dimensions: .three)
        #expect(volume.images.layout == .volume && volume.task == .multiClass)
    }

    /// Custom labels may be `(N,)` (found by the npz fuzz target's seeds: they were refused as "expected (N, 1)").
    @Test func customDataTakesOneDimensionalLabels() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.url.appendingPathComponent("flat.npz")
        var arrays: [(key: String, array: TypedArray)] = []
        for (split, n) in [("train", 4), ("val", 2), ("test", 2)] {
            arrays.append((split + "_images", TypedArray(uint8s: [UInt8](repeating: 7, count: n * 4 * 4), shape: [n, 4, 4])))
            arrays.append((split + "_labels", TypedArray(int64s: (0..<n).map { Int64($0 % 3) }, shape: [n])))
        }
        try Npz.write(arrays, to: url)
        let split = try CustomDataset.load(contentsOf: url, split: .train, cache: .off)
        #expect(split.labels == IndexTensor(shape: [4, 1], values: [0, 1, 2, 0]))
        #expect(split.task == .multiClass && split.numClasses == 3 && split.images.shape == [4, 4, 4])
    }

    @Test func fortranOrderedImagesAreReordered() throws {
        let split = try CustomDataset.load(contentsOf: Fixtures.url("data/npz/tiny/fortran_images.npz"), split: .train)
        expectMatches(split.images, split.labels, file: "fortran_images.npz", split: .train)
    }

    /// Every bad file is a typed error naming the file and key.
    @Test func badFilesAreTypedErrors() throws {
        let tiny = try TinyRoot([
            "missing_key.npz": "missing.npz", "float_images.npz": "float.npz", "label_out_of_range.npz": "range.npz",
            "wrong_image_shape.npz": "shape.npz", "label_count_mismatch.npz": "count.npz", "truncated.npz": "truncated.npz",
            "corrupt.npz": "corrupt.npz", "crc_mismatch.npz": "crc.npz",
        ])
        defer { tiny.remove() }
        let pneumonia = try TinyRoot.info("pneumoniamnist")
        func load(_ name: String, _ split: Split) throws {
            try FileManager.default.copyItem(at: tiny.folder.appendingPathComponent(name), to: tiny.folder.appendingPathComponent("pneumoniamnist.npz"))
            defer { try? FileManager.default.removeItem(at: tiny.folder.appendingPathComponent("pneumoniamnist.npz")) }
            _ = try tiny.root.load(pneumonia, split: split, cache: .off)
        }
        func expectError(_ name: String, _ split: Split, _ check: (DataFileError) -> Bool) {
            do {
                try load(name, split)
                Issue.record("\(name): expected an error")
            } catch let error as DataFileError {
                #expect(check(error), "\(name): \(error)")
                #expect(error.description.contains("pneumoniamnist.npz"), "\(error)")
            } catch {
                Issue.record("\(name): untyped error \(error)")
            }
        }
        expectError("missing.npz", .val) { if case .missingKey(_, "val_labels", let found) = $0 { found.count == 5 } else { false } }
        try load("missing.npz", .train)  // the other splits still load
        expectError("float.npz", .train) { if case .dtype(_, "train_images", .float32, _) = $0 { true } else { false } }
        expectError("range.npz", .test) { if case .labelOutOfRange(_, "test_labels", 2, 0, 2, 0...1) = $0 { true } else { false } }
        expectError("shape.npz", .val) { if case .shape(_, "val_images", [3, 28, 27], _) = $0 { true } else { false } }
        expectError("count.npz", .train) { if case .splitSize(_, "train_labels", 5, 6) = $0 { true } else { false } }
        expectError("truncated.npz", .train) { if case .archive = $0 { true } else { false } }
        expectError("corrupt.npz", .train) { if case .archive(_, "train_images", _) = $0 { true } else { false } }
        expectError("crc.npz", .train) { if case .archive(_, "train_images", let reason) = $0 { reason.contains("CRC") } else { false } }
        // Split sizes that disagree with the real catalog.
        let chest = try TinyRoot(["chestmnist.npz": "chestmnist.npz"])
        defer { chest.remove() }
        #expect(throws: DataFileError.self) { try chest.root.load("chestmnist", split: .train, cache: .off) }
        // Custom data: images and labels disagree.
        do {
            _ = try CustomDataset.load(contentsOf: tiny.folder.appendingPathComponent("count.npz"), split: .train)
            Issue.record("expected a count mismatch")
        } catch let error as DataFileError {
            guard case .countMismatch(_, "train_images", 6, "train_labels", 5) = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func missingFilesUnknownFlagsAndSizes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.url
        do {
            _ = try DatasetRoot(folder).load("pathmnist", size: 64, split: .train)
            Issue.record("expected a missing file")
        } catch let error as DataFileError {
            #expect(error.description.contains("pathmnist_64.npz"))
            #expect(error.description.contains("https://zenodo.org/records/10519652/files/pathmnist_64.npz?download=1"))
        }
        #expect(throws: CatalogError.self) { try DatasetRoot(folder).load("pathmnist", size: 32, split: .train) }
        #expect(throws: CatalogError.self) { try DatasetRoot(folder).load("organmnist3d", size: 128, split: .train) }
        #expect(throws: CatalogError.self) { try DatasetRoot(folder).load("nosuchmnist", split: .train) }
    }

    @Test func rootFromArgumentEnvironmentOrDefault() {
        #expect(DatasetRoot(URL(fileURLWithPath: "/data/medmnist")).url.path == "/data/medmnist")
        #expect(DatasetRoot(path: "~/x").url.path == FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent("x").path)
        if ProcessInfo.processInfo.environment["MEDMNIST_ROOT"] == nil {
            #expect(DatasetRoot().url.path == FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".medmnist").path)
        }
        #expect(DatasetRoot(URL(fileURLWithPath: "/r")).cacheDirectory.path == "/r/.cache")
    }

    @Test func md5OnRequest() throws {
        let root = DatasetRoot(Fixtures.url("data/npz"))
        let catalog = try MedMNISTCatalog.info("breastmnist").file(size: 28)
        // The fixture is not the published file, so the catalog's MD5 must not match.
        #expect(throws: DataFileError.self) { try root.verify(catalog) }
        let md5 = (Self.meta["breastmnist"] as! [String: Any])["md5"] as! String
        try root.verify(DatasetFile(flag: "breastmnist", size: 28, fileName: "breastmnist.npz", url: catalog.url, md5: md5))
    }
}

@Suite struct CacheTests {
    @Test func cacheIsBuiltMappedReusedAndInvalidated() throws {
        let tiny = try TinyRoot(["bloodmnist_64.npz": "bloodmnist_64.npz"])
        defer { tiny.remove() }
        let info = try TinyRoot.info("bloodmnist")
        let memory = try tiny.root.load(info, size: 64, split: .train, cache: .off)
        // Without a cache, .automatic decodes into memory and writes nothing.
        let automatic = try tiny.root.load(info, size: 64, split: .train)
        #expect(!automatic.isMemoryMapped)
        #expect(!FileManager.default.fileExists(atPath: tiny.root.cacheDirectory.path))
        let built = try tiny.root.load(info, size: 64, split: .train, cache: .readWrite)
        #expect(built.isMemoryMapped)
        let files = try FileManager.default.contentsOfDirectory(atPath: tiny.root.cacheDirectory.path).sorted()
        #expect(files == ["bloodmnist_64-train.json", "bloodmnist_64-train.labels.npy", "bloodmnist_64-train.u8"])
        // The cached .u8 is the images' .npy member itself.
        let u8 = try Npy.read(contentsOf: tiny.root.cacheDirectory.appendingPathComponent("bloodmnist_64-train.u8"))
        #expect(u8.shape == [6, 64, 64, 3])
        let reopened = try tiny.root.load(info, size: 64, split: .train)
        #expect(reopened.isMemoryMapped)
        for split in [memory, built, reopened] {
            #expect(split.labels == memory.labels)
            #expect(split.images.withUnsafeBytes { Array($0) } == memory.images.withUnsafeBytes { Array($0) })
        }
        // A changed npz makes the cache stale.
        let npz = tiny.folder.appendingPathComponent("bloodmnist_64.npz")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: npz.path)
        #expect(!(try tiny.root.load(info, size: 64, split: .train)).isMemoryMapped)
        #expect(try tiny.root.load(info, size: 64, split: .train, cache: .readWrite).isMemoryMapped)
        // A damaged header is ignored.
        try Data("{".utf8).write(to: tiny.root.cacheDirectory.appendingPathComponent("bloodmnist_64-train.json"))
        #expect(!(try tiny.root.load(info, size: 64, split: .train)).isMemoryMapped)
        // With the npz gone, a valid cache still serves.
        _ = try tiny.root.load(info, size: 64, split: .train, cache: .readWrite)
        try FileManager.default.removeItem(at: npz)
        let orphan = try tiny.root.load(info, size: 64, split: .train)
        #expect(orphan.isMemoryMapped && orphan.labels == memory.labels)
    }

    @Test func transformsReadMappedImages() throws {
        let tiny = try TinyRoot(["organmnist3d.npz": "organmnist3d.npz"])
        defer { tiny.remove() }
        let info = try TinyRoot.info("organmnist3d")
        let mapped = try tiny.root.load(info, split: .val, cache: .readWrite)
        let memory = try tiny.root.load(info, split: .val, cache: .off)
        #expect(mapped.isMemoryMapped)
        let t = ImageTransform(normalization: .half)
        #expect(t.apply(mapped.images).scalars == t.apply(memory.images).scalars)
    }
}

@Suite struct FuzzTests {
    /// Thousands of mutated npz files through the whole loader: each either loads or throws a typed error;
    /// nothing crashes, nothing hangs.
    @Test func mutatedFilesNeverCrashOrHang() throws {
        let sources = try ["chestmnist.npz", "pneumoniamnist_stored.npz"].map { try [UInt8](Data(contentsOf: Fixtures.url("data/npz/tiny/\($0)"))) }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.url
        let root = DatasetRoot(folder)
        let info = try TinyRoot.info("pneumoniamnist")
        let target = root.url(flag: "pneumoniamnist", size: 28)
        var generator = RandomGenerator(seed: 2024)
        var outcomes = [String: Int]()
        let start = Date()
        let rounds = 2400
        let savedThreshold = NpzFile.streamingThreshold
        defer { NpzFile.streamingThreshold = savedThreshold }
        for round in 0..<rounds {
            // Every other round through the streaming extraction path.
            NpzFile.streamingThreshold = round % 4 < 2 ? savedThreshold : 0
            var bytes = sources[round % 2]
            switch generator.nextInt(below: 4) {
            case 0:  // flip a few random bytes anywhere
                for _ in 0..<(1 + generator.nextInt(below: 4)) {
                    bytes[generator.nextInt(below: bytes.count)] ^= UInt8(1 + generator.nextInt(below: 255))
                }
            case 1:  // hit the headers and the central directory at the end
                let region = generator.nextInt(below: 2) == 0 ? 0..<min(200, bytes.count) : max(0, bytes.count - 600)..<bytes.count
                for _ in 0..<(1 + generator.nextInt(below: 3)) {
                    bytes[region.lowerBound + generator.nextInt(below: region.count)] = UInt8(generator.nextInt(below: 256))
                }
            case 2:  // truncate
                bytes = Array(bytes.prefix(generator.nextInt(below: bytes.count)))
            default:  // duplicate or drop a span
                let a = generator.nextInt(below: bytes.count), length = generator.nextInt(below: 64)
                let span = Array(bytes[a..<min(bytes.count, a + length)])
                if generator.nextInt(below: 2) == 0 { bytes.insert(contentsOf: span, at: generator.nextInt(below: bytes.count)) }
                else { bytes.removeSubrange(a..<min(bytes.count, a + length)) }
            }
            try Data(bytes).write(to: target)
            let split = Split.allCases[round % 3]
            do {
                let loaded = try root.load(info, split: split, cache: .off)
                #expect(loaded.count == info.splitSizes[split])
                outcomes["loaded", default: 0] += 1
            } catch let error as DataFileError {
                let kind = "\(error)".prefix(while: { $0 != ":" })
                _ = kind
                outcomes[String(describing: error).contains("CRC") ? "crc" : "error", default: 0] += 1
            } catch {
                Issue.record("round \(round): untyped error \(error)")
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(outcomes.values.reduce(0, +) == rounds)
        #expect(outcomes["error", default: 0] + outcomes["crc", default: 0] > rounds / 2, "\(outcomes)")
        #expect(elapsed < 120, "fuzzing took \(elapsed) s")
    }
}

@Suite(.serialized) struct StreamingExtractionTests {
    /// Large members take a different path (own mapping, pages released, CRC after); force it on the small
    /// fixtures and check it gives the same arrays and the same errors.
    @Test func streamingPathMatchesTheArchivePath() throws {
        let saved = NpzFile.streamingThreshold
        defer { NpzFile.streamingThreshold = saved }
        let files = ["bloodmnist_64.npz", "chestmnist.npz", "pneumoniamnist_stored.npz", "organmnist3d.npz"]
        for file in files {
            let url = Fixtures.url("data/npz/tiny/\(file)")
            for split in Split.allCases {
                NpzFile.streamingThreshold = saved
                let archive = try CustomDataset.load(contentsOf: url, split: split, dimensions: file.hasPrefix("organ") ? .three : nil, cache: .off)
                NpzFile.streamingThreshold = 0
                let streamed = try CustomDataset.load(contentsOf: url, split: split, dimensions: file.hasPrefix("organ") ? .three : nil, cache: .off)
                #expect(streamed.labels == archive.labels)
                #expect(streamed.images.withUnsafeBytes { Array($0) } == archive.images.withUnsafeBytes { Array($0) }, "\(file) \(split)")
            }
        }
        NpzFile.streamingThreshold = 0
        for (file, needle) in [("crc_mismatch.npz", "CRC"), ("corrupt.npz", ""), ("truncated.npz", "")] {
            do {
                _ = try CustomDataset.load(contentsOf: Fixtures.url("data/npz/tiny/\(file)"), split: .train, cache: .off)
                Issue.record("\(file): expected an error")
            } catch let error as DataFileError {
                guard case .archive(_, _, let reason) = error else { Issue.record("\(file): \(error)"); continue }
                #expect(needle.isEmpty || reason.contains(needle), "\(reason)")
            }
        }
        // Building a cache through the streaming path.
        let tiny = try TinyRoot(["bloodmnist_64.npz": "bloodmnist_64.npz"])
        defer { tiny.remove() }
        let info = try TinyRoot.info("bloodmnist")
        let cached = try tiny.root.load(info, size: 64, split: .test, cache: .readWrite)
        NpzFile.streamingThreshold = saved
        let memory = try tiny.root.load(info, size: 64, split: .test, cache: .off)
        #expect(cached.isMemoryMapped && cached.images.withUnsafeBytes { Array($0) } == memory.images.withUnsafeBytes { Array($0) })
    }

    @Test func automaticModeCachesSplitsLargerThanHalfTheMemory() {
        #expect(!SplitLoader.exceedsMemoryBudget(1 << 20))
        #expect(SplitLoader.exceedsMemoryBudget(Int(ProcessInfo.processInfo.physicalMemory / 2) + 1))
    }
}
