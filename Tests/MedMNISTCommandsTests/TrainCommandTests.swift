import Foundation
import MedIO
import MedMNISTCommands
import MedLayers
import MedMNISTData
import MedModels
import MedTensor
import MedTestSupport
import MedTraining
import Testing

/// A generated binary-class set in the MedMNIST schema (the squares the classes differ by are learnable).
func syntheticNpz(in directory: TemporaryDirectory, train: Int = 96) throws -> String {
    let url = directory.appending("synthetic.npz")
    func split(_ split: Split, _ count: Int) throws -> MedMNISTSplit {
        try SyntheticDataset.split(split, task: .binaryClass, numClasses: 2, count: count, size: 28)
    }
    try SyntheticDataset.writeNpz(train: split(.train, train), val: split(.val, 32), test: split(.test, 32), to: url)
    return url.path
}

func result(in folder: URL) throws -> ExperimentResult {
    try ExperimentResult.decode(Data(contentsOf: folder.appendingPathComponent("metrics.json")))
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

    /// `synthetic --like FLAG` writes a file that stands in for the catalog set: `verify` accepts it and `train`
    /// reads it from the root; a custom one trains with --npz.
    @Test func syntheticSetsStandInForTheRealOnes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let like = await tool(["synthetic", "--like", "breastmnist", "-o", directory.appending("breastmnist.npz").path])
        #expect(like.status == .success, "\(like.error)")
        #expect(like.output.contains("binary-class, 2 classes, 1 channel, 28×28, 546/78/156 images"))
        let verified = await tool(["verify", "--dataset", "breastmnist", "--root", directory.url.path])
        #expect(verified.status == .success, "\(verified.error)")
        let custom = directory.appending("stripes.npz").path
        let made = await tool(["synthetic", "--pattern", "stripes", "--task", "multi-label, binary-class", "--classes", "3",
                               "--channels", "3", "--size", "32", "--train", "40", "--val", "8", "--test", "8", "-o", custom])
        #expect(made.status == .success, "\(made.error)")
        let split = try CustomDataset.load(contentsOf: URL(fileURLWithPath: custom), split: .train, cache: .off)
        #expect(split.task == .multiLabelBinary && split.numClasses == 3 && split.images.shape == [40, 32, 32, 3])
        for (arguments, message) in [
            (["--like", "breastmnist", "--classes", "3"], "--classes cannot be used with --like"),
            (["--like", "organmnist3d"], "--like: organmnist3d holds 3D volumes"),
            (["--task", "binary-class", "--classes", "3"], "--classes: a binary-class task has 2 classes, got 3"),
        ] {
            let run = await tool(["synthetic", "-o", directory.appending("x.npz").path] + arguments)
            #expect(run.status == .usage && run.firstErrorLine.contains(message), "\(run.firstErrorLine)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appending("x.npz").path))
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

    /// `--precision bf16`: kNN on features computed with BF16 products, cached apart from the Float32 ones
    /// (each computed once), close to them but not equal, and recorded in metrics.json.
    @Test(.enabled(if: GEMM.bfloat16Supported, "this CPU has no AVX512-BF16"))
    func bfloat16FeaturesAreCachedApartAndStayClose() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let npz = try syntheticNpz(in: directory)
        func features(_ precision: String) async throws -> (TypedArray, String) {
            let output = directory.appending("val-\(precision).npy")
            let run = await tool(["features", "--npz", npz, "--root", directory.url.path, "--split", "val", "--model", "vit_tiny_patch16_224",
                                  "--precision", precision, "-o", output.path])
            #expect(run.status == .success, "\(run.error)")
            return (try Npy.read(contentsOf: output), run.output)
        }
        let (exact, first) = try await features("fp32")
        let (reduced, second) = try await features("bf16")
        #expect(first.contains("(computed)") && second.contains("(computed)"))
        let error = relativeError(Tensor(reduced), Tensor(exact))
        #expect(error > 1e-4 && error < 8e-2, "BF16 features against Float32: \(error)")
        #expect(try await features("bf16").1.contains("(from the cache)"))
        let knn = directory.appending("knn-bf16")
        let run = await tool(["knn", "--npz", npz, "--root", directory.url.path, "--model", "vit_tiny_patch16_224", "--precision", "bf16",
                              "-o", knn.path])
        #expect(run.status == .success, "\(run.error)")
        #expect(try result(in: knn).specification.precision == .bfloat16)
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
        (["--weights", "a.safetensors", "--pretrained", "default"], "medmnist train: give --weights or --pretrained, not both"),
        (["--pretrained", "a1_in1"], "medmnist train: resnet18 has no pretrained tag 'a1_in1'; did you mean 'a1_in1k'?"),
        (["--model", "resnet18.a1_in1k", "--pretrained", "tv_in1k"],
         "medmnist train: --model resnet18.a1_in1k already names the tag a1_in1k; --pretrained tv_in1k names another"),
        (["--dataset", "breastmnsit"], "medmnist train: --dataset: unknown dataset 'breastmnsit'"),
        (["--size", "30"], "medmnist train: --size: breastmnist has no size 30"),
        (["--npz", "x.npz", "--size", "64"], "medmnist train: --size cannot be used with --npz"),
        (["--task", "binary-class"], "medmnist train: --task cannot be used without --npz"),
        (["--lr", "fast"], "medmnist train: --lr expects a number, got 'fast'"),
        (["--model", "resnet19"], "medmnist train: --model: unknown model 'resnet19'; did you mean 'resnet18'?"),
        (["--epochs", "0"], "medmnist train: --epochs must be positive, got 0"),
        (["--scheme", "probe"], "medmnist train: --scheme must be one of end-to-end, linear-probe, knn, got 'probe'"),
        (["--precision", "fp16"], "medmnist train: --precision must be one of fp32, bf16, got 'fp16'"),
    ] + (GEMM.bfloat16Supported ? [
        (["--precision", "bf16"], "medmnist train: --precision bf16 applies to frozen features only"),
    ] : []))
    func badFlagsAreUsageErrors(_ arguments: [String], _ message: String) async {
        let run = await tool(["train"] + arguments)
        #expect(run.status == .usage)
        #expect(run.firstErrorLine.hasPrefix(message), "\(run.firstErrorLine)")
    }

    /// A model that does not fit the data fails before the first batch, naming both, and leaves no run folder.
    @Test func modelThatDoesNotFitFailsAndLeavesNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let npz = directory.appending("volumes.npz"), output = directory.appending("run")
        var arrays: [(key: String, array: TypedArray)] = []
        for (split, count) in [(Split.train, 8), (.val, 4), (.test, 4)] {
            arrays.append((split.imagesKey, TypedArray(uint8s: [UInt8](repeating: 9, count: count * 28 * 28 * 28), shape: [count, 28, 28, 28])))
            arrays.append((split.labelsKey, TypedArray(uint8s: (0..<count).map { UInt8($0 % 2) }, shape: [count, 1])))
        }
        try Npz.write(arrays, to: npz)
        let run = await tool(["train", "--npz", npz.path, "-o", output.path])
        #expect(run.status == .failure)
        #expect(run.firstErrorLine.hasPrefix("medmnist train: resnet18 is an encoder of 2D images, but volumes holds 3D volumes"),
                "\(run.firstErrorLine)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
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

        let process = try startBinary(flags + ["-o", killed.path])
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

    /// `--pretrained TAG` fetches `{model}.{tag}` from the hub (a local server standing in for it, through
    /// `MEDMNIST_HUB_ENDPOINT`) into the weights cache, once, and trains from it.
    @Test func pretrainedTagDownloadsFromTheHubAndTrains() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let npz = try syntheticNpz(in: directory)
        let weights = directory.appending("resnet18.safetensors")
        try RandomState.withSeed(11) { try ModelRegistry.create("resnet18", numClasses: 1000) }.save(to: weights)
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let path = "/timm/resnet18.a1_in1k/resolve/main/model.safetensors"
        server.route(path, .ok(body: [UInt8](try Data(contentsOf: weights))))
        let environment = ["MEDMNIST_HUB_ENDPOINT": server.baseURL.absoluteString,
                           "MEDMNIST_WEIGHTS_CACHE": directory.appending("cache").path]
        for run in ["first", "second"] {
            let output = directory.appending(run)
            let trained = try runBinary(["train", "--npz", npz, "--pretrained", "a1_in1k", "--epochs", "1", "-o", output.path],
                                        environment: environment)
            #expect(trained.status == 0, "\(trained.error)")
            let metrics = try result(in: output)
            #expect(metrics.specification.model == "resnet18.a1_in1k" && metrics.specification.weights == .pretrained)
        }
        #expect(server.requestCount(path) == 1, "the second run must read the cache")
        #expect(FileManager.default.fileExists(atPath: directory.appending("cache/resnet18.a1_in1k.safetensors").path))
    }

    /// Killed twice while `checkpoint.safetensors` is being written (its temporary file is on disk): the first
    /// time before any checkpoint exists, the second while the first epoch's is being replaced. The file is each
    /// time absent or the old complete one, and the resumed run ends with the uninterrupted run's numbers.
    @Test func killedDuringCheckpointWritesResumesToTheSameResult() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let npz = try syntheticNpz(in: directory, train: 160)
        let flags = ["train", "--npz", npz, "--epochs", "3", "--patience", "10", "--batch-size", "32", "--seed", "5"]
        let whole = directory.appending("whole"), killed = directory.appending("killed")
        let reference = try runBinary(flags + ["-o", whole.path])
        #expect(reference.status == 0, "\(reference.error)")
        let checkpoint = killed.appendingPathComponent("checkpoint.safetensors")
        let written = { FileManager.default.fileExists(atPath: checkpoint.path) }

        /// Starts the run (resuming when asked) and kills it as soon as a checkpoint temporary appears once
        /// `ready()` holds; returns whether it was caught mid-write.
        func killDuringCheckpointWrite(resume: Bool, once ready: () -> Bool) throws -> Bool {
            let process = try startBinary(flags + ["-o", killed.path] + (resume ? ["--resume"] : []))
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) }; process.waitUntilExit() }
            let deadline = Date().addingTimeInterval(180)
            while process.isRunning && Date() < deadline {
                if ready(), let names = try? FileManager.default.contentsOfDirectory(atPath: killed.path),
                   names.contains(where: { $0.hasPrefix(".checkpoint.safetensors.tmp-") }) {
                    kill(process.processIdentifier, SIGKILL)
                    return true
                }
                usleep(200)
            }
            return false
        }

        #expect(try killDuringCheckpointWrite(resume: false, once: { true }), "the first checkpoint write was not caught")
        #expect(!written(), "a checkpoint killed mid-write must not appear under its name")
        #expect(try killDuringCheckpointWrite(resume: true, once: written), "the second checkpoint write was not caught")
        let survivor = try Data(contentsOf: checkpoint)
        #expect(!survivor.isEmpty)

        let resumed = try runBinary(flags + ["-o", killed.path, "--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        let a = try result(in: whole), b = try result(in: killed)
        #expect(a.test == b.test && a.val == b.val && a.bestEpoch == b.bestEpoch)
        #expect(a.history.map(\.trainLoss) == b.history.map(\.trainLoss))
        // The killed writers' temporaries were removed by the writers that came after them.
        let left = try FileManager.default.contentsOfDirectory(atPath: killed.path).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "\(left)")
    }
}
