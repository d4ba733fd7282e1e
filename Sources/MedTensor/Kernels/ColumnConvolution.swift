/// The small-image stems' path of ``ConvolutionKernels``: an explicit column matrix and plain GEMMs, for
/// convolutions over few input channels with a large kernel and narrow output rows (ResNet's and DenseNet's
/// 7×7 stride-2 stem on 28-px RGB, EfficientNet's first 3×3, the ViTs' 16×16 patch embedding at 224).
///
/// Why: the implicit GEMM computes, for every panel of 32 output pixels, where each of the panel's lanes
/// reads for every kernel tap, and shares that work among the group's input channels. With 3 channels and
/// 49 taps there is almost nothing to share it with: at 28 px, ResNet-18's stem ran at 38 GFLOP/s forward
/// and in the weight gradient (other layers: 70–93). Writing the column matrix costs one pass over
/// k × pixels floats, which is small next to the m = out-channels multiply-adds each of its floats feeds.
///
/// Threads take chunks of a few images whose column matrix fits in L2 (`chunkFloats`); each image is one
/// single-threaded GEMM straight into its NCHW output (or, for the weight gradient, added into one of a fixed
/// number of partial sums, added in order at the end), so results do not depend on the thread count.
enum ColumnConvolution {
    /// Target floats of one chunk's column matrix (256 KB, half of a Zen 2–4 L2).
    static let chunkFloats = 1 << 16

    /// Whether `g` takes this path: one group of at most 4 input channels, at least 9 kernel taps, and output
    /// rows narrower than a panel of 32 pixels (small images, where the implicit GEMM's lanes need gathers). On
    /// wide outputs the implicit GEMM reads whole rows and wins: at 224 px the column matrix of one image
    /// (7 MB for ResNet's stem) does not stay in cache, and this path ran the stem at 0.6× its speed.
    static func applies(_ g: Conv2dGeometry) -> Bool {
        g.groups == 1 && g.inChannels <= 4 && g.kernelArea >= 9 && g.outputSize.width < 32
    }

    /// Images per chunk: as many as fit `chunkFloats` (at least one).
    private static func imagesPerChunk(_ g: Conv2dGeometry) -> Int {
        Swift.max(1, Swift.min(g.batch, chunkFloats / Swift.max(1, g.columnRows * g.outputPlane)))
    }

