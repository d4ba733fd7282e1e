@testable import MedCommandLine
import Testing

/// The declarative parser on its own: the rules of swift-argument-parser that MedCommandLine follows.
@Suite struct ParserTests {
    let spec = CommandSpecification(
        name: "demo", abstract: "A demonstration.",
        options: [
            Option("dataset", required: true, valueName: "flag", help: "The set."),
            Option("size", kind: .positiveInteger, default: "28", help: "Image size."),
            Option("seed", kind: .nonNegativeInteger, default: "0", help: "Seed."),
            Option("scale", kind: .double, default: "1.5", help: "Scale."),
            Option("output", short: "o", kind: .path(extensions: ["png"]), help: "The PNG."),
            Option("split", kind: .choice(["train", "val", "test"]), default: "test", help: "Split."),
            Option("tag", repeatable: true, help: "A tag."),
            .flag("force", help: "Force."),
        ],
        positionals: [Positional("file", required: false, repeatable: true, help: "Files.")])

    func error(_ arguments: [String]) -> UsageError? {
        do {
            _ = try spec.parse(arguments)
            return nil
        } catch {
            return error
        }
    }

    @Test func bothValueFormsAndDefaults() throws {
        let spaced = try spec.parse(["--dataset", "pathmnist", "--size", "64"])
        let joined = try spec.parse(["--dataset=pathmnist", "--size=64"])
        for parsed in [spaced, joined] {
            #expect(parsed.string("dataset") == "pathmnist")
            #expect(parsed.integer("size") == 64)
            #expect(parsed.integer("seed") == 0)
            #expect(parsed.double("scale") == 1.5)
            #expect(parsed.string("split") == "test")
            #expect(!parsed.flag("force"))
            #expect(parsed.isGiven("size") && !parsed.isGiven("seed"))
        }
        let valueWithEquals = try spec.parse(["--dataset=a=b", "-o", "x.png", "--force"])
        #expect(valueWithEquals.string("dataset") == "a=b")
        #expect(valueWithEquals.string("output") == "x.png")
        #expect(valueWithEquals.flag("force"))
    }

    @Test func doubleDashEndsOptions() throws {
        let parsed = try spec.parse(["--dataset", "x", "--", "--size", "-o", "--help"])
        #expect(parsed.positional("file") == ["--size", "-o", "--help"])
        #expect(parsed.integer("size") == 28)
        #expect(!parsed.helpRequested)
    }

    @Test func repeatedOptionIsAnErrorUnlessRepeatable() throws {
        #expect(error(["--dataset", "x", "--size", "28", "--size=64"])?.message == "--size was given more than once")
        #expect(error(["--dataset", "x", "--force", "--force"])?.message == "--force was given more than once")
        let parsed = try spec.parse(["--dataset", "x", "--tag", "a", "--tag=b"])
        #expect(parsed.strings("tag") == ["a", "b"])
    }

    @Test func unknownOptionSuggestsTheNearest() {
        let unknown = error(["--dataset", "x", "--sed", "1"])
        #expect(unknown?.message == "unknown option --sed")
        #expect(unknown?.suggestion == "--seed")
        #expect(unknown?.description == "unknown option --sed; did you mean --seed?")
        #expect(error(["--dataset", "x", "--datset=y"])?.suggestion == "--dataset")
        #expect(error(["--dataset", "x", "--zzzzzzzz"])?.suggestion == nil)
        #expect(error(["--dataset", "x", "-q"])?.message == "unknown option -q")
    }

    @Test func helpIsAFlagOnlyWhereAnOptionCanStand() throws {
        // Required options are not checked when help is asked for.
        #expect(try spec.parse(["--help"]).helpRequested)
        #expect(try spec.parse(["--size", "64", "-h"]).helpRequested)
        // As an option's value it is just that value.
        let value = try spec.parse(["--dataset", "--help"])
        #expect(!value.helpRequested)
        #expect(value.string("dataset") == "--help")
        #expect(try spec.parse(["--dataset=--help"]).string("dataset") == "--help")
        #expect(error(["--dataset", "x", "--output", "--help"])?.message == "--output must name a .png file, got '--help'")
    }

    @Test func requiredOptionMissing() {
        #expect(error([])?.message == "missing required option --dataset <flag>")
        #expect(error(["--size", "64"])?.message == "missing required option --dataset <flag>")
        #expect(error(["--dataset"])?.message == "--dataset needs a value (--dataset <flag>)")
    }

    @Test func malformedValues() {
        #expect(error(["--dataset", "x", "--size", "abc"])?.message == "--size expects an integer, got 'abc'")
        #expect(error(["--dataset", "x", "--size", "0"])?.message == "--size must be positive, got 0")
        #expect(error(["--dataset", "x", "--scale", "big"])?.message == "--scale expects a number, got 'big'")
        let split = error(["--dataset", "x", "--split", "tset"])
        #expect(split?.message == "--split must be one of train, val, test, got 'tset'")
        #expect(split?.suggestion == "test")
        #expect(error(["--dataset", "x", "--force=yes"])?.message == "--force is a flag and takes no value")
        #expect(error(["--dataset", "x", "--help=1"])?.message == "--help takes no value")
    }

