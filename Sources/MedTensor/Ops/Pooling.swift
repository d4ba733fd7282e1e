/// The windows of a pooling op along one spatial axis: for output position i, input positions
/// `start[i], start[i] + step, …` below `end[i]` (already clipped to the input), and `span[i]`, the window
/// length counting the padding (what `count_include_pad` divides by).
struct PoolAxis {
    var start: [Int] = []
    var end: [Int] = []
    var span: [Int] = []
    var step = 1
    var count: Int { start.count }

    /// Sliding windows with PyTorch's output size, `pooling_output_shape`: floor (or ceil) of
    /// (in + 2·padding − dilation·(kernel − 1) − 1) / stride, plus 1; in ceil mode a last window that would
    /// start in the right padding is dropped.
    init(_ op: String, input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, ceilMode: Bool) {
        precondition(kernel > 0 && stride > 0 && dilation > 0 && padding >= 0,
                     "\(op): kernel \(kernel), stride \(stride) and dilation \(dilation) must be positive, padding \(padding) non-negative")
        precondition(padding <= kernel / 2, "\(op): padding \(padding) must be at most half the kernel size \(kernel)")
        let numerator = input + 2 * padding - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0)
        var output = (numerator >= 0 ? numerator / stride : -((-numerator + stride - 1) / stride)) + 1
        if ceilMode && (output - 1) * stride >= input + padding { output -= 1 }
        precondition(output > 0, "\(op): input size \(input) is too small for kernel \(kernel) with padding \(padding) and dilation \(dilation)")
        step = dilation
        for i in 0..<output {
            let first = i * stride - padding
            // The first tap inside the input (taps before it read the padding).
            let skipped = first < 0 ? (-first + dilation - 1) / dilation : 0
            start.append(first + skipped * dilation)
            end.append(Swift.min(first + (kernel - 1) * dilation + 1, input))
            span.append(Swift.min(first + kernel, input + padding) - first)
        }
    }

    /// Adaptive bins: [floor(i·in/out), ceil((i+1)·in/out)), which overlap when out does not divide in and
    /// repeat input positions when out > in.
    init(adaptiveInput input: Int, output: Int) {
        precondition(output > 0, "adaptive pooling: output size must be positive, got \(output)")
        for i in 0..<output {
            start.append(i * input / output)
            end.append(((i + 1) * input + output - 1) / output)
            span.append(end[i] - start[i])
        }
    }
}

extension Tensor {
    /// 2-D max pooling over an NCHW (or CHW) input, as `torch.nn.functional.max_pool2d(..., return_indices=True)`.
    /// `stride` defaults to the kernel size; padding reads as −∞; NaN wins. `indices` holds, per (n, c) plane,
    /// the flat position h·W + w of each maximum (the first on ties). The gradient flows to those positions.
    public func maxPool2d(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, dilation: Size2 = 1,
                          ceilMode: Bool = false) -> (values: Tensor, indices: IndexTensor) {
        let stride = stride ?? kernelSize
        let (rows, columns) = poolAxes("maxPool2d") { input, axis in
            PoolAxis("maxPool2d", input: input, kernel: kernelSize[axis], stride: stride[axis],
                     padding: padding[axis], dilation: dilation[axis], ceilMode: ceilMode)
        }
        return windowMax(rows, columns, "max_pool2d")
    }

