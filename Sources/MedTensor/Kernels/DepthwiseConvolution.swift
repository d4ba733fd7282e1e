/// Direct depthwise convolution (groups == inChannels, `depthMultiplier` outputs per input channel).
///
/// im2col + GEMM would be a GEMM with one row per group and a reduction of only kH·kW, all overhead; a
/// direct loop over whole output rows is memory-bound instead and vectorises along the row when the
/// stride is 1. Kept in plain Swift for now; it is the candidate for the dispatched C target.
extension ConvolutionKernels {
    /// Calls `body(oh, ih)` for every output row oh and the input row ih that kernel row `kh` reads there.
    @inline(__always)
    private static func forEachTapRow(_ g: Conv2dGeometry, kh: Int, _ body: (_ oh: Int, _ ih: Int) -> Void) {
        let offset = kh * g.dilation.height - g.padding.height
        let rows = validRange(offset: offset, stride: g.stride.height, inputLength: g.inputSize.height,
                              outputLength: g.outputSize.height)
        for oh in rows { body(oh, oh * g.stride.height + offset) }
    }

    /// Work items of about 16K multiply-adds per thread chunk at least, so tiny convolutions stay serial.
    private static func planeGrain(_ g: Conv2dGeometry) -> Int {
        Swift.max(1, 16_384 / Swift.max(1, g.outputPlane * g.kernelArea))
    }

    static func depthwiseForward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let x = SendablePointer(input), w = SendablePointer(weight), y = SendablePointer(output)
        let b = bias.map { SendablePointer($0) }
        let (width, outWidth, sw, kW) = (g.inputSize.width, g.outputSize.width, g.stride.width, g.kernel.width)
        // One plane per (image, output channel).
        Parallel.forEachRange(g.batch * g.outChannels, grain: planeGrain(g)) { planes in
            for plane in planes {
                let (n, o) = (plane / g.outChannels, plane % g.outChannels)
                let source = x.pointer + (n * g.inChannels + o / g.depthMultiplier) * g.inputPlane
                let target = y.pointer + plane * g.outputPlane
                let taps = w.pointer + o * g.kernelArea
                target.initialize(repeating: b?.pointer[o] ?? 0, count: g.outputPlane)
                for kh in 0..<g.kernel.height {
                    forEachTapRow(g, kh: kh) { oh, ih in
                        let out = target + oh * outWidth
                        for kw in 0..<kW {
                            let tap = taps[kh * kW + kw], offset = kw * g.dilation.width - g.padding.width
                            let row = source + ih * width + offset
                            let columns = validRange(offset: offset, stride: sw, inputLength: width, outputLength: outWidth)
                            if sw == 1 {
                                for ow in columns { out[ow] += tap * row[ow] }
                            } else {
                                for ow in columns { out[ow] += tap * row[ow * sw] }
                            }
                        }
                    }
                }
            }
        }
    }

    static func depthwiseBackwardInput(_ g: Conv2dGeometry, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                       gradInput: UnsafeMutablePointer<Float>) {
        let dy = SendablePointer(gradOutput), w = SendablePointer(weight), dx = SendablePointer(gradInput)
        let (width, outWidth, sw, kW) = (g.inputSize.width, g.outputSize.width, g.stride.width, g.kernel.width)
        // One plane per (image, input channel): it gathers from its `depthMultiplier` output channels in order.
        Parallel.forEachRange(g.batch * g.inChannels, grain: planeGrain(g)) { planes in
            for plane in planes {
                let (n, c) = (plane / g.inChannels, plane % g.inChannels)
                let target = dx.pointer + plane * g.inputPlane
                target.initialize(repeating: 0, count: g.inputPlane)
                for o in (c * g.depthMultiplier)..<((c + 1) * g.depthMultiplier) {
                    let source = dy.pointer + (n * g.outChannels + o) * g.outputPlane
                    let taps = w.pointer + o * g.kernelArea
                    for kh in 0..<g.kernel.height {
                        forEachTapRow(g, kh: kh) { oh, ih in
                            let grad = source + oh * outWidth
                            for kw in 0..<kW {
                                let tap = taps[kh * kW + kw], offset = kw * g.dilation.width - g.padding.width
                                let row = target + ih * width + offset
                                let columns = validRange(offset: offset, stride: sw, inputLength: width, outputLength: outWidth)
                                if sw == 1 {
                                    for ow in columns { row[ow] += tap * grad[ow] }
                                } else {
                                    for ow in columns { row[ow * sw] += tap * grad[ow] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Split over output channels: each thread owns whole rows of gradWeight, summed over images in order.
    static func depthwiseBackwardWeight(_ g: Conv2dGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                        gradWeight: UnsafeMutablePointer<Float>) {
        let x = SendablePointer(input), dy = SendablePointer(gradOutput), dw = SendablePointer(gradWeight)
        let (width, outWidth, sw, kW) = (g.inputSize.width, g.outputSize.width, g.stride.width, g.kernel.width)
        let grain = Swift.max(1, planeGrain(g) / Swift.max(1, g.batch))
        Parallel.forEachRange(g.outChannels, grain: grain) { channels in
            for o in channels {
                for kh in 0..<g.kernel.height {
                    for kw in 0..<kW {
                        let offset = kw * g.dilation.width - g.padding.width
                        let columns = validRange(offset: offset, stride: sw, inputLength: width, outputLength: outWidth)
                        // Float dot products along each row, gathered in Double across rows and images.
                        var total = 0.0
                        for n in 0..<g.batch {
                            let source = x.pointer + (n * g.inChannels + o / g.depthMultiplier) * g.inputPlane
                            let grad = dy.pointer + (n * g.outChannels + o) * g.outputPlane
                            forEachTapRow(g, kh: kh) { oh, ih in
                                let row = source + ih * width + offset, gradRow = grad + oh * outWidth
                                var dot: Float = 0
                                if sw == 1 {
                                    for ow in columns { dot += gradRow[ow] * row[ow] }
                                } else {
                                    for ow in columns { dot += gradRow[ow] * row[ow * sw] }
                                }
                                total += Double(dot)
                            }
                        }
                        dw.pointer[o * g.kernelArea + kh * kW + kw] = Float(total)
                    }
                }
            }
        }
    }
}
