import Foundation
import MedIO
import MedTensor

/// `medmnist system`: what the library runs on here, with a quick self-check of the GEMM kernel.
enum SystemCommand: Command {
    static let specification = CommandSpecification(
        name: "system", abstract: "Show the kernel path, threads and GEMM backend, and measure GEMM speed.",
        options: [Option("size", kind: .positiveInteger, default: "512", help: "Matrix size for the check, 1 to 8192.")],
        discussion: """
        Prints the instruction-set path the kernels use (MEDTENSOR_ISA forces one), the thread count
        (MEDTENSOR_NUM_THREADS), the GEMM backend (native, or OpenBLAS when built with --traits OpenBLAS),
        then checks an N×N×N matrix product against a Float64 reference and reports its speed.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) throws {
        let n = parsed.integer("size")!
        guard n <= 8192 else { throw UsageError("--size must be between 1 and 8192, got \(n)") }

        let supported = KernelPath.allCases.filter(\.isSupported).map(\.description).joined(separator: ", ")
        console.write("kernel path:   \(KernelPath.active) (supported here: \(supported); requested: \(KernelPath.requested?.description ?? "none"))")
        console.write("threads:       \(Parallel.threadCount)")
        console.write("GEMM backend:  \(GEMM.backend.rawValue)")

        var generator = RandomGenerator(seed: 1)
        let a = Tensor.uniform([n, n], low: -1, high: 1, generator: &generator)
        let b = Tensor.uniform([n, n], low: -1, high: 1, generator: &generator)
        _ = a.matmul(b)  // warm-up
        var times: [Double] = []
        var product = a
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            product = a.matmul(b)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let median = times.sorted()[times.count / 2]

        // Spot-check rows against Float64.
        let av = a.scalars, bv = b.scalars, cv = product.scalars
        var worst = 0.0
        for i in stride(from: 0, to: n, by: max(1, n / 8)) {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<n { sum += Double(av[i * n + p]) * Double(bv[p * n + j]) }
                worst = max(worst, abs(sum - Double(cv[i * n + j])))
            }
        }
        let gflops = 2 * Double(n) * Double(n) * Double(n) / median / 1e9
        console.write(String(format: "GEMM %d³:      %.1f GFLOP/s (median of 5), max error vs Float64 %.2e", n, gflops, worst))
        if worst > 1e-3 * Double(n).squareRoot() {
            throw CommandFailure("GEMM result differs from the Float64 reference by \(worst)")
        }
    }
}