    /// 2-D average pooling, as `torch.nn.functional.avg_pool2d`. The divisor is `divisorOverride` when given,
    /// else the window size including the padding it covers (`countIncludePad`, the default) or excluding it;
    /// in ceil mode, window parts beyond the right padding never count.
    public func avgPool2d(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, ceilMode: Bool = false,
                          countIncludePad: Bool = true, divisorOverride: Int? = nil) -> Tensor {
        precondition(divisorOverride.map { $0 != 0 } ?? true, "avgPool2d: divisorOverride must not be 0")
        let stride = stride ?? kernelSize
        let (rows, columns) = poolAxes("avgPool2d") { input, axis in
            PoolAxis("avgPool2d", input: input, kernel: kernelSize[axis], stride: stride[axis],
                     padding: padding[axis], dilation: 1, ceilMode: ceilMode)
        }
        return windowAverage(rows, columns, "avg_pool2d") { i, j in
            divisorOverride ?? (countIncludePad ? rows.span[i] * columns.span[j]
                                                : (rows.end[i] - rows.start[i]) * (columns.end[j] - columns.start[j]))
        }
    }

    /// Adaptive average pooling to `outputSize`, as `torch.nn.functional.adaptive_avg_pool2d`; any output
    /// size works, smaller or larger than the input.
    public func adaptiveAvgPool2d(outputSize: Size2) -> Tensor {
        let (rows, columns) = poolAxes("adaptiveAvgPool2d") { PoolAxis(adaptiveInput: $0, output: outputSize[$1]) }
        return windowAverage(rows, columns, "adaptive_avg_pool2d") { i, j in rows.span[i] * columns.span[j] }
    }

    /// Adaptive max pooling to `outputSize`, as `torch.nn.functional.adaptive_max_pool2d(..., return_indices=True)`.
    public func adaptiveMaxPool2d(outputSize: Size2) -> (values: Tensor, indices: IndexTensor) {
        let (rows, columns) = poolAxes("adaptiveMaxPool2d") { PoolAxis(adaptiveInput: $0, output: outputSize[$1]) }
        return windowMax(rows, columns, "adaptive_max_pool2d")
    }

    /// Mean over the spatial axes: [N, C, H, W] → [N, C], as `x.mean((2, 3))` (timm's global pool).
    public func globalAvgPool2d() -> Tensor {
        precondition(rank == 4, "globalAvgPool2d: input must be [N, C, H, W], got \(shape)")
        return mean(axes: [2, 3])
    }

    // MARK: shared kernels

    /// The row and column windows, from `make(inputLength, axis)` with axis 0 = height, 1 = width.
    private func poolAxes(_ op: String, _ make: (Int, Int) -> PoolAxis) -> (PoolAxis, PoolAxis) {
        precondition(rank == 4 || rank == 3, "\(op): input must be [N, C, H, W] or [C, H, W], got \(shape)")
        precondition(shape[rank - 2] > 0 && shape[rank - 1] > 0, "\(op): empty spatial size in \(shape)")
        return (make(shape[rank - 2], 0), make(shape[rank - 1], 1))
    }

    /// Calls `body(planes)` over the (n, c) planes in parallel chunks of about 16K window taps.
    private static func forEachPlane(_ planes: Int, work: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEachRange(planes, grain: Swift.max(1, 16_384 / Swift.max(1, work)), body)
    }

