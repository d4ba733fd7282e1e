import CMedKernels

/// Depthwise convolution (groups == inChannels, `depthMultiplier` outputs per input channel) through the
/// direct kernels of the C target (`mk_depthwise_*`, depthwise_body.h): im2col + GEMM would be a GEMM with
/// one row per group and a reduction of only kH·kW, all overhead. The kernels copy each input plane into
/// a zero-padded scratch plane (split by column phase at stride > 1) and sweep whole output rows with
/// vector accumulators, so the loops carry no bounds tests.
///
/// Threads split (image, input channel) planes for the forward pass and the input gradient, and output
/// channels for the weight gradient (each summed over images in order): results do not depend on the split.
extension ConvolutionKernels {
    /// The whole convolution as the depthwise kernels see it (all channels, not one group's).
    private static func depthwiseShape(_ g: Conv2dGeometry) -> mk_conv_shape {
        mk_conv_shape(batch: g.batch, channels: g.inChannels, height: g.inputSize.height, width: g.inputSize.width,
                      out_channels: g.outChannels, out_height: g.outputSize.height, out_width: g.outputSize.width,
                      kernel_h: g.kernel.height, kernel_w: g.kernel.width, stride_h: g.stride.height, stride_w: g.stride.width,
                      pad_h: g.padding.height, pad_w: g.padding.width, dilation_h: g.dilation.height, dilation_w: g.dilation.width,
                      in_image_stride: g.inChannels * g.inputPlane, out_image_stride: g.outChannels * g.outputPlane)
    }

    /// Planes per thread chunk: at least about 32K multiply-adds each, so tiny convolutions stay serial.
    private static func planeGrain(_ g: Conv2dGeometry) -> Int {
        Swift.max(1, 32_768 / Swift.max(1, g.outputPlane * g.kernelArea * g.depthMultiplier))
    }

    static func depthwiseForward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let s = depthwiseShape(g)
        let x = SendablePointer(input), w = SendablePointer(weight), y = SendablePointer(output)
        let b = bias.map { SendablePointer($0) }
        Parallel.forEachRange(g.batch * g.inChannels, grain: planeGrain(g)) { units in
            var local = s
            mk_depthwise_forward(&local, x.pointer, w.pointer, b?.pointer, y.pointer, units.lowerBound, units.upperBound)
        }
    }

    static func depthwiseBackwardInput(_ g: Conv2dGeometry, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                       gradInput: UnsafeMutablePointer<Float>) {
        let s = depthwiseShape(g)
        let dy = SendablePointer(gradOutput), w = SendablePointer(weight), dx = SendablePointer(gradInput)
        Parallel.forEachRange(g.batch * g.inChannels, grain: planeGrain(g)) { units in
            var local = s
            mk_depthwise_backward_input(&local, dy.pointer, w.pointer, dx.pointer, units.lowerBound, units.upperBound)
        }
    }

    static func depthwiseBackwardWeight(_ g: Conv2dGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                        gradWeight: UnsafeMutablePointer<Float>) {
        let s = depthwiseShape(g)
        let x = SendablePointer(input), dy = SendablePointer(gradOutput), dw = SendablePointer(gradWeight)
        let grain = Swift.max(1, planeGrain(g) * g.depthMultiplier / Swift.max(1, g.batch))
        Parallel.forEachRange(g.outChannels, grain: grain) { channels in
            var local = s
            mk_depthwise_backward_weight(&local, x.pointer, dy.pointer, dw.pointer, channels.lowerBound, channels.upperBound)
        }
    }
}
