import CMedKernels
import Foundation

/// The Winograd F(2×2, 3×3) path of ``ConvolutionKernels`` (`mk_winograd_*`, winograd_body.h): 3×3
/// convolutions at stride 1 and dilation 1, with any padding, the layer that dominates ResNet, VGG and
/// DenseNet. Each 2×2 output tile costs 16 multiply-adds per channel pair instead of 36, as 16 GEMMs of
/// transformed weights (U = G g Gᵀ, made once per op) by transformed input tiles (V = Bᵀ d B), followed
/// by the output transform Aᵀ M A (+ bias); the C kernels process the tiles in blocks that keep V and M in
/// L2. The input gradient of such a convolution with padding ≤ 2 is itself one (a convolution of dY with
/// the flipped, transposed kernel and padding 2 − p), so it takes the same path; the weight gradient
/// stays on the implicit GEMM.
///
/// The forward pass takes this path only when nothing records it for a backward pass (inference, frozen
/// features, evaluation): in training, the activations feed batch-norm statistics of small batches, whose
/// backward pass divides by per-channel deviations and so magnifies the different rounding — one training
/// step of a full ResNet-18 at 64 px, batch 4, had a weight gradient 6e-3 away (relative) from a Float64
/// reference with it, 7e-6 without (PyTorch's Float32: 1e-5). The input gradient, whose rounding nothing
/// magnifies that way, takes it in training too.
///
/// Used when both channel counts per group are at least ``winogradMinimumChannels`` and the output is at
/// least 2×2; below that the transforms cost more than they save. Threads split the tiles; a tile's
/// value never depends on the split, so results are bitwise identical for any thread count (on one kernel
/// path). They differ from the implicit GEMM's by rounding only (errors against a Float64 reference of a
/// few 1e-7 of the output's scale, about twice the implicit GEMM's).
///
/// Escape hatch: `MEDTENSOR_WINOGRAD=0` in the environment (read once) turns the path off for the process;
/// ``useWinograd`` turns it off for a task scope.
extension ConvolutionKernels {
    /// False when the environment says `MEDTENSOR_WINOGRAD=0`.
    static let winogradAllowedByEnvironment = ProcessInfo.processInfo.environment["MEDTENSOR_WINOGRAD"] != "0"

    /// Whether convolutions started in this task may use the Winograd path (tests compare both paths with
    /// `ConvolutionKernels.$useWinograd.withValue(false) { … }`, which changes nothing for other tasks).
    @TaskLocal static var useWinograd = winogradAllowedByEnvironment

    /// Fewest input and output channels per group for the Winograd path. Measured on one Zen 2 core at
    /// 56×56, batch 8, against the implicit GEMM: 64 → 64 channels 1.85× faster, 8 → 8 2.0×, 8 → 64 1.2×,
    /// 64 → 8 2.1×, but 2 or 4 → 64 only 1.0–1.1× (not worth the different rounding: RGB and grey stems).
    static let winogradMinimumChannels = 8

    /// Whether the forward pass of `g` runs the Winograd kernels on `isa`.
    static func winogradForwardApplies(_ g: Conv2dGeometry, isa: Int32) -> Bool {
        winogradKernelFits(g, isa: isa) && g.outputSize.height >= 2 && g.outputSize.width >= 2
    }

    /// Whether the input gradient of `g` runs the Winograd kernels on `isa`: the forward pass over dY with
    /// padding 2 − p needs p ≤ 2, and the input it produces at least 2×2.
    static func winogradBackwardInputApplies(_ g: Conv2dGeometry, isa: Int32) -> Bool {
        winogradKernelFits(g, isa: isa) && g.padding.height <= 2 && g.padding.width <= 2
            && g.inputSize.height >= 2 && g.inputSize.width >= 2
    }

