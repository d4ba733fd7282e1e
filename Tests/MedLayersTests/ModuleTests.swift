import Foundation
import MedIO
import MedTestSupport
import MedTensor
import Testing
@testable import MedLayers

/// A block with timm-style names, an optional submodule and a buffer.
final class ToyBlock: Module, UnaryLayer {
    let conv1: Conv2d
    let bn1: BatchNorm2d
    let act1 = ReLU()
    let downsample: Sequential?
    let layerScale: Parameter
    let patchEmbed = Linear(inFeatures: 2, outFeatures: 2)
    let clsToken = Parameter(Tensor.zeros([1, 1, 2]))

    init(downsample: Bool) {
        conv1 = Conv2d(inChannels: 2, outChannels: 2, kernelSize: 3, padding: 1, bias: false)
        bn1 = BatchNorm2d(2)
        self.downsample = downsample ? Sequential(Conv2d(inChannels: 2, outChannels: 2, kernelSize: 1, bias: false), BatchNorm2d(2)) : nil
        layerScale = Parameter(Tensor.ones([2]))
        super.init()
    }

    override var keyOverrides: [String: String] { ["layerScale": "gamma"] }

    func callAsFunction(_ input: Tensor) -> Tensor {
        let shortcut = downsample?(input) ?? input
        return act1(bn1(conv1(input)) + shortcut)
    }
}

/// The CNN whose checkpoint the fixture script verifies in PyTorch (make_layer_fixtures.py: small_cnn).
func smallCNN() -> Sequential {
    Sequential(Conv2d(inChannels: 3, outChannels: 8, kernelSize: 3, padding: 1), BatchNorm2d(8), ReLU(), MaxPool2d(kernelSize: 2),
               Conv2d(inChannels: 8, outChannels: 4, kernelSize: 3), BatchNorm2d(4), ReLU(), AdaptiveAvgPool2d(outputSize: 1),
               Flatten(), Linear(inFeatures: 4, outFeatures: 3))
}

