import Foundation
import MedTensor

/// `medmnist-bench conv`: conv2d forward and backward in images/s on the shapes that dominate the paper's
/// CNNs, on all cores. "fwd" times the forward pass; "bwd" times the backward pass alone (input, weight and
/// bias gradients) after an untimed forward, as `Benchmarks/peer/conv_peer.py` does in PyTorch.
enum ConvBenchmark {
    struct Case {
        let name: String
        let batch: Int, inChannels: Int, outChannels: Int, size: Int, kernel: Int, stride: Int, padding: Int, groups: Int
    }

    /// The cases of issue 3 (batch 8): 3×3 64→64 at 56², 1×1 256→64 at 56², depthwise 3×3 144 ch at 56²,
    /// 3×3 stride 2 64→128 at 56², and the 7×7 stride-2 stem at 224².
    static func cases(quick: Bool) -> [Case] {
        if quick {
            return [Case(name: "conv3x3-8-8-12-b2", batch: 2, inChannels: 8, outChannels: 8, size: 12, kernel: 3, stride: 1, padding: 1, groups: 1),
                    Case(name: "dw3x3-8-12-b2", batch: 2, inChannels: 8, outChannels: 8, size: 12, kernel: 3, stride: 1, padding: 1, groups: 8)]
        }
        return [
            Case(name: "conv3x3-64-64-56-b8", batch: 8, inChannels: 64, outChannels: 64, size: 56, kernel: 3, stride: 1, padding: 1, groups: 1),
            Case(name: "conv1x1-256-64-56-b8", batch: 8, inChannels: 256, outChannels: 64, size: 56, kernel: 1, stride: 1, padding: 0, groups: 1),
            Case(name: "dw3x3-144-56-b8", batch: 8, inChannels: 144, outChannels: 144, size: 56, kernel: 3, stride: 1, padding: 1, groups: 144),
            Case(name: "conv3x3s2-64-128-56-b8", batch: 8, inChannels: 64, outChannels: 128, size: 56, kernel: 3, stride: 2, padding: 1, groups: 1),
            Case(name: "stem7x7s2-3-64-224-b8", batch: 8, inChannels: 3, outChannels: 64, size: 224, kernel: 7, stride: 2, padding: 3, groups: 1),
            // ResNet-18 at 28 px, inference batch 256: the stem, one conv per stage, the first stride-2 conv.
            Case(name: "r18-28-stem7x7s2-3-64-28-b256", batch: 256, inChannels: 3, outChannels: 64, size: 28, kernel: 7, stride: 2, padding: 3, groups: 1),
            Case(name: "r18-28-conv3x3-64-64-7-b256", batch: 256, inChannels: 64, outChannels: 64, size: 7, kernel: 3, stride: 1, padding: 1, groups: 1),
            Case(name: "r18-28-conv3x3s2-64-128-7-b256", batch: 256, inChannels: 64, outChannels: 128, size: 7, kernel: 3, stride: 2, padding: 1, groups: 1),
            Case(name: "r18-28-conv3x3-128-128-4-b256", batch: 256, inChannels: 128, outChannels: 128, size: 4, kernel: 3, stride: 1, padding: 1, groups: 1),
            Case(name: "r18-28-conv3x3-256-256-2-b256", batch: 256, inChannels: 256, outChannels: 256, size: 2, kernel: 3, stride: 1, padding: 1, groups: 1),
            Case(name: "r18-28-conv3x3-512-512-1-b256", batch: 256, inChannels: 512, outChannels: 512, size: 1, kernel: 3, stride: 1, padding: 1, groups: 1),
        ]
    }

    static func run(_ options: BenchmarkOptions) {
        var results: [BenchmarkResult] = []
        for c in cases(quick: options.quick) {
            var generator = RandomGenerator(seed: 1)
            let input = Tensor.uniform([c.batch, c.inChannels, c.size, c.size], low: -1, high: 1, generator: &generator)
            let weight = Tensor.uniform([c.outChannels, c.inChannels / c.groups, c.kernel, c.kernel], low: -0.1, high: 0.1, generator: &generator)
            let bias = Tensor.uniform([c.outChannels], low: -0.1, high: 0.1, generator: &generator)
            func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
                x.conv2d(weight: w, bias: b, stride: Size2(c.stride), padding: Size2(c.padding), groups: c.groups)
            }
            if options.includes("\(c.name)-fwd") {
                let seconds = medianSeconds(repetitions: options.repetitions) { _ = withoutGrad { forward(input, weight, bias) } }
                results.append(BenchmarkResult(name: "\(c.name)-fwd", value: Double(c.batch) / seconds, unit: "images/s"))
            }
            if options.includes("\(c.name)-bwd") {
                var times: [Double] = []
                for repetition in 0..<(warmUpRuns + max(options.repetitions, 1)) {
                    let x = input.requiringGrad(), w = weight.requiringGrad(), b = bias.requiringGrad()
                    let output = forward(x, w, b)
                    let seed = Tensor.ones(output.shape)
                    let start = DispatchTime.now().uptimeNanoseconds
                    output.backward(seed)
                    if repetition >= warmUpRuns { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
                }
                times.sort()
                results.append(BenchmarkResult(name: "\(c.name)-bwd", value: Double(c.batch) / times[times.count / 2], unit: "images/s"))
            }
        }
        report(results, options: options,
               title: "conv2d, NCHW Float32, \(Parallel.threadCount) threads (kernel path \(KernelPath.active), median of \(options.repetitions))")
    }
}
