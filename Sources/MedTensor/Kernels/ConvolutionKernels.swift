import CMedKernels

/// The compute behind ``Tensor/conv2d(weight:bias:stride:padding:dilation:groups:)``: four entry points over
/// raw contiguous pointers in the layouts of ``Conv2dGeometry``. Replacing a path (say, with AVX-512 kernels)
/// means replacing the body of one of these functions; nothing above them knows how they compute.
///
/// Paths: depthwise → a direct loop (DepthwiseConvolution.swift); 1×1 stride-1 unpadded → GEMM on the input
/// itself; everything else → im2col of a tile of output pixels + GEMM, so that the column matrix of a whole
/// image (let alone a batch) is never built. Groups are GEMM pointer offsets, never split and concatenated.
///
/// Determinism: for a given ``Parallel/threadCount`` results are bitwise identical from run to run. Each
/// element of the output and of the input gradient is computed by one thread in a fixed order (tiles of one
/// image's input gradient overlap, so they are never split across threads); the weight gradient is summed
/// into one buffer per chunk of work, and the buffers are added in chunk order.
enum ConvolutionKernels {
    /// Floats of one group's column tile (columnRows × tile pixels) to aim for: 128 KB, which stays in L2
    /// together with the weights it multiplies.
    static let columnTileBudget = 32_768

    /// Output pixels per tile: depends on the geometry only, so results do not depend on the thread count.
    static func pixelTile(_ g: Conv2dGeometry) -> Int {
        let fit = columnTileBudget / Swift.max(1, g.columnRows) / 16 * 16
        return Swift.max(1, Swift.min(g.outputPlane, Swift.max(64, fit)))
    }