@Suite struct ModuleTests {
    @Test func reflectedKeysFollowPyTorch() {
        let keys = ToyBlock(downsample: true).stateDict().map(\.key)
        #expect(keys == [
            "gamma", "cls_token",
            "conv1.weight",
            "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
            "downsample.0.weight",
            "downsample.1.weight", "downsample.1.bias", "downsample.1.running_mean", "downsample.1.running_var",
            "downsample.1.num_batches_tracked",
            "patch_embed.weight", "patch_embed.bias",
        ])
        // An absent optional submodule contributes no keys.
        #expect(!ToyBlock(downsample: false).stateDict().contains { $0.key.hasPrefix("downsample") })
        #expect(snakeCased("runningMean") == "running_mean" && snakeCased("layer4") == "layer4" && snakeCased("fc1G") == "fc1_g")
    }

    @Test func dtypesOfTheStateDict() {
        let entries = ToyBlock(downsample: false).stateDict()
        #expect(entries.first { $0.key == "bn1.num_batches_tracked" }?.array.dtype == .int64)
        #expect(entries.first { $0.key == "bn1.num_batches_tracked" }?.array.shape == [])
        #expect(entries.filter { $0.key != "bn1.num_batches_tracked" }.allSatisfy { $0.array.dtype == .float32 })
    }

    @Test func sequentialIndicesCountParameterlessLayers() {
        let keys = smallCNN().stateDict().map(\.key)
        #expect(keys.contains("4.weight") && keys.contains("9.bias") && keys.contains("5.num_batches_tracked"))
    }

    @Test func modesRecurseAndFreezeKeepsTheHead() {
        let model = smallCNN()
        model.eval()
        #expect(model.namedModules().allSatisfy { !$0.module.isTraining })
        model.train()
        #expect(model.namedModules().allSatisfy { $0.module.isTraining })
        model.freeze(except: ["9"])
        #expect(model.trainableParameters.count == 2)
        #expect(model.trainableParameterCount == 4 * 3 + 3)
        #expect(model.parameterCount == (3 * 8 * 9 + 8) + 16 + (8 * 4 * 9 + 4) + 8 + 15)
        model.unfreeze()
        #expect(model.trainableParameterCount == model.parameterCount)
        #expect(model.summary().contains("(9): Linear"))
    }

    @Test func checkpointRoundTripIsBitExactAndKeepsInt64() throws {
        let model = RandomState.withSeed(11) { smallCNN() }
        var generator = RandomGenerator(seed: 3)
        for _ in 0..<3 { _ = model(Tensor.normal([2, 3, 8, 8], generator: &generator)) }  // moves BN statistics
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.appending("model.safetensors")
        try model.save(to: url)
        let file = try SafeTensorsFile.read(contentsOf: url)
        #expect(file["1.num_batches_tracked"]?.dtype == .int64)
        #expect(try file["1.num_batches_tracked"]?.int64s() == [3])
        let reloaded = RandomState.withSeed(99) { smallCNN() }
        try reloaded.load(contentsOf: url)
        for (a, b) in zip(model.stateDict(), reloaded.stateDict()) {
            #expect(a.key == b.key && a.array == b.array, "\(a.key) differs after reloading")
        }
    }

    /// `load(contentsOf:)` reads PyTorch files as well as safetensors (by content, not by name): PyTorch's
    /// `Sequential(Conv2d, BatchNorm2d, ReLU, Flatten, Linear)` state dict, saved both ways, loads identically.
    @Test(arguments: ["module.pth", "module_legacy.pth"])
    func loadReadsPyTorchCheckpoints(_ name: String) throws {
        func torchModule() -> Sequential {
            Sequential(Conv2d(inChannels: 3, outChannels: 4, kernelSize: 3), BatchNorm2d(4), ReLU(), Flatten(),
                       Linear(inFeatures: 16, outFeatures: 2))
        }
        let fromTorch = torchModule(), fromSafetensors = torchModule()
        #expect(try fromTorch.load(contentsOf: Fixtures.url("torch/\(name)")).loaded == 9)
        try fromSafetensors.load(contentsOf: Fixtures.url("torch/module.safetensors"))
        for (a, b) in zip(fromTorch.stateDict(), fromSafetensors.stateDict()) {
            #expect(a.key == b.key && a.array == b.array, "\(a.key)")
        }
    }

    /// Writes the checkpoint that `make_layer_fixtures.py --verify` loads in PyTorch, and checks that the
    /// committed copy is exactly what the library writes today. MEDLAYERS_WRITE_FIXTURES=1 rewrites it.
    @Test func swiftWrittenCheckpointForPyTorch() throws {
        let model = RandomState.withSeed(2024) { smallCNN() }
        var generator = RandomGenerator(seed: 5)
        for _ in 0..<2 { _ = model(Tensor.normal([4, 3, 8, 8], generator: &generator)) }
        model.eval()
        let input = Tensor.normal([2, 3, 8, 8], generator: &generator)
        let output = model(input)
        let directory = Fixtures.url("layers")
        let written = try SafeTensorsFile(model.stateDict().map { ($0.key, $0.array) }).encode()
        let io = try SafeTensorsFile([("input", TypedArray(floats: input.scalars, shape: input.shape)),
                                      ("output", TypedArray(floats: output.scalars, shape: output.shape))]).encode()
        if ProcessInfo.processInfo.environment["MEDLAYERS_WRITE_FIXTURES"] == "1" {
            try Data(written).write(to: directory.appendingPathComponent("swift_cnn.safetensors"))
            try Data(io).write(to: directory.appendingPathComponent("swift_cnn_io.safetensors"))
        }
        // The committed file must be what the library writes today: same keys, dtypes and shapes, and values
        // equal up to the last bits that another kernel path (MEDTENSOR_ISA) may round differently.
        let committed = try SafeTensorsFile.read(contentsOf: directory.appendingPathComponent("swift_cnn.safetensors"))
        let current = try SafeTensorsFile.decode(written)
        #expect(committed.names == current.names, "the library now writes other keys; regenerate and re-verify in PyTorch")
        for (name, array) in current.entries {
            guard let stored = committed[name] else { continue }
            #expect(stored.dtype == array.dtype && stored.shape == array.shape, "\(name): dtype or shape changed")
            #expect(relativeError(stored.floats(), array.floats()) <= 1e-5, "\(name): values changed")
        }
        let committedIO = try SafeTensorsFile.read(contentsOf: directory.appendingPathComponent("swift_cnn_io.safetensors"))
        #expect(relativeError(output, LayerFixture.tensor(committedIO, "output")) <= 1e-6)
    }

    @Test func mismatchedCheckpointReportsEveryProblemWithSuggestions() throws {
        var entries = smallCNN().stateDict()
        // Three wrong keys: a misspelling, a wrong index, and a missing tensor.
        entries = entries.compactMap { entry in
            switch entry.key {
            case "0.weight": return ("0.weigth", entry.array)
            case "9.bias": return ("8.bias", entry.array)
            case "4.bias": return nil
            default: return entry
            }
        }
        entries.append(("1.weight_extra", TypedArray(floats: [1], shape: [1])))
        let target = smallCNN()
        let before = target.stateDict()
        do {
            try target.loadStateDict(entries)
            Issue.record("loading a mismatched checkpoint must throw")
        } catch let error as StateDictMismatch {
            let text = error.description
            #expect(error.problems.filter { $0.kind == .missing }.map(\.key).sorted() == ["0.weight", "4.bias", "9.bias"])
            #expect(error.problems.filter { $0.kind == .unexpected }.map(\.key).sorted() == ["0.weigth", "1.weight_extra", "8.bias"])
            #expect(text.contains("'0.weigth'") && text.contains("did you mean '0.weight'?"))
            #expect(text.contains("missing: '0.weight' — did you mean '0.weigth'?"))
            #expect(text.contains("unexpected: '1.weight_extra' — did you mean '1.weight'?"))
            #expect(text.contains("unexpected: '8.bias' — did you mean '"))
        }
        // Nothing was written by the failed load.
        #expect(zip(before, target.stateDict()).allSatisfy { $0.array == $1.array })
    }

    @Test func shapeMismatchAndClassifierReplacement() throws {
        let source = smallCNN()
        let target = Sequential(Array(smallCNN().layers.dropLast()) + [Linear(inFeatures: 4, outFeatures: 7)])
        #expect(throws: StateDictMismatch.self) { try target.loadStateDict(source.stateDict()) }
        let head = target[9] as! Linear
        let freshHead = head.weight.value.scalars
        let report = try target.loadStateDict(source.stateDict(), options: LoadOptions(reinitializedPrefixes: ["9"]))
        #expect(report.reinitialized.sorted() == ["9.bias", "9.weight"])
        #expect(head.weight.value.scalars == freshHead)
        #expect((target[0] as! Conv2d).weight.value.scalars == (source[0] as! Conv2d).weight.value.scalars)
        // Older checkpoints without num_batches_tracked load by default.
        let withoutCounters = source.stateDict().filter { !$0.key.hasSuffix("num_batches_tracked") }
        #expect(try smallCNN().loadStateDict(withoutCounters).missing.count == 2)
        // F16 and BF16 checkpoints convert.
        let half = source.stateDict().map { entry in
            entry.array.dtype == .float32 ? (entry.key, TypedArray(floats: entry.array.floats(), shape: entry.array.shape, as: .bfloat16)) : entry
        }
        #expect(try smallCNN().loadStateDict(half).loaded == source.stateDict().count)
    }

    @Test func smallCNNOverfitsOneBatch() throws {
        let model = RandomState.withSeed(1) { smallCNN() }
        var generator = RandomGenerator(seed: 9)
        let images = Tensor.normal([6, 3, 8, 8], generator: &generator)
        let labels = IndexTensor([0, 1, 2, 0, 1, 2])
        let optimizer = AdamW(model.trainableParameters, learningRate: 0.02)
        var loss = Float.infinity
        for _ in 0..<150 {
            optimizer.zeroGrad()
            let value = try crossEntropy(logits: model(images), labels: labels)
            value.backward()
            optimizer.step()
            loss = value.item
        }
        #expect(loss < 0.02, "loss after 150 steps: \(loss)")
    }

    @Test func defaultInitialisationsHaveTheirDistributions() { RandomState.withSeed(4) {
        let linear = Linear(inFeatures: 400, outFeatures: 300)
        let w = linear.weight.value.scalars
        let bound: Float = 1 / 20
        #expect(w.allSatisfy { abs($0) <= bound })
        let variance = w.map { $0 * $0 }.reduce(0, +) / Float(w.count)
        #expect(abs(variance - bound * bound / 3) < 0.03 * bound * bound / 3)
        let conv = Conv2d(inChannels: 16, outChannels: 32, kernelSize: 3)
        #expect(conv.weight.value.scalars.allSatisfy { abs($0) <= 1 / Float(16 * 9).squareRoot() })
        let t = Initializer.truncatedNormal([100_000], std: 0.02).scalars
        let mean = t.reduce(0, +) / Float(t.count)
        let std = (t.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(t.count)).squareRoot()
        #expect(abs(mean) < 3e-4 && abs(std - 0.02) < 4e-4 && t.allSatisfy { abs($0) <= 2 })
        let cut = Initializer.truncatedNormal([50_000], std: 1, lower: -1, upper: 1).scalars
        // A standard normal cut at ±1 has variance 1 − 2φ(1)/(2Φ(1)−1) ≈ 0.2911.
        let cutVariance = cut.map { $0 * $0 }.reduce(0, +) / Float(cut.count)
        #expect(cut.allSatisfy { abs($0) <= 1 } && abs(cutVariance - 0.2911) < 0.01)
        #expect(linear.bias!.value.scalars.allSatisfy { abs($0) <= bound })
        #expect(BatchNorm2d(3).weight!.value.scalars == [1, 1, 1] && LayerNorm(3).bias!.value.scalars == [0, 0, 0])
    } }
}

