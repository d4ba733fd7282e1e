import Foundation
import MedIO
import MedMNISTCommands
import MedTensor
import MedTestSupport
import Testing

/// A run of the tool in-process: its exit status and what it wrote.
struct ToolRun {
    let status: ExitCode
    let output: String
    let error: String
    var firstErrorLine: String { String(error.split(separator: "\n", omittingEmptySubsequences: false).first ?? "") }
}

func tool(_ arguments: [String]) async -> ToolRun {
    let console = RecordingConsole()
    let status = await MedMNISTTool.run(arguments, console: console)
    return ToolRun(status: status, output: console.output, error: console.error)
}

/// The committed npz folder (breastmnist.npz at size 28, and its test scores).
let fixtureRoot = Fixtures.url("data/npz").path

/// Every command through ``MedMNISTTool/run(_:console:)`` with a ``RecordingConsole``.
@Suite struct CommandTests {
    @Test(arguments: MedMNISTTool.commands.map { $0.specification.name })
    func everyCommandHasHelp(_ name: String) async {
        for flag in ["--help", "-h"] {
            let run = await tool([name, flag])
            #expect(run.status == .success)
            #expect(run.output.contains("USAGE: medmnist \(name)"))
            #expect(run.output.contains("-h, --help"))
            #expect(run.error.isEmpty)
        }
        #expect(await tool(["help", name]).output.contains("USAGE: medmnist \(name)"))
    }

    @Test func everyDataCommandNamesTheSetTheSameWay() {
        for name in ["info", "download", "verify", "montage", "evaluate"] {
            let spec = MedMNISTTool.command(named: name)!.specification
            #expect(spec.option(named: "dataset") != nil, "\(name)")
            #expect(spec.option(named: "root") != nil, "\(name)")
            #expect(spec.positionals.isEmpty, "\(name)")
        }
    }

    @Test func topLevelHelpStatesTheExitStatuses() async {
        for arguments in [[], ["--help"], ["-h"], ["help"]] {
            let run = await tool(arguments)
            #expect(run.status == .success)
            #expect(run.output.contains("EXIT STATUS"))
            #expect(run.output.contains("64  usage error"))
            for command in MedMNISTTool.commands { #expect(run.output.contains(command.specification.name)) }
        }
        #expect(await tool(["--version"]).output == "medmnist \(MedMNISTTool.version)\n")
    }

    @Test func unknownCommand() async {
        let run = await tool(["verfy", "--dataset", "breastmnist"])
        #expect(run.status == .usage)
        #expect(run.firstErrorLine == "medmnist: unknown command 'verfy'; did you mean verify?")
    }

    // MARK: good runs

    @Test func infoListsTheCatalogAndOneSet() async {
        let table = await tool(["info", "--root", fixtureRoot])
        #expect(table.status == .success)
        #expect(table.output.contains("breastmnist"))
        #expect(table.output.contains("pathmnist"))
        let one = await tool(["info", "--dataset", "breastmnist", "--root", fixtureRoot])
        #expect(one.status == .success)
        #expect(one.output.hasPrefix("breastmnist (BreastMNIST), 2D"))
        #expect(one.output.contains("present"))
    }

    @Test func verifyACatalogSetAndACustomFile() async {
        let set = await tool(["verify", "--dataset", "breastmnist", "--root", fixtureRoot])
        #expect(set.status == .success, "\(set.error)")
        #expect(set.output.contains("train images"))
        #expect(set.output.contains("ok in"))
        let one = await tool(["verify", "--dataset=breastmnist", "--root=\(fixtureRoot)", "--split", "test"])
        #expect(one.status == .success)
        #expect(one.output.split(separator: "\n").filter { $0.contains("images") }.count == 1)
        let custom = await tool(["verify", "--file", Fixtures.url("data/npz/tiny/custom_binary.npz").path])
        #expect(custom.status == .success, "\(custom.error)")
        #expect(custom.output.contains("binary-class"))
    }

    @Test func evaluateScoresAndWritesTheCSV() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let scores = Fixtures.url("data/npz/breastmnist_test_scores.npy").path
        let run = await tool(["evaluate", "--dataset", "breastmnist", "--root", fixtureRoot, "--scores", scores,
                              "--save-csv", directory.url.path, "--run", "t"])
        #expect(run.status == .success, "\(run.error)")
        #expect(run.output.hasPrefix("{\"dataset\": \"breastmnist\", \"size\": 28, \"split\": \"test\""))
        #expect(run.output.contains("\"acc\": "))
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(written.count == 1 && written[0].hasSuffix(".csv"))
        // The CSV it wrote reads back with the same metrics.
        let again = await tool(["evaluate", "--dataset", "breastmnist", "--root", fixtureRoot,
                                "--scores", directory.appending(written[0]).path])
        #expect(again.status == .success)
        #expect(again.output == run.output)
    }

