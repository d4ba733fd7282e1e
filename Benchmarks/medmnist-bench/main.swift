import Foundation
import MedCommandLine

/// `medmnist-bench`: the benchmarks behind every performance figure of swift-medmnist.
/// Build with `-c release`; add `--traits OpenBLAS` to measure OpenBLAS beside the library.
/// Its arguments are parsed by MedCommandLine, as the `medmnist` tool's are: exit 0, or 64 for a usage error.
let specification = CommandSpecification(
    name: "medmnist-bench", abstract: "The benchmarks behind every performance figure of swift-medmnist.",
    options: [
        .flag("json", help: "One JSON object per line: {\"case\": …, \"value\": …, \"unit\": …}."),
        Option("case", valueName: "substring", help: "Only cases whose name contains SUBSTRING."),
        Option("repetitions", kind: .positiveInteger, default: "5",
               help: "Timed repetitions per case after three warm-up runs (the median is reported)."),
        .flag("quick", help: "Tiny sizes and one repetition, to check that the benchmarks run (CI); the figures mean nothing."),
    ],
    positionals: [Positional("group", kind: .choice(["gemm", "conv", "models", "grid-cost"]), help: """
        gemm: matrix multiply, GFLOP/s (square 256–2048 and convolution/attention shapes; 1 thread and all cores). \
        conv: conv2d forward and backward, images/s (3×3, 1×1, depthwise, strided, the 7×7 stem). \
        models: each encoder's inference and training step, images/s (cases named MODEL-RES-infer|train). \
        grid-cost: the paper's encoders at 28/64/128/224 (train with AdamW, infer), and the projected hours of its \
        whole grid on this machine for presets paper and fast (cases named MODEL-RES).
        """)])

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.isEmpty {
    print(specification.help)
    exit(ExitCode.success.rawValue)
}
let parsed: ParsedArguments
do {
    parsed = try specification.parse(arguments)
} catch {
    FileHandle.standardError.write(Data("medmnist-bench: \(error)\nUSAGE: \(specification.usage)\n".utf8))
    exit(ExitCode.usage.rawValue)
}
if parsed.helpRequested {
    print(specification.help)
    exit(ExitCode.success.rawValue)
}
var options = BenchmarkOptions()
options.json = parsed.flag("json")
options.filter = parsed.string("case")
options.quick = parsed.flag("quick")
options.repetitions = parsed.isGiven("repetitions") || !options.quick ? parsed.integer("repetitions")! : 1
switch parsed.positional("group")[0] {
case "gemm": GEMMBenchmark.run(options)
case "conv": ConvBenchmark.run(options)
case "grid-cost": GridCostBenchmark.run(options)
default: ModelsBenchmark.run(options)
}