    /// output = conv(input, weight) + bias. `bias` may be nil.
    static func forward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        guard g.batch > 0 else { return }
        if g.isDepthwise { return depthwiseForward(g, input: input, weight: weight, bias: bias, output: output) }
        let tile = pixelTile(g), tiles = (g.outputPlane + tile - 1) / tile
        let (cg, og, k, plane) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.columnRows, g.outputPlane)
        let x = SendablePointer(input), w = SendablePointer(weight), y = SendablePointer(output)
        let b = bias.map { SendablePointer($0) }
        forEachItem(g.batch * tiles) { items, parallel in
            let column = g.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: k * tile)
            defer { column?.deallocate() }
            for item in items {
                let n = item / tiles, p0 = item % tiles * tile, count = Swift.min(tile, plane - p0)
                for group in 0..<g.groups {
                    let image = x.pointer + (n * g.inChannels + group * cg) * g.inputPlane
                    let target = y.pointer + (n * g.outChannels + group * og) * plane + p0
                    let (source, ldb) = columns(g, image: image, pixels: p0..<(p0 + count), buffer: column)
                    GEMM.multiply(transposeA: false, transposeB: false, m: og, n: count, k: k,
                                  a: w.pointer + group * og * k, lda: k, b: source, ldb: ldb,
                                  c: target, ldc: plane, parallel: parallel)
                    if let b {
                        for o in 0..<og {
                            let value = b.pointer[group * og + o], row = target + o * plane
                            for p in 0..<count { row[p] += value }
                        }
                    }
                }
            }
        }
    }

    /// gradInput = col2im(Wᵀ · gradOutput); overwrites gradInput.
    static func backwardInput(_ g: Conv2dGeometry, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                              gradInput: UnsafeMutablePointer<Float>) {
        guard g.batch > 0 else { return }
        if g.isDepthwise { return depthwiseBackwardInput(g, gradOutput: gradOutput, weight: weight, gradInput: gradInput) }
        let tile = pixelTile(g), tiles = (g.outputPlane + tile - 1) / tile
        let (cg, og, k, plane) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.columnRows, g.outputPlane)
        let dy = SendablePointer(gradOutput), w = SendablePointer(weight), dx = SendablePointer(gradInput)
        if g.isPointwise {
            // Tiles of pixels are disjoint in the input too: write straight into gradInput.
            forEachItem(g.batch * tiles) { items, parallel in
                for item in items {
                    let n = item / tiles, p0 = item % tiles * tile, count = Swift.min(tile, plane - p0)
                    for group in 0..<g.groups {
                        GEMM.multiply(transposeA: true, transposeB: false, m: cg, n: count, k: og,
                                      a: w.pointer + group * og * k, lda: k,
                                      b: dy.pointer + (n * g.outChannels + group * og) * plane + p0, ldb: plane,
                                      c: dx.pointer + (n * g.inChannels + group * cg) * plane + p0, ldc: plane,
                                      parallel: parallel)
                    }
                }
            }
            return
        }
        gradInput.initialize(repeating: 0, count: g.batch * g.inChannels * g.inputPlane)
        // Windows of neighbouring tiles overlap in the input, so one image's tiles run in order on one thread
        // (parallel over images), or, for small batches, with the threads inside GEMM and col2im.
        let image = { (n: Int, parallel: Bool) in
            let column = UnsafeMutablePointer<Float>.allocate(capacity: k * tile)
            defer { column.deallocate() }
            for t in 0..<tiles {
                let p0 = t * tile, count = Swift.min(tile, plane - p0)
                for group in 0..<g.groups {
                    GEMM.multiply(transposeA: true, transposeB: false, m: k, n: count, k: og,
                                  a: w.pointer + group * og * k, lda: k,
                                  b: dy.pointer + (n * g.outChannels + group * og) * plane + p0, ldb: plane,
                                  c: column, ldc: count, parallel: parallel)
                    let target = dx.pointer + (n * g.inChannels + group * cg) * g.inputPlane
                    let col = SendablePointer(column)
                    if parallel {
                        Parallel.forEachRange(cg, grain: Swift.max(1, 16_384 / Swift.max(1, g.kernelArea * count))) { channels in
                            col2im(g, column: col.pointer, channels: channels, pixels: p0..<(p0 + count), into: target)
                        }
                    } else {
                        col2im(g, column: column, channels: 0..<cg, pixels: p0..<(p0 + count), into: target)
                    }
                }
            }
        }
        if g.batch >= Parallel.threadCount && g.batch > 1 {
            Parallel.forEachRange(g.batch) { images in for n in images { image(n, false) } }
        } else {
            for n in 0..<g.batch { image(n, true) }
        }
    }

    /// gradWeight = Σ over images and tiles of gradOutput · columnsᵀ; overwrites gradWeight.
    static func backwardWeight(_ g: Conv2dGeometry, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                               gradWeight: UnsafeMutablePointer<Float>) {
        let weightCount = g.outChannels * g.columnRows
        gradWeight.initialize(repeating: 0, count: weightCount)
        guard g.batch > 0 else { return }
        if g.isDepthwise { return depthwiseBackwardWeight(g, input: input, gradOutput: gradOutput, gradWeight: gradWeight) }
        let tile = pixelTile(g), tiles = (g.outputPlane + tile - 1) / tile
        let (cg, og, k, plane) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.columnRows, g.outputPlane)
        let items = g.batch * tiles
        // Each chunk of items sums into its own buffer (chunk 0 into gradWeight); the buffers are then added
        // in chunk order, so the result depends on the thread count but not on scheduling.
        let chunks = Swift.min(Parallel.threadCount, items)
        let partials = [SendablePointer(gradWeight)] + (1..<Swift.max(chunks, 1)).map { _ in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: weightCount)
            buffer.initialize(repeating: 0, count: weightCount)
            return SendablePointer(buffer)
        }
        defer { for buffer in partials.dropFirst() { buffer.pointer.deallocate() } }
        let x = SendablePointer(input), dy = SendablePointer(gradOutput)
        let chunk = { (index: Int, parallel: Bool) in
            let column = g.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: k * tile)
            defer { column?.deallocate() }
            let sum = partials[index].pointer
            for item in (items * index / chunks)..<(items * (index + 1) / chunks) {
                let n = item / tiles, p0 = item % tiles * tile, count = Swift.min(tile, plane - p0)
                for group in 0..<g.groups {
                    let image = x.pointer + (n * g.inChannels + group * cg) * g.inputPlane
                    let (source, ldb) = columns(g, image: image, pixels: p0..<(p0 + count), buffer: column)
                    GEMM.multiply(transposeA: false, transposeB: true, m: og, n: k, k: count,
                                  a: dy.pointer + (n * g.outChannels + group * og) * plane + p0, lda: plane,
                                  b: source, ldb: ldb, beta: 1, c: sum + group * og * k, ldc: k, parallel: parallel)
                }
            }
        }
        if chunks == 1 {
            chunk(0, true)
        } else {
            Parallel.forEachRange(chunks) { range in for index in range { chunk(index, false) } }
            Parallel.forEachRange(weightCount, grain: 16_384) { range in
                for buffer in partials.dropFirst() {
                    for i in range { gradWeight[i] += buffer.pointer[i] }
                }
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

    // MARK: helpers

    /// Runs `body(items, parallelGEMM)` over `0..<count` work items: split across threads when there are
    /// enough items to keep every thread busy, else in order with the threads inside GEMM.
    private static func forEachItem(_ count: Int, _ body: (Range<Int>, Bool) -> Void) {
        if count >= Parallel.threadCount && count > 1 {
            Parallel.forEachRange(count) { body($0, false) }
        } else {
            body(0..<count, true)
        }
    }

    /// The GEMM right-hand side for one group's pixels: the input itself for pointwise convolutions, else
    /// the im2col tile written into `buffer`. Returns the pointer and its row stride.
    private static func columns(_ g: Conv2dGeometry, image: UnsafePointer<Float>, pixels: Range<Int>,
                                buffer: UnsafeMutablePointer<Float>?) -> (UnsafePointer<Float>, Int) {
        guard let buffer else { return (image + pixels.lowerBound, g.inputPlane) }
        im2col(g, image: image, pixels: pixels, into: buffer)
        return (UnsafePointer(buffer), pixels.count)
    }
}
