import Foundation
import MedLayers
import MedModels
import MedTensor

/// `medmnist-bench models`: images/s of each encoder's inference and training step (forward + cross-entropy
/// + backward + SGD with momentum 0.9), 9 classes, with the batch sizes of PERFORMANCE.md's PyTorch table
/// (64 for 28/64-pixel rows it does not list). `Benchmarks/peer/models_peer.py` runs the same cases in PyTorch.
enum ModelsBenchmark {
    struct Case {
        let model: String; let size: Int; let batch: Int; let train: Bool
        /// Inference with BF16 matrix products (`GEMM.precision = .bfloat16`); the peer uses bf16 autocast.
        var bf16 = false
    }

    static let cases: [Case] = [
        Case(model: "resnet18", size: 28, batch: 128, train: true),
        Case(model: "resnet18", size: 28, batch: 256, train: false),
        Case(model: "resnet18", size: 64, batch: 64, train: true),
        Case(model: "resnet18", size: 224, batch: 16, train: false),
        Case(model: "resnet18", size: 224, batch: 16, train: true),
        Case(model: "alexnet", size: 224, batch: 32, train: false),
        Case(model: "vgg16", size: 224, batch: 8, train: false),
        Case(model: "densenet121", size: 224, batch: 8, train: false),
        Case(model: "efficientnet_b4", size: 224, batch: 8, train: false),
        Case(model: "densenet121", size: 64, batch: 64, train: true),
        Case(model: "efficientnet_b0", size: 64, batch: 64, train: true),
        Case(model: "efficientnet_b0", size: 28, batch: 64, train: false),
        // The ViTs (dynamic image size: 64 px resamples the position embedding to a 4×4 grid).
        Case(model: "vit_tiny_patch16_224", size: 224, batch: 16, train: false),
        Case(model: "vit_small_patch16_224", size: 224, batch: 8, train: false),
        Case(model: "vit_base_patch16_224", size: 224, batch: 8, train: false),
        Case(model: "vit_base_patch16_clip_224", size: 224, batch: 8, train: false),
        Case(model: "vit_base_patch16_clip_quickgelu_224", size: 224, batch: 8, train: false),
        Case(model: "vit_tiny_patch16_224", size: 224, batch: 16, train: true),
        Case(model: "vit_base_patch16_224", size: 64, batch: 64, train: true),
        // EVA-02 (rotary embedding rebuilt per grid) and SAM (at 224: a 14×14 grid, one window per windowed block).
        Case(model: "eva02_base_patch16_clip_224", size: 224, batch: 8, train: false),
        Case(model: "samvit_base_patch16", size: 224, batch: 8, train: false),
        // The opt-in BF16 inference mode, on CPUs with AVX512-BF16.
        Case(model: "vit_base_patch16_224", size: 224, batch: 8, train: false, bf16: true),
        Case(model: "vit_small_patch16_224", size: 224, batch: 8, train: false, bf16: true),
    ]

    static func name(_ c: Case) -> String { "\(c.model)-\(c.size)-\(c.train ? "train" : "infer")\(c.bf16 ? "-bf16" : "")" }

    static func run(_ options: BenchmarkOptions) {
        let selected = options.quick
            ? [Case(model: "resnet18", size: 28, batch: 2, train: true), Case(model: "resnet18", size: 28, batch: 2, train: false)]
            : cases
        var results: [BenchmarkResult] = []
        for c in selected where options.includes(name(c)) && (!c.bf16 || GEMM.bfloat16Supported) {
            let model = try! RandomState.withSeed(1) { try ModelRegistry.create(c.model, numClasses: 9, initialization: .layerDefaults) }
            var generator = RandomGenerator(seed: 2)
            let images = Tensor.normal([c.batch, 3, c.size, c.size], generator: &generator)
            let labels = IndexTensor((0..<c.batch).map { $0 % 9 })
            let seconds: Double
            if c.train {
                model.train()
                let optimizer = SGD(model.trainableParameters, learningRate: 0.01, momentum: 0.9)
                seconds = medianSeconds(repetitions: max(3, options.quick ? 1 : options.repetitions / 2)) {
                    optimizer.zeroGrad()
                    try! crossEntropy(logits: model(images), labels: labels).backward()  // labels are 0..<9 by construction
                    optimizer.step()
                }
            } else {
                model.eval()
                seconds = GEMM.$precision.withValue(c.bf16 ? .bfloat16 : .float32) {
                    medianSeconds(repetitions: max(3, options.quick ? 1 : options.repetitions / 2)) {
                        _ = withoutGrad { model(images) }
                    }
                }
            }
            results.append(BenchmarkResult(name: name(c), value: Double(c.batch) / seconds, unit: "images/s"))
        }
        report(results, options: options,
               title: "models, 9 classes, \(Parallel.threadCount) threads (kernel path \(KernelPath.active)); train = fwd + CE + bwd + SGD(0.9)")
    }
}
