import CMedKernels

/// The windows of a pooling op along one spatial axis: for output position i, input positions
/// `start[i], start[i] + step, …` below `end[i]` (already clipped to the input), and `span[i]`, the window
/// length counting the padding (what `count_include_pad` divides by).
struct PoolAxis {
    var start: [Int] = []
    var end: [Int] = []
    var span: [Int] = []
    var step = 1
    /// Sliding windows: output i starts at i·stride − padding with `kernel` taps `step` apart (kernel = 0 for
    /// adaptive bins), which lets the kernels vectorise along the axis.
    var kernel = 0, stride = 1, padding = 0
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
        (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
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
        let (rows, columns) = maxPoolAxes(kernelSize, stride, padding, dilation, ceilMode)
        let (values, indices) = windowMax(rows, columns, "max_pool2d", returningIndices: true)
        return (values, indices!)
    }

    /// The values of ``maxPool2d(kernelSize:stride:padding:dilation:ceilMode:)`` alone (`nn.MaxPool2d`
    /// without `return_indices`): when no gradient is recorded, no argmax is tracked — about half the work on
    /// the small planes of 28-px images.
    public func maxPool2dValues(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, dilation: Size2 = 1,
                                ceilMode: Bool = false) -> Tensor {
        let (rows, columns) = maxPoolAxes(kernelSize, stride, padding, dilation, ceilMode)
        return windowMax(rows, columns, "max_pool2d", returningIndices: false).values
    }

