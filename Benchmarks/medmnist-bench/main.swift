import Foundation

/// `medmnist-bench`: the benchmarks behind every performance figure of swift-medmnist.
/// Build with `-c release`; add `--traits OpenBLAS` to measure OpenBLAS beside the library.
let usage = """
USAGE: medmnist-bench <group> [--json] [--case SUBSTRING] [--repetitions N] [--quick]

GROUPS:
  gemm    Matrix multiply, GFLOP/s (square 256–2048 and convolution/attention shapes; 1 thread and all cores).
  conv    conv2d forward and backward, images/s (3×3, 1×1, depthwise, strided, the 7×7 stem).
  models  Each encoder's inference and training step, images/s (cases named MODEL-RES-infer|train).

OPTIONS:
  --json            One JSON object per line: {"case": …, "value": …, "unit": …}.
  --case SUBSTRING  Only cases whose name contains SUBSTRING.
  --repetitions N   Timed repetitions per case after three warm-up runs (default 5; the median is reported).
  --quick           Tiny sizes, to check that the benchmarks run (CI); the figures mean nothing.
"""

var arguments = Array(CommandLine.arguments.dropFirst())
guard let group = arguments.first, !group.hasPrefix("-") else {
    print(usage)
    exit(arguments.isEmpty ? 0 : 2)
}
arguments.removeFirst()
var options = BenchmarkOptions()
var index = 0
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("medmnist-bench: \(message)\n\n\(usage)\n".utf8))
    exit(2)
}
while index < arguments.count {
    let argument = arguments[index]
    index += 1
    switch argument {
    case "--json": options.json = true
    case "--quick": options.quick = true; options.repetitions = 1
    case "--case":
        guard index < arguments.count else { fail("--case needs a value") }
        options.filter = arguments[index]
        index += 1
    case "--repetitions":
        guard index < arguments.count, let value = Int(arguments[index]), value > 0 else { fail("--repetitions needs a positive integer") }
        options.repetitions = value
        index += 1
    default: fail("unknown option '\(argument)'")
    }
}
switch group {
case "gemm": GEMMBenchmark.run(options)
case "conv": ConvBenchmark.run(options)
case "models": ModelsBenchmark.run(options)
default: fail("unknown group '\(group)'")
}
