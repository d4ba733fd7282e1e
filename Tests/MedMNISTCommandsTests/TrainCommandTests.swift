import Foundation
import MedIO
import MedMNISTCommands
import MedMNISTData
import MedTestSupport
import MedTraining
import Testing

/// A generated binary-class set in the MedMNIST schema (the squares the classes differ by are learnable).
func syntheticNpz(in directory: TemporaryDirectory, train: Int = 96) throws -> String {
    let url = directory.appending("synthetic.npz")
    func split(_ split: Split, _ count: Int) throws -> MedMNISTSplit {
        try SyntheticDataset.split(split, task: .binaryClass, classCount: 2, count: count, size: 28)
    }
    try SyntheticDataset.writeNpz(train: split(.train, train), val: split(.val, 32), test: split(.test, 32), to: url)
    return url.path
}

func result(in folder: URL) throws -> ExperimentResult {
    try JSONDecoder().decode(ExperimentResult.self, from: Data(contentsOf: folder.appendingPathComponent("metrics.json")))
}

/// `medmnist train` and `medmnist knn` in-process, on generated data.
@Suite struct TrainCommandTests {
    @Test func trainsEndToEndAndWritesTheRunFolder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let npz = try syntheticNpz(in: directory), output = directory.appending("run")
        let run = await tool(["train", "--npz", npz, "--epochs", "2", "--batch-size", "32", "-o", output.path])
        #expect(run.status == .success, "\(run.error)")
        #expect(run.output.contains("epoch 1: train loss"))
        #expect(run.output.contains("epoch 2: train loss"))
        #expect(run.output.contains("test: ACC"))
        let metrics = try result(in: output)
        #expect(metrics.epochsRun == 2)
        #expect(metrics.specification.training.batchSize == 32)
        #expect(metrics.specification.scheme == .endToEnd)
        #expect(metrics.test.samples == 32)
        let history = try String(contentsOf: output.appendingPathComponent("history.csv"), encoding: .utf8)
        #expect(history.split(separator: "\n").count == 3)
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("best.safetensors").path))
    }

    @Test func knnLabelsItsAUCAsAnAddition() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let npz = try syntheticNpz(in: directory), output = directory.appending("knn")
        let run = await tool(["knn", "--npz", npz, "--root", directory.url.path, "-o", output.path])
        #expect(run.status == .success, "\(run.error)")
        #expect(run.output.contains("AUC (from vote fractions, not in the paper)"))
        let metrics = try result(in: output)
        #expect(metrics.specification.scheme == .knn)
        #expect(metrics.specification.k == 11)
        // The same run as `train --scheme knn`, so the same numbers.
        let again = await tool(["train", "--scheme", "knn", "--npz", npz, "--root", directory.url.path, "-o", directory.appending("knn2").path])
        #expect(again.status == .success, "\(again.error)")
        #expect(try result(in: directory.appending("knn2")).test == metrics.test)
    }

    @Test func featuresAreWrittenAndThenReadFromTheCache() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let npz = try syntheticNpz(in: directory), output = directory.appending("val.npy")
        let flags = ["features", "--npz", npz, "--root", directory.url.path, "--split", "val", "-o", output.path]
        let first = await tool(flags)
        #expect(first.status == .success, "\(first.error)")
        #expect(first.output.contains("(computed)"))
        let array = try Npy.read(contentsOf: output)
        #expect(array.shape == [32, 512])
        #expect(array.dtype == .float32)
        let second = await tool(flags)
        #expect(second.output.contains("(from the cache)"))
        #expect(try Npy.read(contentsOf: output) == array)
        #expect(await tool(["features", "--npz", npz]).status == .usage)   // --output is required
    }

    @Test func cachedProbeTrainsOnlyTheHead() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let npz = try syntheticNpz(in: directory), output = directory.appending("probe")
        let run = await tool(["train", "--npz", npz, "--root", directory.url.path, "--scheme", "linear-probe", "--probe", "cached",
                              "--epochs", "3", "-o", output.path])
        #expect(run.status == .success, "\(run.error)")
        #expect(try result(in: output).specification.scheme == .cachedLinearProbe)
    }

    @Test(arguments: [
        (["--scheme", "end-to-end", "--probe", "cached"], "medmnist train: --probe cached applies to --scheme linear-probe only"),
        (["--scheme", "knn", "--epochs", "3"], "medmnist train: --epochs cannot be used with --scheme knn"),
        (["--k", "5"], "medmnist train: --k cannot be used without --scheme knn"),
        (["--weights", "a.safetensors", "--pretrained"], "medmnist train: give --weights or --pretrained, not both"),
        (["--dataset", "breastmnsit"], "medmnist train: --dataset: unknown dataset 'breastmnsit'"),
        (["--size", "30"], "medmnist train: --size: breastmnist has no size 30"),
        (["--npz", "x.npz", "--size", "64"], "medmnist train: --size cannot be used with --npz"),
        (["--task", "binary-class"], "medmnist train: --task cannot be used without --npz"),
        (["--lr", "fast"], "medmnist train: --lr expects a number, got 'fast'"),
        (["--epochs", "0"], "medmnist train: --epochs must be positive, got 0"),
        (["--scheme", "probe"], "medmnist train: --scheme must be one of end-to-end, linear-probe, knn, got 'probe'"),
    ])
    func badFlagsAreUsageErrors(_ arguments: [String], _ message: String) async {
        let run = await tool(["train"] + arguments)
        #expect(run.status == .usage)
        #expect(run.firstErrorLine.hasPrefix(message), "\(run.firstErrorLine)")
    }

    @Test func missingDataFailsNamingTheFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let offline = await tool(["train", "--root", directory.url.path, "--offline", "-o", directory.appending("run").path])
        #expect(offline.status == .failure)
        #expect(offline.firstErrorLine.contains(directory.appending("breastmnist.npz").path))
        let npz = await tool(["train", "--npz", directory.appending("absent.npz").path, "-o", directory.appending("run").path])
        #expect(npz.status == .failure)
        #expect(npz.firstErrorLine.contains("absent.npz"))
        let lr = await tool(["train", "--npz", try syntheticNpz(in: directory), "--lr", "-1", "-o", directory.appending("run").path])
        #expect(lr.status == .failure)
        #expect(lr.firstErrorLine == "medmnist train: learning rate -1.0 is invalid: it must be a positive number")
    }
}

