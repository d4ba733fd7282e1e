import Foundation
import MedLayers
import MedMNISTData
import MedModels
import MedTensor

/// The projected cost of the paper's grid on this machine: each encoder's training and inference speed at each
/// resolution it is fed, measured here, times the images each cell processes (the catalog's split sizes).
///
/// A cell's seconds: end-to-end `E × (train / train-speed + val / infer-speed) + test / infer-speed`; the paper's
/// linear probe the same with the inference speed for the training pass (only the head has gradients, so
/// the backward pass stops there); kNN one inference pass over the three splits. Preset `paper` feeds every size
/// at 224; `fast` feeds the native size. E, the epochs early stopping lets run, is unknown before the run:
/// the projection is given at E = 100 (the bound) and at smaller E.
enum GridCostBenchmark {
    struct Speed { var train: Double; var infer: Double }

    static func run(_ options: BenchmarkOptions) {
        let models = options.quick ? ["resnet18"] : paperModels.filter { ModelRegistry.architectures.contains(ModelRegistry.split($0).architecture) }
        let sizes = options.quick ? [28] : [28, 64, 128, 224]
        var speeds: [String: Speed] = [:]
        for model in models {
            for size in sizes {
                let key = "\(model)-\(size)"
                guard options.includes(key) else { continue }
                speeds[key] = measure(model, size: size, quick: options.quick, repetitions: options.repetitions)
                let s = speeds[key]!
                print(String(format: "%@: train %.2f img/s, infer %.2f img/s", key, s.train, s.infer))
            }
        }
        let sets = MedMNISTCatalog.twoDimensional
        let epochCounts = [100, 30, 10]
        for preset in ["paper", "fast"] {
            print("\npreset \(preset): projected machine-hours of the paper's grid on this machine (12 sets × 4 sizes; " +
                  "3 seeds of end-to-end and of the linear probe, kNN once), by the epochs E early stopping lets run")
            print("| model | " + epochCounts.map { "E = \($0)" }.joined(separator: " | ") + " |")
            print("|---|" + String(repeating: "---|", count: epochCounts.count))
            var totals = [Double](repeating: 0, count: epochCounts.count), missing: [String] = []
            for model in paperModels {
                var hours = [Double](repeating: 0, count: epochCounts.count), complete = true
                for size in [28, 64, 128, 224] {
                    let fed = preset == "paper" ? 224 : size
                    guard let speed = speeds["\(model)-\(fed)"] ?? proxy(model, fed, speeds) else { complete = false; continue }
                    for info in sets {
                        let (train, val, test) = (Double(info.splitSizes.train), Double(info.splitSizes.val), Double(info.splitSizes.test))
                        for (i, epochs) in epochCounts.enumerated() {
                            let endToEnd = Double(epochs) * (train / speed.train + val / speed.infer) + test / speed.infer
                            let probe = Double(epochs) * (train + val) / speed.infer + test / speed.infer
                            let knn = (train + val + test) / speed.infer
                            hours[i] += (3 * endToEnd + 3 * probe + knn) / 3600
                        }
                    }
                }
                if !complete { missing.append(model) }
                for i in hours.indices { totals[i] += hours[i] }
                print("| \(model)\(complete ? "" : " (not all sizes measured)") | " +
                      hours.map { String(format: "%.0f", $0) }.joined(separator: " | ") + " |")
            }
            print("| **total** | " + totals.map { String(format: "**%.0f** (%.1f days)", $0, $0 / 24) }.joined(separator: " | ") + " |")
            print("array tasks of this machine's size to finish in one day: " +
                  zip(epochCounts, totals).map { "E = \($0.0): \(Int(($0.1 / 24).rounded(.up)))" }.joined(separator: ", ") +
                  (missing.isEmpty ? "" : " (partial: \(missing.joined(separator: ", ")) not measured at every size)"))
        }
    }

    /// The paper's ten encoders; CLIP, DINO (the ViT-B/16 architecture) and, until they are built, EVA-02 and
    /// SAM are projected with ViT-B/16's speed.
    static let paperModels = ["vgg16", "alexnet", "resnet18", "densenet121", "efficientnet_b4", "vit_base_patch16_224",
                              "vit_base_patch16_clip_224", "eva02_base_patch16_clip_224", "vit_base_patch16_224.dino", "samvit_base_patch16"]

    static func proxy(_ model: String, _ size: Int, _ speeds: [String: Speed]) -> Speed? {
        model.contains("vit") || model.contains("eva") ? speeds["vit_base_patch16_224-\(size)"] : nil
    }

    static func measure(_ model: String, size: Int, quick: Bool, repetitions: Int) -> Speed {
        let encoder = try! RandomState.withSeed(1) { try ModelRegistry.create(model, numClasses: 9, initialization: .layerDefaults) }
        // As the fast preset feeds it: padded up to the smallest input the architecture accepts.
        let size = max(size, encoder.minimumInputSize)
        var generator = RandomGenerator(seed: 2)
        let trainBatch = quick ? 2 : (size >= 128 ? 8 : 32), inferBatch = quick ? 2 : (size >= 128 ? 16 : 64)
        let images = Tensor.normal([trainBatch, 3, size, size], generator: &generator)
        let labels = IndexTensor((0..<trainBatch).map { $0 % 9 })
        encoder.train()
        let optimizer = Adam(encoder.trainableParameters, learningRate: 1e-4, weightDecay: 0.01, decoupledWeightDecay: true)
        let reps = quick ? 1 : max(2, repetitions / 2)
        let trainSeconds = medianSeconds(repetitions: reps) {
            optimizer.zeroGrad()
            try! crossEntropy(logits: encoder(images), labels: labels).backward()  // labels are 0..<9 by construction
            optimizer.step()
        }
        encoder.eval()
        let batch = Tensor.normal([inferBatch, 3, size, size], generator: &generator)
        let inferSeconds = medianSeconds(repetitions: reps) { _ = withoutGrad { encoder(batch) } }
        return Speed(train: Double(trainBatch) / trainSeconds, infer: Double(inferBatch) / inferSeconds)
    }
}