@Suite struct DropoutTests {
    @Test func dropoutZeroesAboutPAndKeepsTheMean() {
        RandomState.withSeed(3) {
            let dropout = Dropout(p: 0.25)
            let output = dropout(Tensor.ones([100_000])).scalars
            let zeros = output.filter { $0 == 0 }.count
            #expect(abs(Double(zeros) / 100_000 - 0.25) < 0.01)
            #expect(output.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
            dropout.eval()
            #expect(dropout(Tensor.ones([10])).scalars == [Float](repeating: 1, count: 10))
        }
    }

    @Test func dropPathDropsWholeSamples() {
        RandomState.withSeed(4) {
            let output = DropPath(p: 0.5)(Tensor.ones([400, 3, 2]))
            let perSample = output.reshaped([400, 6]).scalars
            for sample in 0..<400 {
                let row = perSample[(sample * 6)..<((sample + 1) * 6)]
                #expect(Set(row).count == 1 && (row.first == 0 || row.first == 2))
            }
        }
    }
}

@Suite struct ConvBatchNormFoldingTests {
    @Test func foldedEvaluationEqualsTwoLayersAndFollowsUpdates() {
        RandomState.withSeed(8) {
            let conv = Conv2d(inChannels: 3, outChannels: 5, kernelSize: 3, padding: 1)
            let bn = BatchNorm2d(5)
            var generator = RandomGenerator(seed: 1)
            for _ in 0..<3 { _ = bn(conv(Tensor.normal([4, 3, 6, 6], generator: &generator))) }  // running statistics
            bn.eval()
            let x = Tensor.normal([2, 3, 6, 6], generator: &generator)
            let reference = withoutGrad { bn(conv(x)) }
            let folded = withoutGrad { convBatchNorm(conv, bn, x) }
            #expect(relativeError(folded, reference) < 1e-5)
            #expect(bn.foldCache != nil)
            // Loading new weights (or an optimizer step) invalidates the cache.
            conv.weight.assign(conv.weight.value * 2)
            #expect(relativeError(withoutGrad { convBatchNorm(conv, bn, x) }, withoutGrad { bn(conv(x)) }) < 1e-5)
            // The state dict is untouched by folding.
            #expect(!conv.stateDict().contains { $0.key.contains("fold") })
            // With gradients wanted, the unfused path runs and the parameters get gradients.
            let loss = convBatchNorm(conv, bn, x).sum()
            loss.backward()
            #expect(conv.weight.grad != nil && bn.weight!.grad != nil)
            // Training mode never uses the cache.
            bn.train()
            #expect(relativeError(withoutGrad { convBatchNorm(conv, bn, x) }, withoutGrad { BatchNorm2d(5)(conv(x)) }) < 1e-5)
        }
    }
}