    private static func winogradKernelFits(_ g: Conv2dGeometry, isa: Int32) -> Bool {
        useWinograd && g.kernel == 3 && g.stride == 1 && g.dilation == 1
            && Swift.min(g.inChannelsPerGroup, g.outChannelsPerGroup) >= winogradMinimumChannels
            && mk_winograd_supported(isa) != 0
    }

    static func winogradForward(_ g: Conv2dGeometry, isa: Int32, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let og = g.outChannelsPerGroup
        runWinograd(shape(g), groups: g.groups, isa: isa, flipped: false, weight: weight,
                    input: (input, g.inChannelsPerGroup * g.inputPlane), output: (output, og * g.outputPlane),
                    bias: bias.map { ($0, og) }, serial: work(g) < parallelThreshold)
    }

    /// gradInput = gradOutput ⋆ (the weight transposed and rotated by 180°), with padding 2 − p.
    static func winogradBackwardInput(_ g: Conv2dGeometry, isa: Int32, gradOutput: UnsafePointer<Float>,
                                      weight: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        let (cg, og) = (g.inChannelsPerGroup, g.outChannelsPerGroup)
        let s = mk_conv_shape(batch: g.batch, channels: og, height: g.outputSize.height, width: g.outputSize.width,
                              out_channels: cg, out_height: g.inputSize.height, out_width: g.inputSize.width,
                              kernel_h: 3, kernel_w: 3, stride_h: 1, stride_w: 1,
                              pad_h: 2 - g.padding.height, pad_w: 2 - g.padding.width, dilation_h: 1, dilation_w: 1,
                              in_image_stride: g.outChannels * g.outputPlane, out_image_stride: g.inChannels * g.inputPlane)
        runWinograd(s, groups: g.groups, isa: isa, flipped: true, weight: weight,
                    input: (gradOutput, og * g.outputPlane), output: (gradInput, cg * g.inputPlane), bias: nil,
                    serial: work(g) < parallelThreshold)
    }

    /// The convolution `s` of every group: the weight transformed (in parallel over panels), then the tiles
    /// split across threads. `input`, `output` and `bias` come with the distance between groups.
    private static func runWinograd(_ s: mk_conv_shape, groups: Int, isa: Int32, flipped: Bool, weight: UnsafePointer<Float>,
                                    input: (UnsafePointer<Float>, groupStride: Int),
                                    output: (UnsafeMutablePointer<Float>, groupStride: Int),
                                    bias: (UnsafePointer<Float>, groupStride: Int)?, serial: Bool) {
        let (m, k) = (s.out_channels, s.channels)
        let transformedStride = mk_winograd_weight_floats(isa, m, k)
        let transformed = UnsafeMutablePointer<Float>.allocate(capacity: transformedStride * groups)
        defer { transformed.deallocate() }
        let u = SendablePointer(transformed), w = SendablePointer(weight)
        forEachPanelRange(panels: (m + Int(mk_conv_panel_rows(isa)) - 1) / Int(mk_conv_panel_rows(isa)), groups: groups,
                          floatsPerPanel: 16 * Int(mk_conv_panel_rows(isa)) * k, serial: serial) { group, first, last in
            mk_winograd_weight(isa, flipped ? 1 : 0, m, k, w.pointer + group * m * k * 9, first, last,
                               u.pointer + group * transformedStride)
        }
        var local = s
        let tiles = mk_winograd_tiles(&local)
        // Whole 32-tile units per thread: whole panels on every path.
        let units = (tiles + 31) / 32
        let x = SendablePointer(input.0), y = SendablePointer(output.0), b = bias.map { SendablePointer($0.0) }
        Parallel.forEachRange(units, chunks: serial ? 1 : Parallel.threadCount) { range in
            var local = s
            for group in 0..<groups {
                mk_winograd_forward(isa, &local, u.pointer + group * transformedStride,
                                    b.map { $0.pointer + group * bias!.groupStride },
                                    x.pointer + group * input.groupStride, y.pointer + group * output.groupStride,
                                    range.lowerBound * 32, Swift.min(tiles, range.upperBound * 32))
            }
        }
    }
}
