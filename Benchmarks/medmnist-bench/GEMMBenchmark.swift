import Foundation
import MedTensor
#if OpenBLAS
import COpenBLAS
#endif

/// `medmnist-bench gemm`: GFLOP/s of the GEMM entry point on square and model-shaped problems, on one
/// thread and on all cores; with the OpenBLAS trait, OpenBLAS measured in the same process beside it.
enum GEMMBenchmark {
    static func run(_ options: BenchmarkOptions) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let squares = options.quick ? [32, 64] : [256, 512, 1024, 2048]
        // (M, N, K): a 3×3 conv at 56×56 (im2col), a late ResNet layer, a ViT-B qkv projection.
        let shapes = options.quick ? [(16, 96, 24)] : [(64, 12544, 576), (512, 49, 4608), (197, 2304, 768)]
        let problems = squares.map { ($0, $0, $0) } + shapes
        var results: [BenchmarkResult] = []
        let savedThreads = Parallel.threadCount
        for threads in Array(Set([1, cores])).sorted() {
            for (m, n, k) in problems {
                let name = "gemm-\(m)x\(n)x\(k)-t\(threads)"
                guard options.includes(name) else { continue }
                Parallel.threadCount = threads
                let multiply = problem(m, n, k)
                #if OpenBLAS
                // Timed in alternation, so that a drifting machine slows both alike.
                openblas_set_num_threads(Int32(threads))
                let seconds = alternatingMedianSeconds(repetitions: options.repetitions, [
                    { GEMM.backend = .native; multiply() },
                    { GEMM.backend = .openBLAS; multiply() },
                ])
                var result = BenchmarkResult(name: name, value: gflops(m, n, k, seconds[0]), unit: "GFLOP/s")
                result.peer = ("openblas", gflops(m, n, k, seconds[1]))
                #else
                let seconds = medianSeconds(repetitions: options.repetitions, multiply)
                let result = BenchmarkResult(name: name, value: gflops(m, n, k, seconds), unit: "GFLOP/s")
                #endif
                results.append(result)
            }
        }
        // The opt-in BF16 products (AVX512-BF16), on the ViT shape and a square, beside nothing: compare with
        // the Float32 rows above.
        if GEMM.bfloat16Supported {
            for threads in Array(Set([1, cores])).sorted() {
                for (m, n, k) in options.quick ? [(16, 96, 24)] : [(1024, 1024, 1024), (1576, 2304, 768)] {
                    let name = "gemm-bf16-\(m)x\(n)x\(k)-t\(threads)"
                    guard options.includes(name) else { continue }
                    Parallel.threadCount = threads
                    let multiply = problem(m, n, k)
                    #if OpenBLAS
                    GEMM.backend = .native
                    #endif
                    let seconds = GEMM.$precision.withValue(.bfloat16) { medianSeconds(repetitions: options.repetitions, multiply) }
                    results.append(BenchmarkResult(name: name, value: gflops(m, n, k, seconds), unit: "GFLOP/s"))
                }
            }
        }
        Parallel.threadCount = savedThreads
        #if OpenBLAS
        GEMM.backend = .openBLAS
        #endif
        let title = "GEMM, row-major Float32, C = A·B (kernel path \(KernelPath.active), median of \(options.repetitions))"
        report(results, options: options, title: title)
    }

    /// One C = A·B on random operands (allocated once, outside the timing).
    private static func problem(_ m: Int, _ n: Int, _ k: Int) -> () -> Void {
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.uniform([m, k], low: -1, high: 1, generator: &generator)
        let b = Tensor.uniform([k, n], low: -1, high: 1, generator: &generator)
        let c = Tensor.zeros([m, n])
        return {
            GEMM.multiply(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a.contiguousPointer, lda: k,
                          b: b.contiguousPointer, ldb: n, c: c.contiguousPointer, ldc: n)
        }
    }

    private static func gflops(_ m: Int, _ n: Int, _ k: Int, _ seconds: Double) -> Double {
        2 * Double(m) * Double(n) * Double(k) / seconds / 1e9
    }
}
