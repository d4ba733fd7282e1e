import Foundation
import MedIO
import MedTestSupport
import MedTensor
import Testing
@testable import MedLayers

/// Every layer against PyTorch/timm (Tests/Fixtures/make_layer_fixtures.py): output, input gradient and
/// parameter gradients within 1e-4 relative error (max |ours − torch| / max |torch|).
@Suite struct LayerParityTests {
    static let tolerance = 1e-4

    static func module(for name: String) -> any UnaryLayer {
        switch name {
        case "linear": Linear(inFeatures: 10, outFeatures: 7)
        case "linear_nobias": Linear(inFeatures: 10, outFeatures: 4, bias: false)
        case "conv2d": Conv2d(inChannels: 6, outChannels: 8, kernelSize: 3, stride: 2, padding: 1)
        case "conv2d_grouped": Conv2d(inChannels: 6, outChannels: 9, kernelSize: [3, 2], stride: [1, 2], padding: [2, 0], dilation: [2, 1], groups: 3)
        case "conv2d_depthwise": Conv2d(inChannels: 6, outChannels: 12, kernelSize: 5, padding: 2, groups: 6, bias: false)
        case "layernorm": LayerNorm(10, eps: 1e-6)
        case "layernorm2d": LayerNorm2d(6)
        case "groupnorm": GroupNorm(groups: 3, channels: 6)
        case "act_relu": ReLU()
        case "act_relu6": ReLU6()
        case "act_gelu": GELU()
        case "act_gelu_tanh": GELU(approximateTanh: true)
        case "act_quick_gelu": QuickGELU()
        case "act_silu": SiLU()
        case "act_sigmoid": Sigmoid()
        case "act_tanh": Tanh()
        case "act_hardswish": Hardswish()
        case "act_hardsigmoid": Hardsigmoid()
        case "act_dropout0": Dropout(p: 0)
        case "act_droppath0": DropPath(p: 0)
        case "act_flatten": Flatten()
        case "maxpool_ceil": MaxPool2d(kernelSize: 3, stride: 2, ceilMode: true)
        case "avgpool_pad": AvgPool2d(kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false)
        case "adaptive_avg_7": AdaptiveAvgPool2d(outputSize: 7)
        case "squeeze_excite": SqueezeExcite(channels: 8, reducedChannels: 2, activation: ReLU())
        default: fatalError("no module for \(name)")
        }
    }

    @Test(arguments: ["linear", "linear_nobias", "conv2d", "conv2d_grouped", "conv2d_depthwise", "layernorm", "layernorm2d",
                      "groupnorm", "act_relu", "act_relu6", "act_gelu", "act_gelu_tanh", "act_quick_gelu", "act_silu",
                      "act_sigmoid", "act_tanh", "act_hardswish", "act_hardsigmoid", "act_dropout0", "act_droppath0",
                      "act_flatten", "maxpool_ceil", "avgpool_pad", "adaptive_avg_7", "squeeze_excite"])
    func matchesPyTorch(_ name: String) throws {
        let errors = try parityErrors(Self.module(for: name), LayerFixture(name))
        print("parity \(name): largest relative error \(errors.values.max() ?? 0)")
        for (what, error) in errors.sorted(by: { $0.key < $1.key }) {
            #expect(error <= Self.tolerance, "\(name) \(what): relative error \(error)")
        }
    }

    @Test func batchNormTrainingRunningStatisticsAndEval() throws {
        let fixture = try LayerFixture("batchnorm2d")
        let bn = BatchNorm2d(6)
        try bn.loadStateDict(fixture.entries(prefix: "initial."))
        bn.train()
        for step in 0..<2 { _ = bn(fixture.tensor("step\(step)")) }
        let input = fixture.tensor("input").requiringGrad()
        let output = bn(input)
        (output * fixture.tensor("projection")).sum().backward()
        #expect(relativeError(output.detached(), fixture.tensor("output")) <= Self.tolerance)
        #expect(relativeError(input.grad!, fixture.tensor("grad.input")) <= Self.tolerance)
        #expect(relativeError(bn.weight!.grad!, fixture.tensor("grad.param.weight")) <= Self.tolerance)
        #expect(relativeError(bn.bias!.grad!, fixture.tensor("grad.param.bias")) <= Self.tolerance)
        // Running statistics after three steps (momentum 0.1, unbiased variance), and the step count.
        #expect(relativeError(bn.runningMean!.value, fixture.tensor("param.running_mean")) <= 1e-5)
        #expect(relativeError(bn.runningVar!.value, fixture.tensor("param.running_var")) <= 1e-5)
        #expect(bn.numBatchesTracked!.scalar == 3)
        bn.eval()
        #expect(relativeError(bn(fixture.tensor("eval_input")), fixture.tensor("eval_output")) <= Self.tolerance)
    }
}