    /// output = conv(input, weight) + bias: per image, W · columns into the image's [channel][pixel] output.
    static func forward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let (k, plane, channels) = (g.columnRows, g.outputPlane, g.outChannels)
        let chunk = imagesPerChunk(g), chunks = (g.batch + chunk - 1) / chunk
        let x = SendablePointer(input), w = SendablePointer(weight), y = SendablePointer(output)
        let b = bias.map { SendablePointer($0) }
        Parallel.forEachRange(chunks, grain: grain(g)) { range in
            let columns = Scratch(floats: k * chunk * plane)
            defer { columns.release() }
            for index in range {
                let images = index * chunk..<Swift.min(g.batch, (index + 1) * chunk), pixels = images.count * plane
                fillColumns(g, input: x.pointer, images: images, columns: columns.pointer)
                for (offset, image) in images.enumerated() {
                    let target = y.pointer + image * channels * plane
                    if let b {
                        for channel in 0..<channels { (target + channel * plane).update(repeating: b.pointer[channel], count: plane) }
                    }
                    product(m: channels, n: plane, k: k, a: w.pointer, lda: k, transposeB: false, b: columns.pointer + offset * plane,
                            ldb: pixels, beta: bias == nil ? 0 : 1, c: target, ldc: plane)
                }
            }
        }
    }

    /// gradWeight = Σ over images of gradOutput[image] ([channel][pixel]) · columns[image]ᵀ; overwrites
    /// gradWeight. The chunks are split into at most 8 fixed runs, each summed into its own buffer.
    static func backwardWeight(_ g: Conv2dGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                               gradWeight: UnsafeMutablePointer<Float>) {
        let (k, plane, channels) = (g.columnRows, g.outputPlane, g.outChannels)
        let chunk = imagesPerChunk(g), chunks = (g.batch + chunk - 1) / chunk
        let parts = Swift.min(chunks, Swift.max(8, Parallel.threadCount)), count = channels * k
        let partials = (1..<parts).map { _ in Scratch(floats: count) }
        defer { for buffer in partials { buffer.release() } }
        let sums = [SendablePointer(gradWeight)] + partials.map { SendablePointer($0.pointer) }
        let x = SendablePointer(input), dy = SendablePointer(gradOutput)
        Parallel.forEachRange(parts, grain: grain(g)) { range in
            let columns = Scratch(floats: k * chunk * plane)
            defer { columns.release() }
            for part in range {
                for index in chunks * part / parts..<chunks * (part + 1) / parts {
                    let images = index * chunk..<Swift.min(g.batch, (index + 1) * chunk), pixels = images.count * plane
                    fillColumns(g, input: x.pointer, images: images, columns: columns.pointer)
                    for (offset, image) in images.enumerated() {
                        let first = index == chunks * part / parts && offset == 0
                        product(m: channels, n: k, k: plane, a: dy.pointer + image * channels * plane, lda: plane,
                                transposeB: true, b: columns.pointer + offset * plane, ldb: pixels, beta: first ? 0 : 1,
                                c: sums[part].pointer, ldc: k)
                    }
                }
            }
        }
        ConvolutionKernels.addPartials(Array(sums.dropFirst()), into: gradWeight, count: count)
    }

    /// The grain of the split: everything on one thread below ``ConvolutionKernels/parallelThreshold``
    /// multiply-adds, else one unit.
    private static func grain(_ g: Conv2dGeometry) -> Int {
        ConvolutionKernels.work(g) < ConvolutionKernels.parallelThreshold ? Int.max : 1
    }

    /// C = A · op(B) + beta · C on the calling thread, in Float32 (convolutions stay Float32 in the BF16 mode).
    private static func product(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeB: Bool,
                                b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        GEMM.$precision.withValue(.float32) {
            GEMM.multiply(transposeA: false, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                          beta: beta, c: c, ldc: ldc, parallel: false)
        }
    }

    /// Row (c, kh, kw) of the column matrix over `images`: columns[row · pixels + (image · plane + oh · OW + ow)]
    /// = input[image, c, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw], 0 in the padding.
    static func fillColumns(_ g: Conv2dGeometry, input: UnsafePointer<Float>, images: Range<Int>,
                            columns: UnsafeMutablePointer<Float>) {
        let (height, width) = (g.inputSize.height, g.inputSize.width)
        let (outHeight, outWidth) = (g.outputSize.height, g.outputSize.width)
        let (sh, sw, ph, pw, dh, dw) = (g.stride.height, g.stride.width, g.padding.height, g.padding.width,
                                        g.dilation.height, g.dilation.width)
        let plane = g.outputPlane, pixels = images.count * plane, imageStride = g.inChannels * g.inputPlane
        for row in 0..<g.columnRows {
            let (c, tap) = row.quotientAndRemainder(dividingBy: g.kernelArea)
            let (kh, kw) = tap.quotientAndRemainder(dividingBy: g.kernel.width)
            // The output columns whose tap lands inside the row: ow in [low, high).
            let offset = kw * dw - pw
            let low = Swift.min(outWidth, offset >= 0 ? 0 : (-offset + sw - 1) / sw)
            let high = Swift.max(low, Swift.min(outWidth, width - offset <= 0 ? 0 : (width - offset - 1) / sw + 1))
            var target = columns + row * pixels
            for image in images {
                let channelPlane = input + image * imageStride + c * g.inputPlane
                for oh in 0..<outHeight {
                    let ih = oh * sh - ph + kh * dh
                    if ih < 0 || ih >= height {
                        target.update(repeating: 0, count: outWidth)
                    } else {
                        let source = channelPlane + ih * width + offset
                        for ow in 0..<low { target[ow] = 0 }
                        if sw == 1 {
                            (target + low).update(from: source + low, count: high - low)
                        } else {
                            for ow in low..<high { target[ow] = source[ow * sw] }
                        }
                        for ow in high..<outWidth { target[ow] = 0 }
                    }
                    target += outWidth
                }
            }
        }
    }

    /// A pooled buffer (StoragePool) for one op's scratch.
    private struct Scratch {
        let pointer: UnsafeMutablePointer<Float>
        let bytes: Int
        init(floats: Int) {
            bytes = Swift.max(1, floats) * MemoryLayout<Float>.stride
            pointer = StoragePool.allocate(byteCount: bytes).bindMemory(to: Float.self, capacity: Swift.max(1, floats))
        }
        func release() { StoragePool.deallocate(UnsafeMutableRawPointer(pointer), byteCount: bytes) }
    }
}