    private func windowMax(_ rows: PoolAxis, _ columns: PoolAxis, _ name: String) -> (values: Tensor, indices: IndexTensor) {
        let (height, width) = (shape[rank - 2], shape[rank - 1])
        let outShape = Array(shape.dropLast(2)) + [rows.count, columns.count]
        let planes = shape.dropLast(2).reduce(1, *), outPlane = rows.count * columns.count
        let source = contiguousData()
        let values = Tensor.uninitialized(outShape)
        var indices = [Int](repeating: 0, count: planes * outPlane)
        let x = SendablePointer(source.pointer), y = SendablePointer(values.storage.pointer)
        indices.withUnsafeMutableBufferPointer { buffer in
            let found = SendablePointer(buffer.baseAddress!)
            Tensor.forEachPlane(planes, work: height * width) { range in
                for plane in range {
                    let input = x.pointer + plane * height * width
                    var position = plane * outPlane
                    for i in 0..<rows.count {
                        for j in 0..<columns.count {
                            // As PyTorch's CPU kernel: start from -inf at the first tap; a NaN always wins.
                            var best = -Float.infinity, bestIndex = rows.start[i] * width + columns.start[j]
                            for h in stride(from: rows.start[i], to: rows.end[i], by: rows.step) {
                                for w in stride(from: columns.start[j], to: columns.end[j], by: columns.step) {
                                    let value = input[h * width + w]
                                    if value > best || value.isNaN { best = value; bestIndex = h * width + w }
                                }
                            }
                            y.pointer[position] = best
                            found.pointer[position] = bestIndex
                            position += 1
                        }
                    }
                }
            }
        }
        withExtendedLifetime(source.owner) {}
        let inputShape = shape, routes = indices
        let result = Tensor.record(values, name, inputs: [self]) { gradient in
            let g = gradient.contiguousData()
            let gradInput = Tensor.zeros(inputShape)
            let dx = SendablePointer(gradInput.storage.pointer), dy = SendablePointer(g.pointer)
            routes.withUnsafeBufferPointer { buffer in
                let at = SendablePointer(buffer.baseAddress!)
                Tensor.forEachPlane(planes, work: outPlane) { range in
                    for plane in range {
                        let target = dx.pointer + plane * height * width
                        for p in (plane * outPlane)..<((plane + 1) * outPlane) { target[at.pointer[p]] += dy.pointer[p] }
                    }
                }
            }
            withExtendedLifetime(g.owner) {}
            return [gradInput]
        }
        return (result, IndexTensor(shape: outShape, values: indices))
    }

    /// Window sums divided by `divisor(i, j)`; empty windows give 0.
    private func windowAverage(_ rows: PoolAxis, _ columns: PoolAxis, _ name: String,
                               divisor: (Int, Int) -> Int) -> Tensor {
        let (height, width) = (shape[rank - 2], shape[rank - 1])
        let outShape = Array(shape.dropLast(2)) + [rows.count, columns.count]
        let planes = shape.dropLast(2).reduce(1, *), outPlane = rows.count * columns.count
        let divisors = (0..<outPlane).map { Float(divisor($0 / columns.count, $0 % columns.count)) }
        let source = contiguousData()
        let values = Tensor.uninitialized(outShape)
        let x = SendablePointer(source.pointer), y = SendablePointer(values.storage.pointer)
        Tensor.forEachPlane(planes, work: height * width) { range in
            for plane in range {
                let input = x.pointer + plane * height * width, output = y.pointer + plane * outPlane
                for i in 0..<rows.count {
                    for j in 0..<columns.count {
                        var sum: Float = 0
                        for h in rows.start[i]..<Swift.max(rows.start[i], rows.end[i]) {
                            for w in columns.start[j]..<Swift.max(columns.start[j], columns.end[j]) { sum += input[h * width + w] }
                        }
                        output[i * columns.count + j] = sum / divisors[i * columns.count + j]
                    }
                }
            }
        }
        withExtendedLifetime(source.owner) {}
        let inputShape = shape
        return Tensor.record(values, name, inputs: [self]) { gradient in
            let g = gradient.contiguousData()
            let gradInput = Tensor.zeros(inputShape)
            let dx = SendablePointer(gradInput.storage.pointer), dy = SendablePointer(g.pointer)
            Tensor.forEachPlane(planes, work: height * width) { range in
                for plane in range {
                    let target = dx.pointer + plane * height * width, grad = dy.pointer + plane * outPlane
                    for i in 0..<rows.count {
                        for j in 0..<columns.count {
                            let share = grad[i * columns.count + j] / divisors[i * columns.count + j]
                            for h in rows.start[i]..<Swift.max(rows.start[i], rows.end[i]) {
                                for w in columns.start[j]..<Swift.max(columns.start[j], columns.end[j]) { target[h * width + w] += share }
                            }
                        }
                    }
                }
            }
            withExtendedLifetime(g.owner) {}
            return [gradInput]
        }
    }
}