@Suite struct BatchNormReLUOfConcatenationTests {
    /// The fused evaluation pass equals concatenate → BatchNorm2d → ReLU bit for bit (three maps, some
    /// values driven negative so that ReLU matters, a NaN that must survive); with gradients on, or in training
    /// mode, it is the composed ops and the gradients reach every map.
    @Test func fusedEvaluationEqualsTheComposedOps() {
        RandomState.withSeed(3) {
            let bn = BatchNorm2d(7)
            var generator = RandomGenerator(seed: 4)
            for _ in 0..<2 { _ = bn(Tensor.normal([5, 7, 3, 4], generator: &generator)) }  // running statistics
            bn.eval()
            let maps = [Tensor.normal([2, 3, 3, 4], generator: &generator), Tensor.normal([2, 1, 3, 4], generator: &generator),
                        Tensor.normal([2, 3, 3, 4], generator: &generator).permuted([0, 1, 3, 2]).permuted([0, 1, 3, 2])]
            var withNaN = maps[1].scalars
            withNaN[5] = .nan
            let inputs = [maps[0], Tensor(shape: [2, 1, 3, 4], scalars: withNaN), maps[2]]
            let composed = withoutGrad { bn(Tensor.concatenate(inputs, axis: 1)).relu() }.scalars
            let fused = withoutGrad { bn.reluOfConcatenation(inputs) }.scalars
            #expect(composed.contains(0) && composed.contains { $0.isNaN })
            #expect(fused.map(\.bitPattern) == composed.map(\.bitPattern))

            let leaves = maps.map { $0.requiringGrad() }
            bn.reluOfConcatenation(leaves).sum().backward()
            #expect(leaves.allSatisfy { $0.grad != nil })
            bn.train()
            let training = withoutGrad { bn.reluOfConcatenation(maps) }
            #expect(training.scalars == withoutGrad { BatchNorm2d(7)(Tensor.concatenate(maps, axis: 1)).relu() }.scalars)
        }
    }
}
