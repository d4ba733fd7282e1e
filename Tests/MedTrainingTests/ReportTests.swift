import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import MedIO
import MedTestSupport
@testable import MedTraining
import Testing

/// `medmnist report`'s library half: scanning, aggregation, the average rule, missing cells, the paper
/// comparison, CSV/JSON shapes and the SVG charts.
@Suite struct ReportTests {
    typealias F = ReportFixtures
    static let seeds = GridSelection.paperSeeds

    /// Two sets × two sizes × one model, end-to-end with three seeds and kNN with one.
    static func smallGrid() -> [GridRecord] {
        var records: [GridRecord] = []
        // bloodmnist 28 end-to-end ACC 80, 82, 87 %: mean 83, population std √(26/3) (checked below).
        for (i, seed) in seeds.enumerated() {
            records.append(F.record("bloodmnist", 28, "vgg16", .endToEnd, seed: seed, acc: [0.80, 0.82, 0.87][i],
                                    auc: [0.90, 0.92, 0.94][i], seconds: 100))
            records.append(F.record("breastmnist", 28, "vgg16", .endToEnd, seed: seed, acc: [0.70, 0.70, 0.76][i],
                                    auc: [0.80, 0.84, 0.88][i], seconds: 20))
        }
        for (seed, acc) in zip(seeds, [0.90, 0.92, 0.94]) {
            records.append(F.record("bloodmnist", 64, "vgg16", .endToEnd, seed: seed, acc: acc, auc: 0.97, seconds: 300))
        }
        // breastmnist 64 end-to-end is missing.
        records.append(F.record("bloodmnist", 28, "vgg16", .knn, seed: seeds[0], acc: 0.7000, auc: 0.85, seconds: 5))
        records.append(F.record("breastmnist", 28, "vgg16", .knn, seed: seeds[0], acc: 0.8000, auc: 0.75, seconds: 3))
        return records
    }

    @Test func meanAndStdOverSeedsByHand() throws {
        let table = ReportTable(Self.smallGrid())
        #expect(table.datasets == ["bloodmnist", "breastmnist"])
        #expect(table.sizes == [28, 64])
        #expect(table.schemes == [.endToEnd, .knn])
        let blood = try #require(table.entry(scheme: .endToEnd, model: "vgg16", size: 28, dataset: "bloodmnist"))
        // ACC 80, 82, 87: mean 83; squared deviations 9 + 1 + 16 = 26; ddof 0: √(26/3) = 2.9439…
        #expect(abs(blood.acc.mean - 83) < 1e-9)
        #expect(abs(blood.acc.std! - (26.0 / 3).squareRoot()) < 1e-9)
        #expect(abs(blood.auc.mean - 92) < 1e-9)
        #expect(abs(blood.auc.std! - (8.0 / 3).squareRoot()) < 1e-9)
        #expect(blood.seeds == Self.seeds.sorted())
        #expect(blood.seconds == 100)
        // ddof 1: √(26/2) = 3.6056…
        let sample = ReportTable(Self.smallGrid(), ddof: 1)
        #expect(abs(sample.entry(scheme: .endToEnd, model: "vgg16", size: 28, dataset: "bloodmnist")!.acc.std! - 13.0.squareRoot()) < 1e-9)
        // One seed: std 0 with ddof 0, undefined with ddof 1.
        #expect(table.entry(scheme: .knn, model: "vgg16", size: 28, dataset: "bloodmnist")!.acc.std == 0)
        #expect(sample.entry(scheme: .knn, model: "vgg16", size: 28, dataset: "bloodmnist")!.acc.std == nil)
    }

