import MedTestSupport
import CMedKernels
import Testing
@testable import MedTensor

/// The Winograd F(2×2, 3×3) path of 3×3 stride-1 convolutions (WinogradConvolution.swift, winograd_body.h),
/// forced on whatever MEDTENSOR_WINOGRAD says, on the active kernel path: against Float64 direct loops,
/// against the implicit GEMM, and for independence from the split of tiles.
@Suite struct WinogradTests {
    /// Odd sizes (partial tiles on the right and at the bottom), padding 0, 1, 2 and 3 (the input gradient
    /// then falls back to the implicit GEMM), batch 1 and 3, 16…300 channels (several k-blocks and A
    /// panels), with and without bias, groups, blocks of tiles that span tile rows and images, a single
    /// tile per image, and asymmetric padding.
    static let cases: [ConvCase] = [
        ConvCase(n: 1, c: 16, h: 9, w: 11, o: 16, kernel: 3, padding: 1),
        ConvCase(n: 3, c: 17, h: 7, w: 13, o: 19, kernel: 3, bias: false),
        ConvCase(n: 3, c: 70, h: 12, w: 9, o: 33, kernel: 3, padding: 2),
        ConvCase(n: 1, c: 24, h: 29, w: 31, o: 40, kernel: 3, padding: 1),
        ConvCase(n: 3, c: 20, h: 2, w: 3, o: 18, kernel: 3, padding: 1, bias: false),
        ConvCase(n: 1, c: 40, h: 5, w: 40, o: 16, kernel: 3, padding: [0, 1]),
        ConvCase(n: 2, c: 32, h: 8, w: 7, o: 48, kernel: 3, padding: 1, groups: 2),
        ConvCase(n: 1, c: 16, h: 6, w: 6, o: 300, kernel: 3, padding: 1, bias: false),
        ConvCase(n: 3, c: 300, h: 5, w: 6, o: 16, kernel: 3, padding: 1),
        ConvCase(n: 1, c: 16, h: 4, w: 5, o: 16, kernel: 3, padding: 3),
    ]

    /// Whether the active kernel path has the Winograd kernels (the portable one does not): the tests that
    /// force the path are reported as skipped without them, not as passed.
    static let supported = mk_winograd_supported(mk_isa_active()) != 0
    static let unsupported: Comment = "the active kernel path (MEDTENSOR_ISA) has no Winograd kernels"

    static func geometry(_ config: ConvCase) -> Conv2dGeometry {
        Conv2dGeometry(batch: config.n, inChannels: config.c, inputSize: Size2(config.h, config.w), outChannels: config.o,
                       kernel: config.kernel, stride: config.stride, padding: config.padding, dilation: config.dilation,
                       groups: config.groups)
    }

    @Test(.enabled(if: supported, unsupported), arguments: cases)
    func matchesDirectLoops(_ config: ConvCase) {
        let isa = mk_isa_active()
        ConvolutionKernels.$useWinograd.withValue(true) {
            #expect(ConvolutionKernels.winogradForwardApplies(Self.geometry(config), isa: isa))
            // The forward pass takes the path only when not recorded for autograd.
            let (x, weight, bias) = ConvolutionTests.operands(config, seed: 41)
            let reference = ReferenceConv(config: config, x: x.scalars, weight: weight.scalars, bias: bias?.scalars)
            #expect(referenceError(withoutGrad { config.run(x, weight, bias) }.scalars, reference.forward()) < 1e-5)
            KernelTests.expectMatchesDirectLoops(config, seed: 41)
        }
    }

    /// Forward pass and input gradient with the path on and off (the switch MEDTENSOR_WINOGRAD=0 sets).
    @Test(arguments: cases)
    func agreesWithImplicitGEMM(_ config: ConvCase) {
        let (x, weight, bias) = ConvolutionTests.operands(config, seed: 43)
        func run(winograd: Bool) -> (y: [Float], dx: [Float]) {
            ConvolutionKernels.$useWinograd.withValue(winograd) {
                let inference = withoutGrad { config.run(x, weight, bias) }
                let xg = x.requiringGrad()
                let y = config.run(xg, weight, bias)
                y.backward(randomTensor(y.shape, seed: 44))
                return (inference.scalars, xg.grad!.scalars)
            }
        }
        let (on, off) = (run(winograd: true), run(winograd: false))
        #expect(relativeError(on.y, off.y) < 1e-5)
        #expect(relativeError(on.dx, off.dx) < 1e-5)
    }