    @Test func negativeSeedIsRejectedInBothForms() throws {
        #expect(error(["--dataset", "x", "--seed", "-1"])?.message == "--seed must not be negative, got -1")
        #expect(error(["--dataset", "x", "--seed=-3"])?.message == "--seed must not be negative, got -3")
        #expect(try spec.parse(["--dataset", "x", "--seed", "7"]).integer("seed") == 7)
    }

    @Test func extensionsAreComparedCaseInsensitively() throws {
        #expect(try spec.parse(["--dataset", "x", "--output", "GRID.PNG"]).string("output") == "GRID.PNG")
        #expect(try spec.parse(["--dataset", "x", "--output", "a/b.Png"]).string("output") == "a/b.Png")
        #expect(error(["--dataset", "x", "--output", "grid.jpg"])?.message == "--output must name a .png file, got 'grid.jpg'")
        #expect(error(["--dataset", "x", "--output", "png"]) != nil)
        let many = CommandSpecification(name: "m", abstract: "", options: [
            Option("scores", kind: .path(extensions: ["npy", "csv"]), help: "")])
        #expect(throws: UsageError("--scores must name a .npy or .csv file, got 's.txt'")) { try many.parse(["--scores", "s.txt"]) }
        #expect(try many.parse(["--scores", "S.CSV"]).string("scores") == "S.CSV")
    }

    @Test func positionals() throws {
        let single = CommandSpecification(name: "one", abstract: "", positionals: [Positional("file", help: "")])
        #expect(throws: UsageError("missing required argument <file>")) { try single.parse([]) }
        #expect(throws: UsageError("unexpected argument 'b'")) { try single.parse(["a", "b"]) }
        #expect(try single.parse(["-"]).positional("file") == ["-"])
        #expect(try single.parse(["-3"]).positional("file") == ["-3"])
        #expect(try spec.parse(["a", "--dataset", "x", "b"]).positional("file") == ["a", "b"])
    }

    @Test func rejectNamesTheFirstGivenOption() throws {
        let parsed = try spec.parse(["--dataset", "x", "--seed", "2"])
        #expect(throws: UsageError("--seed cannot be used with --file")) { try parsed.reject(["size", "seed"], "with --file") }
        #expect(throws: Never.self) { try parsed.reject(["size"], "with --file") }
    }

    @Test func helpListsEveryOptionWithDefaultsAndRequiredMarks() {
        let help = spec.help
        #expect(help.hasPrefix("OVERVIEW: A demonstration."))
        #expect(help.contains("USAGE: demo --dataset <flag> [--size <n>]"))
        for option in spec.options { #expect(help.contains("--\(option.name)"), "\(option.name)") }
        let line = { (name: String) in help.split(separator: "\n").first { $0.hasPrefix("  ") && ($0.contains("--\(name) ") || $0.hasSuffix("--\(name)")) }.map(String.init) ?? "" }
        #expect(line("dataset").contains("(required)"))
        #expect(line("size").contains("(default: 28)"))
        #expect(line("seed").contains("(default: 0)"))
        #expect(line("split").contains("(default: test)"))
        #expect(line("tag").contains("(may be repeated)"))
        #expect(!line("size").contains("(required)"))
        #expect(line("output").hasPrefix("  -o, --output <file.png>"))
        #expect(help.contains("-h, --help"))
        #expect(help.contains("<file>..."))
    }

    @Test func nearestSuggestionByEditDistance() {
        #expect(nearestSuggestion(for: "verfy", among: ["verify", "info"]) == "verify")
        #expect(nearestSuggestion(for: "montgae", among: ["montage", "predict"]) == "montage")
        #expect(nearestSuggestion(for: "num", among: ["num-classes", "seed"]) == "num-classes")
        #expect(nearestSuggestion(for: "xyz", among: ["verify", "info"]) == nil)
        #expect(nearestSuggestion(for: "a", among: []) == nil)
        // A swap of two neighbouring letters is one edit, as a typist makes it.
        #expect(editDistance("tset", "test") == 1)
        #expect(editDistance("ca", "abc") == 3)
        #expect(editDistance("kitten", "sitting") == 3)
    }

    @Test func exitCodes() {
        #expect(ExitCode.success.rawValue == 0)
        #expect(ExitCode.failure.rawValue == 1)
        #expect(ExitCode.usage.rawValue == 64)
    }

    @Test func recordingConsoleKeepsBothStreams() {
        let console = RecordingConsole()
        console.write("out")
        console.writeError("first")
        console.writeError("second")
        #expect(console.output == "out\n")
        #expect(console.error == "first\nsecond\n")
        #expect(console.firstErrorLine == "first")
    }
}