    @Test func averageIsMeanOfMeansAndMeanOfStds() throws {
        let table = ReportTable(Self.smallGrid())
        let average = try #require(table.average(scheme: .endToEnd, model: "vgg16", size: 28))
        // breast ACC 70, 70, 76: mean 72, std √(4+4+16)/3 = √8. Average: (83 + 72)/2 = 77.5 ± (√(26/3) + √8)/2.
        #expect(average.isComplete)
        #expect(abs(average.accMean - 77.5) < 1e-9)
        #expect(abs(average.accStd! - ((26.0 / 3).squareRoot() + 8.0.squareRoot()) / 2) < 1e-9)
        #expect(abs(average.aucMean - 88) < 1e-9)
        #expect(average.seconds == 60)
        // 64 px: breastmnist missing, so the average is partial over one set.
        let partial = try #require(table.average(scheme: .endToEnd, model: "vgg16", size: 64))
        #expect(!partial.isComplete)
        #expect(partial.datasets == 1 && partial.expectedDatasets == 2)
        #expect(abs(partial.accMean - 92) < 1e-9)
        #expect(table.average(scheme: .knn, model: "vgg16", size: 64) == nil)
        // kNN: one seed per set, no spread, so no "±" in the average (as the paper's kNN table).
        let knn = try #require(table.average(scheme: .knn, model: "vgg16", size: 28))
        #expect(abs(knn.accMean - 75) < 1e-9 && knn.accStd == nil && knn.aucStd == nil)
    }

