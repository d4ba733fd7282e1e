import Foundation
import MedIO
import MedTestSupport
import Testing
@testable import MedMNISTData

@Suite struct CatalogTests {
    @Test func eighteenSetsTwelveTwoDSixThreeD() {
        #expect(MedMNISTCatalog.all.count == 18)
        #expect(MedMNISTCatalog.twoDimensional.count == 12)
        #expect(MedMNISTCatalog.threeDimensional.count == 6)
        #expect(Set(MedMNISTCatalog.all.map(\.flag)).count == 18)
    }

    /// Every field against a JSON dump of medmnist 3.0.2's INFO (which MEDMNIST.md §2.2–2.4 transcribes).
    @Test func everyFieldMatchesThePackagesINFO() throws {
        let dump = try Fixtures.json("data/info.json")
        #expect(dump["version"] as? String == "3.0.2")
        let info = dump["INFO"] as! [String: [String: Any]]
        #expect(Set(info.keys) == Set(MedMNISTCatalog.all.map(\.flag)))
        for (flag, fields) in info {
            let entry = try MedMNISTCatalog.info(flag)
            #expect(entry.pythonClass == fields["python_class"] as? String, "\(flag)")
            #expect(entry.task.rawValue == fields["task"] as? String, "\(flag)")
            #expect(entry.channels == fields["n_channels"] as? Int, "\(flag)")
            #expect(entry.license == fields["license"] as? String, "\(flag)")
            let labels = fields["label"] as! [String: String]
            #expect(entry.labels == (0..<labels.count).map { labels[String($0)]! }, "\(flag)")
            let n = fields["n_samples"] as! [String: Int]
            #expect(entry.splitSizes == SplitSizes(train: n["train"]!, val: n["val"]!, test: n["test"]!), "\(flag)")
            for size in [28, 64, 128, 224] {
                let suffix = size == 28 ? "" : "_\(size)"
                let url = fields["url" + suffix] as? String, md5 = fields["MD5" + suffix] as? String
                if let url, let md5 {
                    let file = try entry.file(size: size)
                    #expect(file.url.absoluteString == url, "\(flag) \(size)")
                    #expect(file.md5 == md5, "\(flag) \(size)")
                } else {
                    #expect(throws: CatalogError.self) { try entry.file(size: size) }
                }
            }
        }
    }

    /// Spot checks transcribed by hand from MEDMNIST.md §2.
    @Test func spotChecksFromTheDoc() throws {
        let path = try MedMNISTCatalog.info("pathmnist")
        #expect(path.splitSizes == SplitSizes(train: 89996, val: 10004, test: 7180))
        #expect(path.channels == 3 && path.numClasses == 9 && path.task == .multiClass)
        #expect(try path.file(size: 224).md5 == "2c51a510bcdc9cf8ddb2af93af1eadec")
        #expect(try path.file(size: 64).fileName == "pathmnist_64.npz")
        #expect(try path.file(size: 28).url.absoluteString == "https://zenodo.org/records/10519652/files/pathmnist.npz?download=1")
        let chest = try MedMNISTCatalog.info("chestmnist")
        #expect(chest.task.rawValue == "multi-label, binary-class" && chest.labelColumns == 14 && chest.labels[13] == "hernia")
        #expect(try MedMNISTCatalog.info("dermamnist").license == "CC BY-NC 4.0")
        #expect(try MedMNISTCatalog.info("retinamnist").task == .ordinalRegression)
        #expect(try MedMNISTCatalog.info("tissuemnist").splitSizes.test == 47280)
        #expect(try MedMNISTCatalog.info("breastmnist").labels == ["malignant", "normal, benign"])
        let organ3d = try MedMNISTCatalog.info("organmnist3d")
        #expect(organ3d.dimensions == .three && organ3d.availableSizes == [28, 64])
        #expect(organ3d.labels.first == "liver" && organ3d.sampleShape(size: 64) == [64, 64, 64])
        #expect(try organ3d.file(size: 64).md5 == "58a2205adf14a9d0a189cb06dc78bf10")
        #expect(try MedMNISTCatalog.info("synapsemnist3d").file(size: 28).md5 == "1235b78a3cd6280881dd7850a78eadb6")
        #expect(try MedMNISTCatalog.info("organamnist").labels[0] == "bladder")
        #expect(try MedMNISTCatalog.info("bloodmnist").sampleShape(size: 128) == [128, 128, 3])
    }

    @Test func lookupIsForgivingButUnknownFlagsFailClearly() throws {
        #expect(try MedMNISTCatalog.info("PathMNIST").flag == "pathmnist")
        #expect(try MedMNISTCatalog.info("OrganMNIST3D").flag == "organmnist3d")
        #expect(try MedMNISTCatalog.info("blood").flag == "bloodmnist")
        #expect(throws: CatalogError.unknownFlag("pathmnst", suggestion: "pathmnist")) { try MedMNISTCatalog.info("pathmnst") }
        #expect(throws: CatalogError.unavailableSize(flag: "nodulemnist3d", size: 128, available: [28, 64])) {
            try MedMNISTCatalog.info("nodulemnist3d").file(size: 128)
        }
        #expect(MedMNISTTask(parsing: "multi-class") == .multiClass)
        #expect(MedMNISTTask(parsing: "binaryClass") == .binaryClass)
        #expect(Split(parsing: "validation") == .val)
    }
}
