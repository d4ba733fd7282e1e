import CMedKernels

/// The compute behind ``Tensor/conv2d(weight:bias:stride:padding:dilation:groups:)``: four entry points over
/// raw contiguous pointers in the layouts of ``Conv2dGeometry``. Replacing a path (say, with AVX-512 kernels)
/// means replacing the body of one of these functions; nothing above them knows how they compute.
///
/// Paths: depthwise → the direct kernels of the C target (`mk_depthwise_*`, DepthwiseConvolution.swift);
/// few input channels and a large kernel (the stems) → an explicit column matrix and GEMM for the forward pass
/// and the weight gradient (ColumnConvolution.swift);
/// 3×3 at stride 1 with enough channels → Winograd F(2×2, 3×3) for the forward pass and the input gradient
/// (`mk_winograd_*`, WinogradConvolution.swift; `MEDTENSOR_WINOGRAD=0` turns it off); everything else → the
/// implicit GEMM of the C target (`mk_conv_*`, conv_driver_body.h), which packs the
/// GEMM's B panels straight from the image, so that no column matrix is ever written, not even a tile of
/// one. The backward pass is dX = col2im(Wᵀ·dY), with each MR×NR tile of Wᵀ·dY scattered into dX while it
/// is in registers' reach, and dW = dY·colsᵀ. Groups are pointer offsets, never split and concatenated.
///
/// Threads: the forward pass splits the output pixels of all images (a split never changes a value); the
/// input gradient splits images (or, with fewer images than threads, input channels), each element's terms
/// coming in the same order whatever the split; the weight gradient sums fixed runs of pixels into separate
/// buffers added in order (or, with few pixels, splits its columns). So every result is bitwise identical
/// from run to run; the forward pass and the input gradient also for any thread count, the weight
/// gradient for any count up to 8 (on one kernel path).
enum ConvolutionKernels {
    /// Below this many multiply-adds an op runs on the calling thread alone.
    static let parallelThreshold = 1 << 19

    /// One group's view of the convolution, for the C kernels.
    static func shape(_ g: Conv2dGeometry) -> mk_conv_shape {
        mk_conv_shape(batch: g.batch, channels: g.inChannelsPerGroup, height: g.inputSize.height, width: g.inputSize.width,
                      out_channels: g.outChannelsPerGroup, out_height: g.outputSize.height, out_width: g.outputSize.width,
                      kernel_h: g.kernel.height, kernel_w: g.kernel.width, stride_h: g.stride.height, stride_w: g.stride.width,
                      pad_h: g.padding.height, pad_w: g.padding.width, dilation_h: g.dilation.height, dilation_w: g.dilation.width,
                      in_image_stride: g.inChannels * g.inputPlane, out_image_stride: g.outChannels * g.outputPlane)
    }

    /// Multiply-adds of the whole convolution (one pass).
    static func work(_ g: Conv2dGeometry) -> Int { g.batch * g.outChannels * g.outputPlane * g.columnRows }

    /// The number of threads worth using for `g`, at most `units` (the pieces the op can be split into).
    private static func threads(_ g: Conv2dGeometry, units: Int) -> Int {
        work(g) < parallelThreshold ? 1 : Swift.max(1, Swift.min(Parallel.threadCount, units))
    }

