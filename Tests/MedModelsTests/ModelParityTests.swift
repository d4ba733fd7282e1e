import Foundation
import MedTestSupport
import MedLayers
import MedTensor
import Testing
@testable import MedModels

/// Evaluation-mode parity with timm/torchvision: logits and pre-logit features within 1e-4 relative error
/// (max |ours − reference| / max |reference|) at every resolution the fixture has. The references are
/// PyTorch's in float64, so they measure our float32 error alone. Reduced variants run
/// always (committed fixtures); full-size models when `Tests/Fixtures/models-full/` exists.
@Suite(.serialized) struct ModelParityTests {
    static let tolerance = 1e-4

    @Test(arguments: ModelFixtures.reducedModels)
    func reducedVariantMatchesTimm(_ name: String) throws {
        let results = try evalParity(name, full: false)
        #expect(!results.isEmpty)
        for result in results {
            print("parity \(name) @\(result.resolution): logits \(result.logits), features \(result.features) (PyTorch float32: \(result.torch))")
            #expect(result.logits <= Self.tolerance, "\(name) @\(result.resolution) logits: \(result.logits)")
            #expect(result.features <= Self.tolerance, "\(name) @\(result.resolution) features: \(result.features)")
        }
    }

    /// Runs the models whose full-size fixture exists; ``fullSizeFixturesAreAllPresent()`` reports the others
    /// as skipped (a test case cannot be skipped on its own).
    @Test(.enabled(if: ModelFixtures.fullAvailable, Comment(rawValue: ModelFixtures.regenerateHint)),
          arguments: ModelFixtures.fullModels.filter { ModelFixtures.exists($0, full: true) })
    func fullSizeModelMatchesTimm(_ name: String) throws {
        let results = try evalParity(name, full: true)
        #expect(results.contains { $0.resolution == "224" }, "\(name): the full fixture has no 224 case")
        for result in results {
            print("parity \(name) (full) @\(result.resolution): logits \(result.logits), features \(result.features) (PyTorch float32: \(result.torch))")
            #expect(result.logits <= Self.tolerance, "\(name) @\(result.resolution) logits: \(result.logits)")
            #expect(result.features <= Self.tolerance, "\(name) @\(result.resolution) features: \(result.features)")
        }
    }

    /// The opt-in BF16 inference mode on the transformers' fixtures: how far it moves logits and features
    /// from timm's Float64 reference (printed; the figure Documentation/Performance.md quotes), bounded, and
    /// larger than the Float32 path's error, which shows that it ran.
    @Test(.enabled(if: GEMM.bfloat16Supported, "this CPU has no AVX512-BF16"),
          arguments: ModelFixtures.reducedViTs + ModelFixtures.reducedEvaSAM)
    func bfloat16InferenceStaysCloseToTimm(_ name: String) throws {
        let exact = try evalParity(name, full: false)
        let reduced = try GEMM.$precision.withValue(.bfloat16) { try evalParity(name, full: false) }
        for (fp32, bf16) in zip(exact, reduced) {
            print("bf16 parity \(name) @\(bf16.resolution): logits \(bf16.logits), features \(bf16.features) (fp32: \(fp32.logits), \(fp32.features))")
            #expect(bf16.logits <= 8e-2 && bf16.features <= 8e-2, "\(name) @\(bf16.resolution): \(bf16.logits), \(bf16.features)")
            #expect(bf16.features > fp32.features, "\(name) @\(bf16.resolution): BF16 did not change the features")
        }
    }

    /// `model(x)` and `preLogits(x)` are the head over the trunk, as the parity checks assume.
    @Test func callAndPreLogitsComposeTrunkAndHead() throws {
        let model = try ModelFixtures.model("resnet18_reduced")
        model.eval()
        let input = try ModelFixtures.read("inputs", full: false).tensor("input.64")
        withoutGrad {
            let trunk = model.forwardFeatures(input)
            #expect(relativeError(model(input), model.forwardHead(trunk, preLogits: false)) == 0)
            #expect(relativeError(model.preLogits(input), model.forwardHead(trunk, preLogits: true)) == 0)
            #expect(model.preLogits(input).shape == [2, model.numFeatures])
        }
    }
}