    @Test func missingCellsAreMissingNotZero() throws {
        let report = ResultsReport(ReportTable(Self.smallGrid()))
        let rows = report.datasetRows
        // 2 schemes × 1 model × 2 sizes × 2 sets.
        #expect(rows.count == 8)
        let missing = rows.filter(\.isMissing)
        #expect(Set(missing.map { "\($0.scheme.rawValue) \($0.size) \($0.dataset)" })
            == ["end-to-end 64 breastmnist", "knn 64 bloodmnist", "knn 64 breastmnist"])
        #expect(missing.allSatisfy { $0.seeds == 0 && $0.aucMean == nil && $0.seconds == nil })
        let markdown = report.markdown()
        #expect(markdown.contains("| vgg16 | 83.00±2.94 | 92.00±1.63 | 92.00±1.63 | 97.00±0.00 |"))
        #expect(markdown.contains("| vgg16 | 72.00±2.83 | — | 84.00±3.27 | — |"))
        #expect(markdown.contains("| vgg16 | 77.50±2.89 | 92.00±1.63 (1/2 sets) | 88.00±2.45 | 97.00±0.00 (1/2 sets) |"))
        // kNN: one seed, no ±.
        #expect(markdown.contains("| vgg16 | 75.00 | — | 80.00 | — |"))
        #expect(markdown.contains("| vgg16 | 70.00 | — | 85.00 | — |"))
    }

    @Test func fewerSeedsThanTheSchemeAreMarked() {
        var records = Self.smallGrid()
        records.removeAll { $0.cell.dataset == "breastmnist" && $0.cell.scheme == .endToEnd && $0.cell.seed != Self.seeds[0] }
        let markdown = ResultsReport(ReportTable(records)).markdown()
        #expect(markdown.contains("| vgg16 | 70.00 (1/3 seeds) | — |"))
        // The one-seed set has no spread: the average's "±" is bloodmnist's std alone; the mean is over both.
        #expect(markdown.contains("| vgg16 | 76.50±2.94 | 92.00±1.63 (1/2 sets) |"))
    }

    @Test func scanSkipsErrorRecordsLocksTemporariesAndFailures() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let records = Self.smallGrid()
        for record in records { try F.write(record, under: directory.url) }
        let failedCell = GridCell(dataset: "breastmnist", size: 64, model: "vgg16", scheme: .endToEnd, seed: Self.seeds[0])
        try F.write(F.failed(failedCell), under: directory.url, asError: true)
        // A failed record under a result name counts as missing too.
        let other = GridCell(dataset: "breastmnist", size: 64, model: "vgg16", scheme: .endToEnd, seed: Self.seeds[1])
        try F.write(F.failed(other), under: directory.url)
        try AtomicFile.write("host 1234", to: directory.appending(failedCell.lockPath))
        try AtomicFile.write("{partial", to: directory.appending("bloodmnist/28/vgg16/.end-to-end-s1.json.tmp-host-99-ab"))
        // A cell's run folder (kept, or left by an interrupted cell) holds the run's metrics.json, not a record.
        let runFolder = directory.appending("bloodmnist/28/vgg16/end-to-end-s\(Self.seeds[0]).run")
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        try AtomicFile.write(try records[0].result!.json(), to: runFolder.appendingPathComponent("metrics.json"))
        let scanned = try ResultScan.scan([directory.url])
        #expect(scanned.count == records.count)
        #expect(Set(scanned.map(\.record.cell)) == Set(records.map(\.cell)))
        #expect(scanned.allSatisfy { records.contains($0.record) })
    }

    @Test func scanErrorsNameTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(throws: ReportError.noSuchFolder(directory.appending("nope").path)) {
            try ResultScan.scan([directory.appending("nope")])
        }
        #expect(throws: ReportError.noRecords([directory.url.path])) { try ResultScan.scan([directory.url]) }
        let bad = directory.appending("bloodmnist/28/vgg16/end-to-end-s1.json")
        try FileManager.default.createDirectory(at: bad.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write("{\"cell\": 3}", to: bad)
        do {
            _ = try ResultScan.scan([directory.url])
            Issue.record("a malformed record was accepted")
        } catch let error as ReportError {
            guard case .malformedRecord(let path, _) = error else { Issue.record("\(error)"); return }
            #expect(path.hasSuffix("bloodmnist/28/vgg16/end-to-end-s1.json"))
            #expect(error.description.contains("end-to-end-s1.json: not a grid result record"))
        }
        try AtomicFile.write("not json", to: bad)
        #expect(throws: ReportError.self) { try ResultScan.scan([directory.url]) }
    }

    @Test func duplicateCellsAcrossFoldersNameBothFiles() throws {
        let a = try TemporaryDirectory(), b = try TemporaryDirectory()
        defer { a.remove(); b.remove() }
        let record = Self.smallGrid()[0]
        let first = try F.write(record, under: a.url)
        let second = try F.write(record, under: b.url)
        do {
            _ = try ResultScan.scan([a.url, b.url])
            Issue.record("a duplicate cell was accepted")
        } catch let error as ReportError {
            #expect(error == .duplicateCell(cell: record.cell.description, first: first.path, second: second.path))
        }
        // Different cells in two folders merge.
        try F.write(Self.smallGrid()[1], under: b.url)
        try FileManager.default.removeItem(at: second)
        #expect(try ResultScan.scan([a.url, b.url]).count == 2)
    }

    @Test func scanLeavesTheOutputFolderOut() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try F.write(Self.smallGrid()[0], under: directory.url)
        let output = directory.appending("report")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try AtomicFile.write("{\"ddof\": 0}", to: output.appendingPathComponent("report.json"))
        #expect(try ResultScan.scan([directory.url], excluding: output).count == 1)
        #expect(throws: ReportError.self) { try ResultScan.scan([directory.url]) }
    }

    @Test func paperComparisonPerDataset() throws {
        // VGG16 end-to-end bloodmnist 28 is published (94.85±0.47, AUC 99.66±0.06); kNN bloodmnist 28: 71.76.
        let records = [
            F.record("bloodmnist", 28, "vgg16", .endToEnd, seed: Self.seeds[0], acc: 0.95, auc: 0.99),
            F.record("bloodmnist", 28, "vgg16", .endToEnd, seed: Self.seeds[1], acc: 0.94, auc: 0.995),
            F.record("bloodmnist", 28, "vgg16", .knn, seed: Self.seeds[0], acc: 0.72, auc: 0.9),
            F.record("bloodmnist", 28, "my_model", .knn, seed: Self.seeds[0], acc: 0.5, auc: 0.5),
        ]
        let report = ResultsReport(ReportTable(records), paper: true)
        let rows = report.datasetRows
        let e2e = try #require(rows.first { $0.scheme == .endToEnd && $0.model == "vgg16" })
        #expect(e2e.paper == PaperResults.Number(acc: 94.85, accStd: 0.47, auc: 99.66, aucStd: 0.06))
        #expect(abs(e2e.accDifference! - (94.5 - 94.85)) < 1e-9)
        #expect(abs(e2e.aucDifference! - (99.25 - 99.66)) < 1e-9)
        let knn = try #require(rows.first { $0.scheme == .knn && $0.model == "vgg16" })
        #expect(abs(knn.accDifference! - 0.24) < 1e-9)
        #expect(knn.aucDifference == nil)
        #expect(rows.first { $0.model == "my_model" && $0.scheme == .knn }!.paper == nil)
        let markdown = report.markdown()
        #expect(markdown.contains("| vgg16 | 94.50±0.50 [94.85, −0.35] | 99.25±0.25 [99.66, −0.41] |"))
        #expect(markdown.contains("| vgg16 | 72.00 [71.76, +0.24] | 90.00 |"))
        // One dataset is not the paper's twelve: the averages are not compared.
        #expect(report.averageRows.allSatisfy { $0.paper == nil && $0.accDifference == nil })
        #expect(markdown.contains("so the averages are not compared"))
    }

    @Test func paperComparisonOfAveragesNeedsAllTwelveSets() throws {
        let datasets = GridSelection.paper.datasets
        #expect(datasets.count == 12)
        var records: [GridRecord] = []
        for dataset in datasets {
            records.append(F.record(dataset, 28, "resnet18", .linearProbe, seed: Self.seeds[0], acc: 0.60, auc: 0.80))
            records.append(F.record(dataset, 28, "resnet18", .linearProbe, seed: Self.seeds[1], acc: 0.62, auc: 0.84))
        }
        let report = ResultsReport(ReportTable(records), paper: true)
        #expect(report.comparesAveragesWithPaper)
        let average = try #require(report.averageRows.first)
        // ResNet-18 linear probe 28 px: 64.41±0.05, AUC 82.95±0.18.
        #expect(average.paper == PaperResults.Number(acc: 64.41, accStd: 0.05, auc: 82.95, aucStd: 0.18))
        #expect(abs(average.accDifference! - (61 - 64.41)) < 1e-9)
        #expect(abs(average.aucDifference! - (82 - 82.95)) < 1e-9)
        #expect(report.markdown().contains("| resnet18 | 61.00±1.00 [64.41, −3.41] | 82.00±2.00 [82.95, −0.95] |"))
        // Drop one set: the average is partial and no longer compared, though the paper number is shown.
        let partial = ResultsReport(ReportTable(records.filter { $0.cell.dataset != "tissuemnist" } + [
            F.record("tissuemnist", 64, "resnet18", .linearProbe, seed: Self.seeds[0], acc: 0.5, auc: 0.5)]), paper: true)
        let row = try #require(partial.averageRows.first { $0.size == 28 })
        #expect(row.datasets == 11 && row.expectedDatasets == 12)
        #expect(row.paper != nil && row.accDifference == nil)
        #expect(partial.markdown().contains("| resnet18 | 61.00±1.00 (11/12 sets) [64.41] |"))
    }

    @Test func csvShape() throws {
        let csv = ResultsReport(ReportTable(Self.smallGrid())).csv()
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "")
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(header == ["level", "dataset", "scheme", "model", "size", "seeds", "acc_mean", "acc_std", "auc_mean", "auc_std",
                           "seconds", "datasets", "expected_datasets"])
        let rows = lines.dropFirst().dropLast().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == 8 + 4)
        #expect(rows.allSatisfy { $0.count == header.count })
        #expect(rows.contains(["dataset", "bloodmnist", "end-to-end", "vgg16", "28", "3", "83.0000", "2.9439", "92.0000", "1.6330",
                               "100.000", "", ""]))
        #expect(rows.contains(["dataset", "breastmnist", "end-to-end", "vgg16", "64", "0", "", "", "", "", "", "", ""]))
        #expect(rows.contains(["average", "average", "end-to-end", "vgg16", "64", "1", "92.0000", "1.6330", "97.0000", "0.0000",
                               "300.000", "1", "2"]))
        let paper = ResultsReport(ReportTable(Self.smallGrid()), paper: true).csv()
        let paperHeader = paper.split(separator: "\n")[0].split(separator: ",").map(String.init)
        #expect(paperHeader.suffix(6) == ["paper_acc", "paper_acc_std", "paper_auc", "paper_auc_std", "acc_diff", "auc_diff"])
        #expect(paper.contains("dataset,bloodmnist,end-to-end,vgg16,28,3,83.0000,2.9439,92.0000,1.6330,100.000,,,94.8500,0.4700,99.6600,0.0600,-11.8500,-7.6600"))
    }

    @Test func jsonShape() throws {
        let data = try ResultsReport(ReportTable(Self.smallGrid()), wilcoxon: true, sources: ["results"]).json()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["ddof"] as? Int == 0)
        #expect(object["records"] as? Int == 11)
        #expect(object["datasets"] as? [String] == ["bloodmnist", "breastmnist"])
        #expect(object["schemes"] as? [String] == ["end-to-end", "knn"])
        #expect(object["sources"] as? [String] == ["results"])
        let cells = try #require(object["cells"] as? [[String: Any]])
        #expect(cells.count == 8)
        let keys: Set<String> = ["level", "dataset", "scheme", "model", "size", "seeds", "acc_mean", "acc_std", "auc_mean", "auc_std",
                                 "seconds", "datasets", "expected_datasets", "paper_acc", "paper_acc_std", "paper_auc",
                                 "paper_auc_std", "acc_diff", "auc_diff"]
        #expect(cells.allSatisfy { Set($0.keys) == keys })
        let missing = try #require(cells.first { $0["dataset"] as? String == "breastmnist" && $0["size"] as? Int == 64
                                              && $0["scheme"] as? String == "end-to-end" })
        #expect(missing["acc_mean"] is NSNull)
        #expect(missing["seeds"] as? Int == 0)
        let present = try #require(cells.first { $0["dataset"] as? String == "bloodmnist" && $0["size"] as? Int == 28
                                              && $0["scheme"] as? String == "end-to-end" })
        #expect(abs((present["acc_mean"] as! Double) - 83) < 1e-9)
        #expect((object["averages"] as? [[String: Any]])?.count == 4)
        let wilcoxon = try #require(object["wilcoxon"] as? [String: Any])
        #expect((wilcoxon["acc"] as? [Any])?.isEmpty == true)  // one model: no pairs
    }

    @Test func chartsAreWellFormedSVG() throws {
        var records = Self.smallGrid()
        records.append(F.record("bloodmnist", 28, "resnet18 <&>", .endToEnd, seed: 1, acc: 0.5, auc: 0.6))
        let charts = ResultsReport(ReportTable(records)).charts()
        #expect(Set(charts.keys) == ["acc-end-to-end.svg", "auc-end-to-end.svg", "acc-knn.svg", "auc-knn.svg", "cost.svg"])
        for (name, svg) in charts {
            let checker = SVGChecker()
            let parser = XMLParser(data: Data(svg.utf8))
            parser.delegate = checker
            #expect(parser.parse(), "\(name): \(parser.parserError.map { "\($0)" } ?? "")")
            #expect(checker.root == "svg", "\(name)")
            #expect(checker.texts.contains { $0.hasPrefix("Test ") || $0.hasPrefix("Cost") }, "\(name)")
            #expect(checker.texts.contains("28") && checker.texts.contains("64"), "\(name): x ticks")
            #expect(checker.texts.contains("vgg16"), "\(name): legend")
            #expect(checker.texts.contains("resnet18 <&>"), "\(name): escaped legend")
            #expect(checker.elements["polyline", default: 0] + checker.elements["circle", default: 0] > 0, "\(name)")
        }
        let acc = charts["acc-end-to-end.svg"]!
        #expect(acc.contains("Input resolution (pixels, log scale)"))
        #expect(acc.contains("Test ACC (%)"))
        // vgg16 at 64 px and the extra model at 28 px miss a dataset.
        #expect(acc.contains("2 partial averages (a dataset missing) not drawn"))
        #expect(charts["cost.svg"]!.contains("Seconds per cell (log scale)"))
    }

    @Test func committedRecordTemplateIsAGridRecord() throws {
        // make_sample_results.py writes records in this shape; if GridRecord changes, regenerate the template.
        let record = try GridRecord.read(Fixtures.url("report/record-template.json"))
        #expect(record.cell == GridCell(dataset: "bloodmnist", size: 28, model: "vgg16", scheme: .endToEnd, seed: 9_930_641))
        #expect(record.result?.test.acc == 0.9485)
    }

    @Test func niceTicks() {
        #expect(SVGLineChart.linearTicks([72, 88]) == [70, 75, 80, 85, 90])
        #expect(SVGLineChart.linearTicks([93.2, 94.1]) == [93, 93.2, 93.4, 93.6, 93.8, 94, 94.2])
        #expect(SVGLineChart.linearTicks([50, 50]).count >= 2)
        #expect(SVGLineChart.logTicks([3, 300]) == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])
    }
}

/// Collects what an SVG holds, for the well-formedness test.
final class SVGChecker: NSObject, XMLParserDelegate, @unchecked Sendable {
    var root: String?
    var elements: [String: Int] = [:]
    var texts: [String] = []
    private var text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        elements[name, default: 0] += 1
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(text) }
        text = ""
    }
}