@Suite struct LossParityTests {
    let fixture: LayerFixture
    init() throws { fixture = try LayerFixture("losses") }

    var labels: IndexTensor {
        IndexTensor((try? fixture.file["labels"]!.int64s())!.map { Int($0) })
    }

    @Test func crossEntropyVariants() throws {
        for (name, smoothing, reduction) in [("mean", Float(0), Reduction.mean), ("sum", 0, .sum), ("smooth", 0.1, .mean)] {
            let logits = fixture.tensor("logits").requiringGrad()
            let loss = try crossEntropy(logits: logits, labels: labels, labelSmoothing: smoothing, reduction: reduction)
            loss.backward()
            #expect(relativeError(loss.detached(), fixture.tensor("ce_\(name)")) <= 1e-5, "ce \(name)")
            #expect(relativeError(logits.grad!, fixture.tensor("ce_\(name)_grad")) <= 1e-5, "ce \(name) grad")
        }
    }

    @Test func binaryCrossEntropyAndMSE() {
        let logits = fixture.tensor("logits").requiringGrad()
        let loss = binaryCrossEntropyWithLogits(logits: logits, targets: fixture.tensor("bce_targets"))
        loss.backward()
        #expect(relativeError(loss.detached(), fixture.tensor("bce")) <= 1e-5)
        #expect(relativeError(logits.grad!, fixture.tensor("bce_grad")) <= 1e-5)
        let prediction = fixture.tensor("logits").requiringGrad()
        let mse = meanSquaredError(prediction, fixture.tensor("bce_targets"))
        mse.backward()
        #expect(relativeError(mse.detached(), fixture.tensor("mse")) <= 1e-5)
        #expect(relativeError(prediction.grad!, fixture.tensor("mse_grad")) <= 1e-5)
    }

    /// Labels come from a user's file: out of range or one per row too few, they throw (naming the sample and
    /// the class count) instead of trapping, and nothing is recorded on the tape.
    @Test func crossEntropyRejectsLabelsTheLogitsCannotScore() throws {
        let logits = Tensor.zeros([3, 4]).requiringGrad()
        #expect(throws: LossError.labelOutOfRange(loss: "crossEntropy", sample: 2, label: 4, numClasses: 4)) {
            try crossEntropy(logits: logits, labels: IndexTensor([0, 3, 4]))
        }
        #expect(throws: LossError.labelOutOfRange(loss: "crossEntropy", sample: 0, label: -1, numClasses: 4)) {
            try crossEntropy(logits: logits, labels: IndexTensor([-1, 0, 0]))
        }
        let multiLabel = IndexTensor(shape: [3, 2], values: [0, 1, 1, 0, 0, 0])
        #expect(throws: LossError.labelCount(loss: "crossEntropy", labels: [3, 2], rows: 3)) {
            try crossEntropy(logits: logits, labels: multiLabel)
        }
        #expect(LossError.labelOutOfRange(loss: "crossEntropy", sample: 2, label: 4, numClasses: 4).description ==
            "crossEntropy: label 4 of sample 2 is outside 0..<4, the classes of the logits (does the model's class count match the data's?)")
        #expect(LossError.labelCount(loss: "crossEntropy", labels: [3, 2], rows: 3).description ==
            "crossEntropy: labels of shape [3, 2] do not give one class index for each of the 3 rows of logits")
        // [N, 1] labels, as a BatchLoader gives them, are one index per row.
        #expect(try crossEntropy(logits: logits, labels: IndexTensor(shape: [3, 1], values: [0, 1, 3])).item > 0)
    }
}

/// The fused layer norm's backward rule against finite differences (input, weight and bias; a weight-only
/// norm; two normalised axes), and its forward pass against the eight-op composition it replaced.
@Suite struct LayerNormGradientTests {
    @Test func fusedBackwardMatchesFiniteDifferences() {
        let norm = LayerNorm([6], eps: 1e-5)
        GradientCheck().run([randomTensor([3, 4, 6], seed: 1), randomTensor([6], seed: 2), randomTensor([6], seed: 3)]) { x in
            LayerNormKernels.forward(x[0], count: 6, weight: x[1], bias: x[2], eps: norm.eps)
        }
        GradientCheck().run([randomTensor([5, 7], seed: 4), randomTensor([7], seed: 5)]) { x in
            LayerNormKernels.forward(x[0], count: 7, weight: x[1], bias: nil, eps: 1e-6)
        }
        GradientCheck().run([randomTensor([2, 3, 4], seed: 6), randomTensor([3, 4], seed: 7), randomTensor([3, 4], seed: 8)]) { x in
            LayerNormKernels.forward(x[0], count: 12, weight: x[1], bias: x[2], eps: 1e-5)
        }
    }

