import Foundation
import MedIO
import MedMNISTCommands
import MedMNISTData
import MedTestSupport
@testable import MedTraining
import Testing

/// `medmnist report` in-process: outputs, flags, and the exit statuses of bad input.
@Suite struct ReportCommandTests {
    static let seeds = GridSelection.paperSeeds

    /// A made-up successful record (these numbers did not come from a run).
    static func record(_ dataset: String, _ size: Int, _ model: String, _ scheme: ExperimentScheme, seed: Int, acc: Double) -> GridRecord {
        var phases = PhaseSeconds()
        phases.total = 2
        let result = ExperimentResult(
            specification: ExperimentSpecification(model: model, data: .catalog(flag: dataset, size: size), scheme: scheme),
            test: SplitMetrics(Metrics(auc: acc + 0.1, acc: acc), samples: 10), val: SplitMetrics(Metrics(auc: 0.5, acc: 0.5), samples: 5),
            bestEpoch: nil, epochsRun: 1, stoppedEarly: false, trainImagesPerSecond: nil, seconds: phases, architecture: model,
            task: .binaryClass, numClasses: 2, featureCache: [:], notes: [], libraryVersion: MedMNISTLibrary.version, history: [])
        return GridRecord(cell: GridCell(dataset: dataset, size: size, model: model, scheme: scheme, seed: seed), status: .ok,
                          result: result, error: nil, seconds: 2, peakRSSBytes: nil,
                          machine: MachineDescription(host: "test", processor: nil, cores: 1, threads: 1, system: "test"),
                          libraryVersion: MedMNISTLibrary.version, gitRevision: nil, started: "2025-01-01T00:00:00Z", worker: "test")
    }

    /// Two sets × one size × two models, end-to-end (two seeds) and kNN.
    static func writeResults(under folder: URL) throws {
        for dataset in ["bloodmnist", "breastmnist"] {
            for (m, model) in ["vgg16", "resnet18"].enumerated() {
                for (s, seed) in seeds.prefix(2).enumerated() {
                    try write(record(dataset, 28, model, .endToEnd, seed: seed, acc: 0.8 + 0.02 * Double(m) + 0.01 * Double(s)), under: folder)
                }
                try write(record(dataset, 28, model, .knn, seed: seeds[0], acc: 0.7 + 0.01 * Double(m)), under: folder)
            }
        }
    }

    static func write(_ record: GridRecord, under folder: URL) throws {
        let url = folder.appendingPathComponent(record.cell.resultPath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(try record.json(), to: url)
    }

    @Test func markdownToStdout() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Self.writeResults(under: directory.url)
        let run = await tool(["report", directory.url.path])
        #expect(run.status == .success, "\(run.error)")
        #expect(run.output.hasPrefix("# MedMNIST+ results"))
        #expect(run.output.contains("## Average over 2 datasets (bloodmnist, breastmnist)"))
        // vgg16 end-to-end: 80 and 81 on both sets → 80.50±0.50.
        #expect(run.output.contains("| vgg16 | 80.50±0.50 | 90.50±0.50 |"))
        #expect(run.output.contains("| resnet18 | 71.00 | 81.00 |"))
        let csv = await tool(["report", directory.url.path, "--format", "csv"])
        #expect(csv.status == .success)
        #expect(csv.output.hasPrefix("level,dataset,scheme,model,size,seeds,"))
        let json = await tool(["report", directory.url.path, "--format", "json", "--wilcoxon"])
        #expect(json.status == .success)
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect(object?["records"] as? Int == 12)
        #expect(((object?["wilcoxon"] as? [String: Any])?["acc"] as? [Any])?.count == 1)
    }

    @Test func allFormatsAndChartsIntoTheOutputFolder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let results = directory.appending("results")
        try Self.writeResults(under: results)
        // The output folder inside the results folder: its report.json is not read back as a record.
        let output = results.appendingPathComponent("report")
        for _ in 0..<2 {
            let run = await tool(["report", results.path, "-o", output.path, "--format", "all", "--paper", "--charts", "--wilcoxon"])
            #expect(run.status == .success, "\(run.error)")
            #expect(run.output.contains("wrote \(output.path): report.md, report.csv, report.json, charts/acc-end-to-end.svg"))
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        #expect(names == ["charts", "report.csv", "report.json", "report.md"])
        let charts = try FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent("charts").path).sorted()
        #expect(charts == ["acc-end-to-end.svg", "acc-knn.svg", "auc-end-to-end.svg", "auc-knn.svg", "cost.svg"])
        let markdown = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        // Per-dataset kNN ACC of VGG16 on bloodmnist at 28 px is published: 71.76.
        #expect(markdown.contains("| vgg16 | 70.00 [71.76, −1.76] |"))
        #expect(markdown.contains("## Pairwise Wilcoxon signed-rank tests, ACC"))
    }

    @Test func ddofOne() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Self.writeResults(under: directory.url)
        // 80 and 81: sample std √0.5 = 0.71.
        let run = await tool(["report", directory.url.path, "--ddof", "1"])
        #expect(run.output.contains("| vgg16 | 80.50±0.71 |"))
        #expect(run.output.contains("ddof = 1"))
    }

    @Test func badInputIsAFailure() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = await tool(["report", directory.appending("nope").path])
        #expect(missing.status == .failure)
        #expect(missing.firstErrorLine == "medmnist report: no such results folder: \(directory.appending("nope").path)")
        let empty = await tool(["report", directory.url.path])
        #expect(empty.status == .failure)
        #expect(empty.firstErrorLine.contains("no result records"))
        let bad = directory.appending("bloodmnist/28/vgg16/end-to-end-s1.json")
        try FileManager.default.createDirectory(at: bad.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write("{}", to: bad)
        let malformed = await tool(["report", directory.url.path])
        #expect(malformed.status == .failure)
        #expect(malformed.firstErrorLine.contains("\(bad.path): not a grid result record (missing cell)"))
    }

    @Test func duplicateCellIsAFailure() async throws {
        let a = try TemporaryDirectory(), b = try TemporaryDirectory()
        defer { a.remove(); b.remove() }
        try Self.writeResults(under: a.url)
        try Self.writeResults(under: b.url)
        let run = await tool(["report", a.url.path, b.url.path])
        #expect(run.status == .failure)
        #expect(run.firstErrorLine.contains("has two results"))
        #expect(run.firstErrorLine.contains(a.url.path) && run.firstErrorLine.contains(b.url.path))
    }

    @Test func usageErrors() async {
        for arguments in [["report"], ["report", "x", "--format", "all"], ["report", "x", "--charts"], ["report", "x", "--format", "xml"],
                          ["report", "x", "--ddof", "2"], ["report", "x", "--papr"]] {
            let run = await tool(arguments)
            #expect(run.status == .usage, "\(arguments)")
        }
    }
}
