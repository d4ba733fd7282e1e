/// im2col and col2im over a tile of output pixels, for one group's channels of one image.
///
/// The column tile has `columnRows` rows, one per (channel, kh, kw) in the weight's OIHW order, and one
/// column per output pixel of the tile (pixels are counted row-major over the output plane, so a tile may
/// span several output rows). Positions in the padding read as 0.
extension ConvolutionKernels {
    /// Output positions o in 0..<outputLength whose input position o·stride + offset lies in 0..<inputLength.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, inputLength: Int, outputLength: Int) -> Range<Int> {
        let lower = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let last = inputLength - 1 - offset
        let upper = last < 0 ? 0 : last / stride + 1
        let lo = Swift.min(lower, outputLength)
        return lo..<Swift.max(lo, Swift.min(upper, outputLength))
    }

    /// Calls `body(inputRow, rowStart, columnRange, validColumns)` for each output row crossed by `pixels`,
    /// for kernel tap (kh, kw): `inputRow` is the input row read (nil in the padding), `rowStart` the tile
    /// column of the row's first pixel, `columnRange` the output columns in the tile and `validColumns` those
    /// of them whose input column is inside the image.
    @inline(__always)
    private static func forEachRow(_ g: Conv2dGeometry, kh: Int, pixels: Range<Int>, valid: Range<Int>,
                                   _ body: (_ inputRow: Int?, _ rowStart: Int, _ columns: Range<Int>, _ validColumns: Range<Int>) -> Void) {
        let outWidth = g.outputSize.width
        var oh = pixels.lowerBound / outWidth, ow = pixels.lowerBound % outWidth, t = 0
        while t < pixels.count {
            let end = Swift.min(outWidth, ow + pixels.count - t)
            let ih = oh * g.stride.height - g.padding.height + kh * g.dilation.height
            let lo = Swift.min(Swift.max(valid.lowerBound, ow), end)
            let hi = Swift.max(lo, Swift.min(valid.upperBound, end))
            body(ih >= 0 && ih < g.inputSize.height ? ih : nil, t - ow, ow..<end, lo..<hi)
            t += end - ow
            ow = 0
            oh += 1
        }
    }

    /// Writes the column tile of `pixels` for the `columnRows / kernelArea` channels starting at `image`.
    static func im2col(_ g: Conv2dGeometry, image: UnsafePointer<Float>, pixels: Range<Int>,
                       into column: UnsafeMutablePointer<Float>) {
        let (kH, kW, width) = (g.kernel.height, g.kernel.width, g.inputSize.width)
        let (sw, count) = (g.stride.width, pixels.count)
        for c in 0..<g.inChannelsPerGroup {
            let plane = image + c * g.inputPlane
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let row = column + ((c * kH + kh) * kW + kw) * count
                    let offset = kw * g.dilation.width - g.padding.width
                    let valid = validRange(offset: offset, stride: sw, inputLength: width, outputLength: g.outputSize.width)
                    forEachRow(g, kh: kh, pixels: pixels, valid: valid) { ih, start, columns, inside in
                        let out = row + start
                        guard let ih else {
                            (out + columns.lowerBound).initialize(repeating: 0, count: columns.count)
                            return
                        }
                        let source = plane + ih * width + offset
                        for ow in columns.lowerBound..<inside.lowerBound { out[ow] = 0 }
                        if sw == 1 {
                            (out + inside.lowerBound).update(from: source + inside.lowerBound, count: inside.count)
                        } else {
                            for ow in inside { out[ow] = source[ow * sw] }
                        }
                        for ow in inside.upperBound..<columns.upperBound { out[ow] = 0 }
                    }
                }
            }
        }
    }

    /// Adds the column tile of `pixels` back into the input-shaped gradient at `image` (the group's first
    /// channel), for the channels `channels` of the group. Different channel ranges touch disjoint memory.
    static func col2im(_ g: Conv2dGeometry, column: UnsafePointer<Float>, channels: Range<Int>, pixels: Range<Int>,
                       into image: UnsafeMutablePointer<Float>) {
        let (kH, kW, width) = (g.kernel.height, g.kernel.width, g.inputSize.width)
        let (sw, count) = (g.stride.width, pixels.count)
        for c in channels {
            let plane = image + c * g.inputPlane
            for kh in 0..<kH {
                for kw in 0..<kW {
                    let row = column + ((c * kH + kh) * kW + kw) * count
                    let offset = kw * g.dilation.width - g.padding.width
                    let valid = validRange(offset: offset, stride: sw, inputLength: width, outputLength: g.outputSize.width)
                    forEachRow(g, kh: kh, pixels: pixels, valid: valid) { ih, start, _, inside in
                        guard let ih else { return }
                        let source = row + start, target = plane + ih * width + offset
                        if sw == 1 {
                            for ow in inside { target[ow] += source[ow] }
                        } else {
                            for ow in inside { target[ow * sw] += source[ow] }
                        }
                    }
                }
            }
        }
    }
}