    /// The row and column windows of a max pool (the stride defaults to the kernel size).
    private func maxPoolAxes(_ kernelSize: Size2, _ stride: Size2?, _ padding: Size2, _ dilation: Size2,
                             _ ceilMode: Bool) -> (PoolAxis, PoolAxis) {
        let stride = stride ?? kernelSize
        return poolAxes("maxPool2d") { input, axis in
            PoolAxis("maxPool2d", input: input, kernel: kernelSize[axis], stride: stride[axis],
                     padding: padding[axis], dilation: dilation[axis], ceilMode: ceilMode)
        }
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
        let (values, indices) = windowMax(rows, columns, "adaptive_max_pool2d", returningIndices: true)
        return (values, indices!)
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

    /// The window maxima, and their indices when asked for or needed by a recorded backward pass.
    private func windowMax(_ rows: PoolAxis, _ columns: PoolAxis, _ name: String,
                           returningIndices: Bool) -> (values: Tensor, indices: IndexTensor?) {
        let (height, width) = (shape[rank - 2], shape[rank - 1])
        let outShape = Array(shape.dropLast(2)) + [rows.count, columns.count]
        let planes = shape.dropLast(2).reduce(1, *), outPlane = rows.count * columns.count
        let source = contiguousData()
        let values = Tensor.uninitialized(outShape)
        let x = SendablePointer(source.pointer), y = SendablePointer(values.storage.pointer)
        func run(_ found: SendablePointer<Int64>?) {
            PoolAxis.withWindows(rows, columns, height: height, width: width) { windows in
                Tensor.forEachPlane(planes, work: height * width) { range in
                    mk_maxpool_forward(windows.pointer, x.pointer, y.pointer, found?.pointer, range.lowerBound, range.upperBound)
                }
            }
        }
        guard returningIndices || (GradMode.isEnabled && node != nil) else {
            run(nil)
            withExtendedLifetime(source.owner) {}
            return (values, nil)
        }
        var indices = [Int](repeating: 0, count: planes * outPlane)
        indices.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: Int64.self) { run(SendablePointer($0.baseAddress!)) }
        }
        withExtendedLifetime(source.owner) {}
        let inputShape = shape, routes = indices
        let result = Tensor.record(values, name, inputs: [self]) { gradient in
            let g = gradient.contiguousData()
            let gradInput = Tensor.uninitialized(inputShape)
            let dx = SendablePointer(gradInput.storage.pointer), dy = SendablePointer(g.pointer)
            routes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: Int64.self) { at64 in
                    let at = SendablePointer(at64.baseAddress!)
                    PoolAxis.withWindows(rows, columns, height: height, width: width) { windows in
                        Tensor.forEachPlane(planes, work: height * width) { range in
                            mk_maxpool_backward(windows.pointer, dy.pointer, at.pointer, dx.pointer, range.lowerBound, range.upperBound)
                        }
                    }
                }
            }
            withExtendedLifetime(g.owner) {}
            return [gradInput]
        }
        return (result, returningIndices ? IndexTensor(shape: outShape, values: indices) : nil)
    }

    /// Window sums divided by `divisor(i, j)`.
    private func windowAverage(_ rows: PoolAxis, _ columns: PoolAxis, _ name: String,
                               divisor: (Int, Int) -> Int) -> Tensor {
        let (height, width) = (shape[rank - 2], shape[rank - 1])
        let outShape = Array(shape.dropLast(2)) + [rows.count, columns.count]
        let planes = shape.dropLast(2).reduce(1, *), outPlane = rows.count * columns.count
        let divisors = (0..<outPlane).map { Float(divisor($0 / columns.count, $0 % columns.count)) }
        let source = contiguousData()
        let values = Tensor.uninitialized(outShape)
        let x = SendablePointer(source.pointer), y = SendablePointer(values.storage.pointer)
        divisors.withUnsafeBufferPointer { divisorBuffer in
            let d = SendablePointer(divisorBuffer.baseAddress!)
            PoolAxis.withWindows(rows, columns, height: height, width: width) { windows in
                Tensor.forEachPlane(planes, work: height * width) { range in
                    mk_avgpool_forward(windows.pointer, d.pointer, x.pointer, y.pointer, range.lowerBound, range.upperBound)
                }
            }
        }
        withExtendedLifetime(source.owner) {}
        let inputShape = shape
        return Tensor.record(values, name, inputs: [self]) { gradient in
            let g = gradient.contiguousData()
            let gradInput = Tensor.uninitialized(inputShape)
            let dx = SendablePointer(gradInput.storage.pointer), dy = SendablePointer(g.pointer)
            divisors.withUnsafeBufferPointer { divisorBuffer in
                let d = SendablePointer(divisorBuffer.baseAddress!)
                PoolAxis.withWindows(rows, columns, height: height, width: width) { windows in
                    Tensor.forEachPlane(planes, work: height * width) { range in
                        mk_avgpool_backward(windows.pointer, d.pointer, dy.pointer, dx.pointer, range.lowerBound, range.upperBound)
                    }
                }
            }
            withExtendedLifetime(g.owner) {}
            return [gradInput]
        }
    }
}

extension PoolAxis {
    /// Calls `body` with the C kernels' description of the windows `rows` × `columns` over planes of
    /// height × width.
    static func withWindows<R>(_ rows: PoolAxis, _ columns: PoolAxis, height: Int, width: Int,
                               _ body: (SendablePointer<mk_pool_windows>) -> R) -> R {
        rows.start.withUnsafeBufferPointer { rowStart in
            rows.end.withUnsafeBufferPointer { rowEnd in
                columns.start.withUnsafeBufferPointer { colStart in
                    columns.end.withUnsafeBufferPointer { colEnd in
                        var windows = mk_pool_windows(height: height, width: width, out_height: rows.count, out_width: columns.count,
                                                      row_start: rowStart.baseAddress, row_end: rowEnd.baseAddress,
                                                      col_start: colStart.baseAddress, col_end: colEnd.baseAddress,
                                                      row_step: rows.step, col_step: columns.step,
                                                      col_kernel: columns.kernel, col_stride: columns.stride, col_pad: columns.padding)
                        return withUnsafeMutablePointer(to: &windows) { body(SendablePointer($0)) }
                    }
                }
            }
        }
    }
}