    /// A forward pass recorded for autograd stays on the implicit GEMM (bit for bit), while the same call
    /// without recording takes the Winograd path (different rounding).
    @Test func recordedForwardStaysOnTheImplicitGEMM() {
        let config = Self.cases[3]
        let (x, weight, bias) = ConvolutionTests.operands(config, seed: 45)
        func bits(_ y: Tensor) -> [UInt32] { y.scalars.map(\.bitPattern) }
        let gemm = ConvolutionKernels.$useWinograd.withValue(false) { bits(withoutGrad { config.run(x, weight, bias) }) }
        ConvolutionKernels.$useWinograd.withValue(true) {
            #expect(bits(config.run(x, weight.requiringGrad(), bias)) == gemm)
            #expect(bits(withoutGrad { config.run(x, weight, bias) }) != gemm)
        }
    }

    /// Only 3×3 kernels at stride 1 and dilation 1 with enough channels per group and an output of at least
    /// 2×2; the input gradient also needs padding ≤ 2; and never with the switch off.
    @Test(.enabled(if: supported, unsupported))
    func appliesOnlyWhereItShould() {
        let isa = mk_isa_active()
        func applies(_ config: ConvCase) -> (forward: Bool, input: Bool) {
            let g = Self.geometry(config)
            return (ConvolutionKernels.winogradForwardApplies(g, isa: isa), ConvolutionKernels.winogradBackwardInputApplies(g, isa: isa))
        }
        ConvolutionKernels.$useWinograd.withValue(true) {
            #expect(applies(ConvCase(n: 1, c: 8, h: 8, w: 8, o: 8, kernel: 3, padding: 1)) == (true, true))
            #expect(applies(ConvCase(n: 1, c: 4, h: 8, w: 8, o: 64, kernel: 3, padding: 1)) == (false, false))
            #expect(applies(ConvCase(n: 1, c: 64, h: 8, w: 8, o: 4, kernel: 3, padding: 1)) == (false, false))
            #expect(applies(ConvCase(n: 1, c: 32, h: 8, w: 8, o: 32, kernel: 3, stride: 2, padding: 1)) == (false, false))
            #expect(applies(ConvCase(n: 1, c: 32, h: 8, w: 8, o: 32, kernel: 3, padding: 2, dilation: 2)) == (false, false))
            #expect(applies(ConvCase(n: 1, c: 32, h: 8, w: 8, o: 32, kernel: 5, padding: 2)) == (false, false))
            #expect(applies(ConvCase(n: 1, c: 32, h: 3, w: 8, o: 32, kernel: 3)) == (false, true))
            #expect(applies(ConvCase(n: 1, c: 32, h: 1, w: 8, o: 32, kernel: 3, padding: 1)) == (false, false))
            #expect(applies(ConvCase(n: 1, c: 32, h: 8, w: 8, o: 32, kernel: 3, padding: 3)) == (true, false))
            #expect(applies(ConvCase(n: 1, c: 32, h: 8, w: 8, o: 64, kernel: 3, padding: 1, groups: 4)) == (true, true))
            #expect(applies(ConvCase(n: 1, c: 32, h: 8, w: 8, o: 64, kernel: 3, padding: 1, groups: 8)) == (false, false))
        }
        ConvolutionKernels.$useWinograd.withValue(false) {
            #expect(applies(ConvCase(n: 1, c: 64, h: 8, w: 8, o: 64, kernel: 3, padding: 1)) == (false, false))
        }
    }

    /// The C kernel gives the same bits however the tiles are split across calls (which is what makes the
    /// result independent of the thread count).
    @Test(.enabled(if: supported, unsupported), arguments: [cases[1], cases[3], cases[4], cases[8]].filter { $0.groups == 1 })
    func tileSplitsDoNotChangeBits(_ config: ConvCase) {
        let isa = mk_isa_active()
        let (x, weight, bias) = ConvolutionTests.operands(config, seed: 47)
        let g = Self.geometry(config)
        var s = ConvolutionKernels.shape(g)
        let rows = Int(mk_conv_panel_rows(isa))
        var u = [Float](repeating: .nan, count: mk_winograd_weight_floats(isa, g.outChannels, g.inChannels))
        mk_winograd_weight(isa, 0, g.outChannels, g.inChannels, weight.scalars, 0, (g.outChannels + rows - 1) / rows, &u)
        let tiles = mk_winograd_tiles(&s), xs = x.scalars, b = bias?.scalars
        func forward(_ cuts: [Int]) -> [UInt32] {
            var y = [Float](repeating: .nan, count: g.outputShape.reduce(1, *))
            for (t0, t1) in zip([0] + cuts, cuts + [tiles]) {
                if let b { mk_winograd_forward(isa, &s, u, b, xs, &y, t0, t1) } else { mk_winograd_forward(isa, &s, u, nil, xs, &y, t0, t1) }
            }
            return y.map(\.bitPattern)
        }
        let whole = forward([])
        #expect(!whole.contains(Float.nan.bitPattern))
        #expect(forward([1, tiles / 3, tiles / 3 + 5]) == whole)
        #expect(forward([tiles / 2]) == whole)
    }
}