    @Test func fusedForwardEqualsTheComposition() {
        let x = randomTensor([9, 50], seed: 9), w = randomTensor([50], seed: 10), b = randomTensor([50], seed: 11)
        let mean = x.mean(axes: [1], keepDims: true), centered = x - mean
        let composed = centered * (centered.square().mean(axes: [1], keepDims: true) + 1e-5).rsqrt() * w + b
        #expect(relativeError(LayerNormKernels.forward(x, count: 50, weight: w, bias: b, eps: 1e-5), composed) < 1e-6)
    }
}

@Suite struct OptimizerParityTests {
    /// 20 steps on L(p) = mean((p·a − b)²) + 0.01·Σp⁴, compared step by step with torch.optim.
    @Test(arguments: ["sgd_momentum", "sgd_nesterov_wd", "sgd_dampening", "adam", "adam_l2", "adamw"])
    func trajectoryMatchesPyTorch(_ name: String) throws {
        let fixture = try LayerFixture("optimizers")
        let (a, b) = (fixture.tensor("a"), fixture.tensor("b"))
        let parameter = Parameter(fixture.tensor("start"))
        let optimizer: any Optimizer = switch name {
        case "sgd_momentum": SGD([parameter], learningRate: 0.05, momentum: 0.9)
        case "sgd_nesterov_wd": SGD([parameter], learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        case "sgd_dampening": SGD([parameter], learningRate: 0.05, momentum: 0.8, dampening: 0.3)
        case "adam": Adam([parameter], learningRate: 0.01)
        case "adam_l2": Adam([parameter], learningRate: 0.01, weightDecay: 0.1)
        default: AdamW([parameter], learningRate: 0.01, weightDecay: 0.01)
        }
        let trajectory = fixture.tensor("\(name)_trajectory")
        for step in 0..<20 {
            optimizer.zeroGrad()
            let p = parameter.value
            let loss = (p * a - b).square().mean() + p.pow(4).sum() * 0.01
            loss.backward()
            optimizer.step()
            let error = relativeError(parameter.value.detached(), trajectory.selected(axis: 0, index: step))
            #expect(error <= 1e-5, "\(name) step \(step + 1): relative error \(error)")
        }
    }

    /// One step over parameters whose elements the threads split mid-parameter (110K elements in runs of at
    /// least 32K): every element equals the formula applied to it alone, and two threads give one thread's bits.
    @Test(arguments: ["sgd", "adamw"])
    func stepOverManyParametersIsElementwiseAndThreadIndependent(_ name: String) {
        func run(threads: Int) -> (before: [[Float]], after: [[Float]]) {
            let saved = Parallel.threadCount
            Parallel.threadCount = threads
            defer { Parallel.threadCount = saved }
            let parameters = [40_000, 3, 70_000, 1].enumerated().map { index, count in
                Parameter(Tensor((0..<count).map { Float(($0 * 7 + index) % 101) / 50 - 1 }))
            }
            let optimizer: any Optimizer = name == "sgd"
                ? SGD(parameters, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
                : AdamW(parameters, learningRate: 0.01, weightDecay: 0.01)
            let before = parameters.map { $0.value.scalars }
            for _ in 0..<2 {  // the second step uses the state the first one made
                optimizer.zeroGrad()
                let losses = parameters.map { ($0.value * $0.value * 0.5).sum() }
                losses.dropFirst().reduce(losses[0], +).backward()
                optimizer.step()
            }
            return (before, parameters.map { $0.value.scalars })
        }
        let one = run(threads: 1), two = run(threads: 2)
        #expect(one.after == two.after)
        // The gradient of ½p² is p: replay both steps on each element alone.
        for (p, start) in one.before.enumerated() {
            for i in stride(from: 0, to: start.count, by: 997) {
                var theta = start[i], m: Float = 0, v: Float = 0, buffer: Float = 0
                for step in 1...2 {
                    let g = theta
                    if name == "sgd" {
                        let decayed = g + 0.01 * theta
                        buffer = step == 1 ? decayed : 0.9 * buffer + (1 - 0) * decayed
                        theta -= 0.1 * buffer
                    } else {
                        theta *= 1 - 0.01 * 0.01
                        m += (1 - 0.9) * (g - m)
                        v = v * 0.999 + (1 - 0.999) * g * g
                        // Adam's bias corrections: β^t in Float64 of the Float32 β, as the optimizer takes it.
                        func power(_ beta: Float) -> Float { Float(Foundation.pow(Double(beta), Double(step))) }
                        let denominator = v.squareRoot() / (1 - power(0.999)).squareRoot() + 1e-8
                        theta -= 0.01 / (1 - power(0.9)) * (m / denominator)
                    }
                }
                #expect(one.after[p][i] == theta, "\(name): parameter \(p) element \(i)")
            }
        }
    }

    @Test func stateSavesAndResumesExactly() throws {
        func run(_ steps: Int, resumeAfter split: Int?) throws -> [Float] {
            let parameter = Parameter(Tensor([1, -2, 3]))
            var optimizer = AdamW([parameter], learningRate: 0.1)
            for step in 0..<steps {
                if step == split {
                    let state = optimizer.stateDict()
                    let values = parameter.value.scalars
                    let restored = Parameter(Tensor(values))
                    optimizer = AdamW([restored], learningRate: 0.1)
                    try optimizer.loadStateDict(state)
                    return try continueRun(optimizer, restored, steps - step)
                }
                optimizer.zeroGrad()
                (parameter.value.square() * Tensor([1, 2, 3])).sum().backward()
                optimizer.step()
            }
            return parameter.value.scalars
        }
        func continueRun(_ optimizer: Adam, _ parameter: Parameter, _ steps: Int) throws -> [Float] {
            for _ in 0..<steps {
                optimizer.zeroGrad()
                (parameter.value.square() * Tensor([1, 2, 3])).sum().backward()
                optimizer.step()
            }
            return parameter.value.scalars
        }
        #expect(try run(10, resumeAfter: nil) == run(10, resumeAfter: 4))
        let bad = AdamW([Parameter(Tensor([1, 2]))])
        #expect(throws: OptimizerStateError.self) { try bad.loadStateDict([("state.0.exp_avg", TypedArray(floats: [1, 2, 3], shape: [3]))]) }
    }

    @Test func gradientClippingMatchesPyTorchRule() {
        let a = Parameter(Tensor([3, 0])), b = Parameter(Tensor([4]))
        (a.value.sum() * 0 + (a.value * Tensor([3, 0])).sum() + (b.value * 4).sum()).backward()
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs(a.grad!.scalars[0] - 3 / (5 + 1e-6)) < 1e-6 && abs(b.grad!.scalars[0] - 4 / (5 + 1e-6)) < 1e-6)
    }
}

@Suite struct ScheduleTests {
    @Test func cosineMatchesTimmAsThePaperUsesIt() throws {
        let fixture = try LayerFixture("schedules")
        let expected = fixture.file["paper_epoch_lr"]!.floats()
        let schedule = CosineSchedule(baseLearningRate: 1e-4, cycleLength: 100)
        for epoch in 0..<100 {
            #expect(abs(schedule.learningRateForPaperEpoch(epoch) - expected[epoch]) <= 1e-6 * 1e-4, "epoch \(epoch)")
        }
        // MEDMNIST.md §1.4: epochs 0 and 1 use 1e-4, epoch 2 ≈ 0.99975e-4, epoch 3 ≈ 0.99901e-4.
        #expect(schedule.learningRateForPaperEpoch(1) == 1e-4)
        #expect(abs(schedule.learningRateForPaperEpoch(2) - 0.99975e-4) < 1e-9)
        let warm = CosineSchedule(baseLearningRate: 0.1, cycleLength: 30, minimum: 1e-3, warmupLength: 5, warmupStart: 1e-4)
        let warmExpected = fixture.file["warmup_lr"]!.floats()
        for t in 0..<40 { #expect(abs(warm.learningRate(at: t) - warmExpected[t]) <= 1e-7, "warm-up t=\(t)") }
    }

    @Test func stepSchedules() {
        #expect(StepSchedule(baseLearningRate: 1, stepSize: 10, gamma: 0.5).learningRate(at: 25) == 0.25)
        #expect(abs(MultiStepSchedule(baseLearningRate: 1, milestones: [5, 8], gamma: 0.1).learningRate(at: 8) - 0.01) < 1e-9)
        let warm = LinearWarmup(StepSchedule(baseLearningRate: 1, stepSize: 100), warmupSteps: 4)
        #expect(warm.learningRate(at: 2) == 0.5 && warm.learningRate(at: 4) == 1)
    }
}