    @Test func montageWritesAPNG() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let output = directory.appending("GRID.PNG")
        let run = await tool(["montage", "--dataset", "breastmnist", "--root", fixtureRoot, "--length", "2",
                              "--seed", "3", "--output", output.path])
        #expect(run.status == .success, "\(run.error)")
        let bytes = try [UInt8](Data(contentsOf: output))
        #expect(bytes.prefix(4) == [0x89, 0x50, 0x4E, 0x47])
        #expect(run.firstErrorLine.hasPrefix("wrote "))
    }

    @Test func inspectReadsSafetensorsPthAndNpy() async {
        let run = await tool(["inspect", "--stats", Fixtures.url("torch/basic.safetensors").path,
                              Fixtures.url("torch/basic.pth").path, Fixtures.url("torch/basic_legacy.pth").path,
                              Fixtures.url("data/npz/breastmnist_test_scores.npy").path])
        #expect(run.status == .success, "\(run.error)")
        #expect(run.output.contains("basic.pth: "))
        #expect(run.output.contains("basic_legacy.pth: "))
        #expect(run.output.contains("min "))
        let bad = await tool(["inspect", Fixtures.url("torch/basic.pth").path, "/nonexistent/x.npy"])
        #expect(bad.status == .failure)
        #expect(bad.error.contains("1 file could not be read"))
    }

    @Test func predictWritesLogitsAndFeatures() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let input = directory.appending("x.npy")
        var generator = RandomGenerator(seed: 5)
        try Npy.write(Tensor.uniform([3, 3, 32, 32], low: -1, high: 1, generator: &generator).typedArray(), to: input)
        let logits = directory.appending("logits.NPY")
        let run = await tool(["predict", "--model", "resnet18", "--num-classes", "4", "--input", input.path,
                              "--output", logits.path, "--batch-size", "2"])
        #expect(run.status == .success, "\(run.error)")
        #expect(try Npy.read(contentsOf: logits).shape == [3, 4])
        let features = directory.appending("features.npy")
        let featureRun = await tool(["predict", "--model", "resnet18", "--num-classes=0", "--features",
                                     "--input", input.path, "--output", features.path])
        #expect(featureRun.status == .success, "\(featureRun.error)")
        #expect(try Npy.read(contentsOf: features).shape == [3, 512])
        // A checkpoint for another architecture is a failure at run time, naming the file.
        let wrong = await tool(["predict", "--model", "resnet18", "--weights", Fixtures.url("torch/basic.pth").path,
                                "--input", input.path, "--output", features.path])
        #expect(wrong.status == .failure)
        #expect(wrong.error.contains("basic.pth"))
    }

    /// A ViT through the same command: 28-pixel input (zero-padded to a 2×2 patch grid), logits and the
    /// 192-wide class-token features of vit_tiny.
    @Test func predictRunsAVisionTransformer() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let input = directory.appending("x.npy")
        var generator = RandomGenerator(seed: 6)
        try Npy.write(Tensor.uniform([3, 3, 28, 28], low: -1, high: 1, generator: &generator).typedArray(), to: input)
        let logits = directory.appending("logits.npy")
        let run = await tool(["predict", "--model", "vit_tiny_patch16_224", "--num-classes", "4", "--input", input.path,
                              "--output", logits.path, "--batch-size", "2"])
        #expect(run.status == .success, "\(run.error)")
        #expect(try Npy.read(contentsOf: logits).shape == [3, 4])
        let features = directory.appending("features.npy")
        let featureRun = await tool(["predict", "--model", "vit_tiny_patch16_224.augreg_in21k_ft_in1k", "--num-classes=0",
                                     "--features", "--input", input.path, "--output", features.path])
        #expect(featureRun.status == .success, "\(featureRun.error)")
        #expect(try Npy.read(contentsOf: features).shape == [3, 192])
    }

    /// EVA-02 and SAM through the same command at 28 pixels (a zero-padded 2×2 grid): logits, and the
    /// pre-logit features (EVA-02's 768-wide class token, SAM's 256-wide averaged neck).
    @Test func predictRunsEvaAndSAM() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let input = directory.appending("x.npy")
        var generator = RandomGenerator(seed: 7)
        try Npy.write(Tensor.uniform([2, 3, 28, 28], low: -1, high: 1, generator: &generator).typedArray(), to: input)
        for (model, width) in [("eva02_base_patch16_clip_224", 768), ("samvit_base_patch16.sa1b", 256)] {
            let logits = directory.appending("logits.npy"), features = directory.appending("features.npy")
            let run = await tool(["predict", "--model", model, "--num-classes", "3", "--input", input.path, "--output", logits.path])
            #expect(run.status == .success, "\(model): \(run.error)")
            #expect(try Npy.read(contentsOf: logits).shape == [2, 3], "\(model)")
            let featureRun = await tool(["predict", "--model", model, "--num-classes=0", "--features", "--input", input.path,
                                         "--output", features.path])
            #expect(featureRun.status == .success, "\(model): \(featureRun.error)")
            #expect(try Npy.read(contentsOf: features).shape == [2, width], "\(model)")
        }
    }

    @Test func systemReportsTheKernels() async {
        let run = await tool(["system", "--size", "16"])
        #expect(run.status == .success, "\(run.error)")
        #expect(run.output.contains("kernel path:"))
        #expect(run.output.contains("GEMM 16³"))
    }

    // MARK: bad invocations: 64 for a wrong call, 1 for a failure while running

    @Test func unknownOptionSuggests() async {
        let run = await tool(["montage", "--dataset", "breastmnist", "--output", "a.png", "--sed", "1"])
        #expect(run.status == .usage)
        #expect(run.firstErrorLine == "medmnist montage: unknown option --sed; did you mean --seed?")
        #expect(run.error.contains("USAGE: medmnist montage"))
    }

    @Test func missingRequiredOption() async {
        let run = await tool(["evaluate", "--dataset", "breastmnist"])
        #expect(run.status == .usage)
        #expect(run.firstErrorLine == "medmnist evaluate: missing required option --scores <file>")
        let download = await tool(["download"])
        #expect(download.status == .usage)
        #expect(download.firstErrorLine == "medmnist download: missing required option --dataset <flag>")
    }

    @Test func badValues() async {
        let cases: [([String], String)] = [
            (["system", "--size", "big"], "medmnist system: --size expects an integer, got 'big'"),
            (["montage", "--dataset", "breastmnist", "--output", "a.png", "--seed", "-1"],
             "medmnist montage: --seed must not be negative, got -1"),
            (["predict", "--model", "resnet18", "--input", "x.npy", "--output", "y.npy", "--seed=-2"],
             "medmnist predict: --seed must not be negative, got -2"),
            (["predict", "--model", "resnet18", "--input", "x.npy", "--output", "y.npy", "--num-classes", "three"],
             "medmnist predict: --num-classes expects an integer, got 'three'"),
            (["montage", "--dataset", "breastmnist", "--output", "grid.jpg"],
             "medmnist montage: --output must name a .png file, got 'grid.jpg'"),
            (["montage", "--dataset", "breastmnist", "--output", "--help"],
             "medmnist montage: --output must name a .png file, got '--help'"),
            (["montage", "--dataset", "breastmnist", "--output", "a.png", "--seed", "1", "--seed", "2"],
             "medmnist montage: --seed was given more than once"),
            (["verify", "--dataset", "breastmnist", "--split", "tset"],
             "medmnist verify: --split must be one of train, val, test, got 'tset'; did you mean test?"),
            (["verify", "--dataset", "breastmnis"],
             "medmnist verify: --dataset: unknown dataset 'breastmnis' (did you mean 'breastmnist'?); the 18 flags are listed by 'medmnist info'"),
            (["verify", "--dataset", "breastmnist", "--size", "100"],
             "medmnist verify: --size: breastmnist has no size 100; available sizes: 28, 64, 128, 224"),
            (["verify", "--file", "custom.npz", "--size", "64"],
             "medmnist verify: --size cannot be used with --file (it checks the file as custom data)"),
            (["verify", "--file", "custom.npz", "--md5"],
             "medmnist verify: --md5 cannot be used with --file (it checks the file as custom data)"),
            (["verify", "--dataset", "breastmnist", "--task", "binary-class"],
             "medmnist verify: --task cannot be used without --file (a catalog set's task is known)"),
            (["verify"], "medmnist verify: name a set with --dataset <flag>, or a file with --file <path.npz>"),
            (["info", "pathmnist"], "medmnist info: unexpected argument 'pathmnist'"),
            (["download", "--dataset", "breastmnist", "--mirror", "ftp://example.org/x"],
             "medmnist download: --mirror: "),
            (["system", "--size", "9000"], "medmnist system: --size must be between 1 and 8192, got 9000"),
        ]
        for (arguments, message) in cases {
            let run = await tool(arguments)
            #expect(run.status == .usage, "\(arguments)")
            #expect(run.firstErrorLine.hasPrefix(message), "\(arguments): \(run.firstErrorLine)")
        }
    }

    @Test func missingFilesFailAtRunTime() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let scores = await tool(["evaluate", "--dataset", "breastmnist", "--root", fixtureRoot, "--scores", directory.appending("none.npy").path])
        #expect(scores.status == .failure)
        #expect(scores.firstErrorLine.hasPrefix("medmnist evaluate: no such scores file: "))
        let emptyRoot = await tool(["verify", "--dataset", "breastmnist", "--root", directory.url.path])
        #expect(emptyRoot.status == .failure)
        #expect(emptyRoot.firstErrorLine.hasPrefix("medmnist verify: "))
        let input = await tool(["predict", "--model", "resnet18", "--input", directory.appending("none.npy").path,
                                "--output", directory.appending("y.npy").path])
        #expect(input.status == .failure)
        #expect(input.firstErrorLine.hasPrefix("medmnist predict: no such input file: "))
        let custom = await tool(["verify", "--file", directory.appending("none.npz").path])
        #expect(custom.status == .failure)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }
}