/// Training-mode parity (dropout and drop-path 0): one forward, cross-entropy and backward against PyTorch
/// (in float64, so the reference is exact to float32 precision; batch 4 at 64 px); loss, logits, every
/// parameter gradient and the updated BatchNorm statistics within 1e-4 relative error.
@Suite(.serialized) struct TrainingParityTests {
    static let tolerance = 1e-4

    static func check(_ name: String, full: Bool) throws {
        let (errors, metadata) = try trainingParity(name, full: full)
        let gradients = errors.filter { $0.key.hasPrefix("grad.") }, zeros = errors.filter { $0.key.hasPrefix("zero.") }
        let worst = gradients.max { $0.value < $1.value }!
        print("training \(name)\(full ? " (full)" : ""): loss \(errors["loss"]!), logits \(errors["logits"]!), " +
              "\(gradients.count) gradients, worst \(worst.key) \(worst.value); \(zeros.count) exactly-zero gradients, " +
              "worst \(zeros.values.max() ?? 0) of the largest gradient; worst BN buffer " +
              "\(errors.filter { $0.key.hasPrefix("after.") }.values.max() ?? 0). PyTorch float32 against the same " +
              "float64 reference: loss \(metadata["torch_float32_loss_error"] ?? "?"), logits " +
              "\(metadata["torch_float32_logits_error"] ?? "?"), worst gradient \(metadata["torch_float32_worst_gradient_error"] ?? "?")")
        for (key, error) in errors.sorted(by: { $0.key < $1.key }) {
            #expect(error <= tolerance, "\(name) \(key): relative error \(error)")
        }
    }

    /// The two ViTs are 2-block models: vit_small_reduced at 64 px (the gradient through the resampled
    /// position embedding) and vit_base_clip_quickgelu_reduced at 28 px (zero padding, pre-norm, QuickGELU);
    /// eva02_base_reduced is a 2-block EVA-02 at 64 px (rotary embedding on a 4×4 grid, SwiGLU, sub-LNs,
    /// separate q/k/v, the resampled position embedding).
    @Test(arguments: ["resnet18_reduced", "efficientnet_b0_reduced", "vit_small_reduced", "vit_base_clip_quickgelu_reduced",
                      "eva02_base_reduced"])
    func reducedTrainingStepMatchesPyTorch(_ name: String) throws {
        try Self.check(name, full: false)
    }

    static let fullTrainingModels = ["resnet18", "efficientnet_b0"]

    @Test(.enabled(if: ModelFixtures.fullAvailable, Comment(rawValue: ModelFixtures.regenerateHint)),
          arguments: fullTrainingModels.filter { ModelFixtures.exists("train_\($0)", full: true) })
    func fullTrainingStepMatchesPyTorch(_ name: String) throws {
        try Self.check(name, full: true)
    }
}

/// With `models-full/` generated for some models only (`--full --only …`), the missing fixtures are named
/// here and the test is reported as skipped (cancelled), rather than their parity cases passing silently.
@Test(.enabled(if: ModelFixtures.fullAvailable, Comment(rawValue: ModelFixtures.regenerateHint)))
func fullSizeFixturesAreAllPresent() throws {
    let missing = ModelFixtures.fullModels.filter { !ModelFixtures.exists($0, full: true) } +
        TrainingParityTests.fullTrainingModels.map { "train_\($0)" }.filter { !ModelFixtures.exists($0, full: true) }
    if !missing.isEmpty {
        let reason = "no full-size fixture for \(missing.joined(separator: ", ")): their parity tests did not run " +
            "(regenerate with `make_model_fixtures.py --full`)"
        try Test.cancel(Comment(rawValue: reason))
    }
}