/// A run killed with SIGKILL mid-training continues with `--resume` and ends with the numbers of a run that
/// was never interrupted.
@Suite(.enabled(if: medmnistBinary != nil, "the medmnist executable is not in the build products folder"))
struct TrainResumeBinaryTests {
    @Test func killedRunResumesToTheSameResult() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let npz = try syntheticNpz(in: directory, train: 160)
        let flags = ["train", "--npz", npz, "--epochs", "4", "--patience", "10", "--batch-size", "32", "--seed", "3"]
        let whole = directory.appending("whole"), killed = directory.appending("killed")
        let reference = try runBinary(flags + ["-o", whole.path])
        #expect(reference.status == 0, "\(reference.error)")

        let process = Process()
        process.executableURL = medmnistBinary!
        process.arguments = flags + ["-o", killed.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it once the first epoch's checkpoint is on disk, while a later epoch is training.
        let checkpoint = killed.appendingPathComponent("checkpoint.safetensors").path
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint) && process.isRunning && Date() < deadline { usleep(20_000) }
        usleep(150_000)
        let wasRunning = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(wasRunning, "the run ended before it could be killed; the test proves nothing this time")
        #expect(!FileManager.default.fileExists(atPath: killed.appendingPathComponent("metrics.json").path))

        let resumed = try runBinary(flags + ["-o", killed.path, "--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        let a = try result(in: whole), b = try result(in: killed)
        #expect(a.test == b.test)
        #expect(a.val == b.val)
        #expect(a.bestEpoch == b.bestEpoch)
        #expect(a.history.map(\.trainLoss) == b.history.map(\.trainLoss))
        #expect(a.history.map(\.validationLoss) == b.history.map(\.validationLoss))
    }
}