    /// Each group's m×k operand packed for `isa` by `mk_conv_pack` (the weight for the forward pass, its
    /// transpose for the input gradient), in parallel over panels. Deallocate the result.
    private static func packed(_ g: Conv2dGeometry, isa: Int32, transposed: Bool, weight: UnsafePointer<Float>)
        -> (pointer: UnsafeMutablePointer<Float>, groupStride: Int) {
        let (og, k) = (g.outChannelsPerGroup, g.columnRows)
        let (m, depth) = transposed ? (k, og) : (og, k)
        let rows = mk_conv_panel_rows(isa)
        let panels = (m + rows - 1) / rows
        let stride = mk_conv_packed_floats(isa, m, depth)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, stride * g.groups))
        let w = SendablePointer(weight), out = SendablePointer(buffer)
        forEachPanelRange(panels: panels, groups: g.groups, floatsPerPanel: rows * depth,
                          serial: work(g) < parallelThreshold) { group, first, last in
            mk_conv_pack(isa, transposed ? 1 : 0, m, depth, w.pointer + group * og * k, k, first, last,
                         out.pointer + group * stride)
        }
        return (buffer, stride)
    }

    /// Calls `body(group, firstPanel, endPanel)` on ranges covering the panels of every group (each range
    /// within one group), in parallel over about 64K floats of output per thread unless `serial`.
    static func forEachPanelRange(panels: Int, groups: Int, floatsPerPanel: Int, serial: Bool,
                                  _ body: (Int, Int, Int) -> Void) {
        let grain = Swift.max(1, 65_536 / Swift.max(1, floatsPerPanel))
        Parallel.forEachRange(panels * groups, grain: serial ? Int.max : grain) { range in
            var index = range.lowerBound
            while index < range.upperBound {
                let group = index / panels, first = index % panels
                let last = Swift.min(panels, first + range.upperBound - index)
                body(group, first, last)
                index += last - first
            }
        }
    }

    /// output = conv(input, weight) + bias. `bias` may be nil.
    /// `forTraining`: the output is recorded for a backward pass, so the Winograd path is not used (see
    /// WinogradConvolution.swift for why).
    static func forward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, forTraining: Bool = false) {
        guard g.batch > 0 else { return }
        if g.isDepthwise { return depthwiseForward(g, input: input, weight: weight, bias: bias, output: output) }
        let isa = mk_isa_active()
        if !forTraining && winogradForwardApplies(g, isa: isa) {
            return winogradForward(g, isa: isa, input: input, weight: weight, bias: bias, output: output)
        }
        if ColumnConvolution.applies(g) {
            return ColumnConvolution.forward(g, input: input, weight: weight, bias: bias, output: output)
        }
        let (a, groupStride) = packed(g, isa: isa, transposed: false, weight: weight)
        defer { a.deallocate() }
        let s = shape(g)
        let (cg, og) = (g.inChannelsPerGroup, g.outChannelsPerGroup)
        let pixels = g.batch * g.outputPlane
        // Split the pixels of all images in multiples of 32 (whole panels on every path).
        let blocks = (pixels + 31) / 32
        let x = SendablePointer(input), y = SendablePointer(output), packedWeight = SendablePointer(a)
        let b = bias.map { SendablePointer($0) }
        let chunks = threads(g, units: blocks)
        Parallel.forEachRange(blocks, chunks: chunks) { range in
            let q0 = range.lowerBound * 32, q1 = Swift.min(pixels, range.upperBound * 32)
            var local = s
            for group in 0..<g.groups {
                mk_conv_forward(isa, &local, packedWeight.pointer + group * groupStride, b.map { $0.pointer + group * og },
                                x.pointer + group * cg * g.inputPlane, y.pointer + group * og * g.outputPlane, q0, q1)
            }
        }
    }

    /// gradInput = col2im(Wᵀ · gradOutput); overwrites gradInput.
    static func backwardInput(_ g: Conv2dGeometry, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                              gradInput: UnsafeMutablePointer<Float>) {
        guard g.batch > 0 else { return }
        if g.isDepthwise { return depthwiseBackwardInput(g, gradOutput: gradOutput, weight: weight, gradInput: gradInput) }
        let isa = mk_isa_active()
        if winogradBackwardInputApplies(g, isa: isa) {
            return winogradBackwardInput(g, isa: isa, gradOutput: gradOutput, weight: weight, gradInput: gradInput)
        }
        let (a, groupStride) = packed(g, isa: isa, transposed: true, weight: weight)
        defer { a.deallocate() }
        let s = shape(g)
        let (cg, og) = (g.inChannelsPerGroup, g.outChannelsPerGroup)
        let dy = SendablePointer(gradOutput), dx = SendablePointer(gradInput), packedWeight = SendablePointer(a)
        // Threads own disjoint parts of dX: whole images, or with fewer images than threads, channel ranges.
        let byImages = g.batch >= Parallel.threadCount
        let units = byImages ? g.batch : cg
        let chunks = threads(g, units: units)
        Parallel.forEachRange(units, chunks: chunks) { range in
            let (n0, n1, c0, c1) = byImages ? (range.lowerBound, range.upperBound, 0, cg)
                                            : (0, g.batch, range.lowerBound, range.upperBound)
            var local = s
            for group in 0..<g.groups {
                mk_conv_backward_input(isa, &local, packedWeight.pointer + group * groupStride,
                                       dy.pointer + group * og * g.outputPlane, dx.pointer + group * cg * g.inputPlane,
                                       n0, n1, c0, c1)
            }
        }
    }

    /// gradWeight = Σ over images and pixels of gradOutput · columnsᵀ; overwrites gradWeight.
    static func backwardWeight(_ g: Conv2dGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                               gradWeight: UnsafeMutablePointer<Float>) {
        let weightCount = g.outChannels * g.columnRows
        guard g.batch > 0 else {
            gradWeight.initialize(repeating: 0, count: weightCount)
            return
        }
        if g.isDepthwise { return depthwiseBackwardWeight(g, input: input, gradOutput: gradOutput, gradWeight: gradWeight) }
        if ColumnConvolution.applies(g) {
            return ColumnConvolution.backwardWeight(g, input: input, gradOutput: gradOutput, gradWeight: gradWeight)
        }
        let isa = mk_isa_active()
        let s = shape(g)
        let (cg, og, k) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.columnRows)
        let x = SendablePointer(input), dy = SendablePointer(gradOutput), dw = SendablePointer(gradWeight)
        let pixels = g.batch * g.outputPlane, blocks = (pixels + 255) / 256
        let serial = work(g) < parallelThreshold || Parallel.threadCount == 1
        // Many pixels: split them into `parts` fixed runs of 256-pixel blocks, each summed into its own
        // buffer (the first into gradWeight), then added in order; the parts depend on the thread count only
        // beyond 8 threads. Few pixels: split the columns of dW instead (each thread sums all pixels).
        let parts = serial || blocks < 4 ? 1 : Swift.min(blocks, Swift.max(8, Parallel.threadCount))
        if parts == 1 {
            let columnBlocks = (k + 15) / 16
            let chunks = threads(g, units: columnBlocks)
            Parallel.forEachRange(columnBlocks, chunks: chunks) { range in
                let k0 = range.lowerBound * 16, k1 = Swift.min(k, range.upperBound * 16)
                var local = s
                for group in 0..<g.groups {
                    mk_conv_backward_weight(isa, &local, x.pointer + group * cg * g.inputPlane, dy.pointer + group * og * g.outputPlane,
                                            dw.pointer + group * og * k, k, k0, k1, 0, pixels)
                }
            }
            return
        }
        let partials = (1..<parts).map { _ in SendablePointer(UnsafeMutablePointer<Float>.allocate(capacity: weightCount)) }
        defer { for buffer in partials { buffer.pointer.deallocate() } }
        Parallel.forEachRange(parts) { range in
            var local = s
            for part in range {
                let q0 = blocks * part / parts * 256, q1 = Swift.min(pixels, blocks * (part + 1) / parts * 256)
                let target = part == 0 ? dw.pointer : partials[part - 1].pointer
                for group in 0..<g.groups {
                    mk_conv_backward_weight(isa, &local, x.pointer + group * cg * g.inputPlane, dy.pointer + group * og * g.outputPlane,
                                            target + group * og * k, k, 0, k, q0, q1)
                }
            }
        }
        addPartials(partials, into: gradWeight, count: weightCount)
    }

    /// target[i] += each partial sum's [i], the partials in order (so the total does not depend on the
    /// thread count), in parallel over i.
    static func addPartials(_ partials: [SendablePointer<Float>], into target: UnsafeMutablePointer<Float>, count: Int) {
        let t = SendablePointer(target)
        Parallel.forEachRange(count, grain: 16_384) { range in
            for buffer in partials {
                for i in range { t.pointer[i] += buffer.pointer[i] }
            }
        }
    }

    /// gradBias[o] = Σ over images and pixels of gradOutput[n, o]; overwrites gradBias.
    static func backwardBias(_ g: Conv2dGeometry, gradOutput: UnsafePointer<Float>, gradBias: UnsafeMutablePointer<Float>) {
        let dy = SendablePointer(gradOutput), db = SendablePointer(gradBias), plane = g.outputPlane
        Parallel.forEachRange(g.outChannels, grain: Swift.max(1, 65_536 / Swift.max(1, g.batch * plane))) { channels in
            for o in channels {
                var total = 0.0
                for n in 0..<g.batch { total += Double(mk_sum(dy.pointer + (n * g.outChannels + o) * plane, plane)) }
                db.pointer[o] = Float(total)
            }
        }
    }
}
