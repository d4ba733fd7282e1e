import MedTensor

/// Batch normalisation over the channels of NCHW input, with PyTorch's semantics: in training, normalise
/// with the batch mean and the biased batch variance, and update the running estimates with `momentum`
/// (the running variance from the unbiased batch variance); in evaluation, normalise with the running
/// estimates. `momentum: nil` averages cumulatively, as PyTorch does.
public final class BatchNorm2d: Module, UnaryLayer {
    public let weight: Parameter?
    public let bias: Parameter?
    public let runningMean: Parameter?
    public let runningVar: Parameter?
    public let numBatchesTracked: IntegerBuffer?
    public let eps: Float
    public let momentum: Float?
    /// Set by ``convBatchNorm(_:_:_:)``: this layer folded into the convolution before it (evaluation only).
    var foldCache: FoldedConvolution?

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true, trackRunningStats: Bool = true) {
        weight = affine ? Parameter(.ones([channels])) : nil
        bias = affine ? Parameter(.zeros([channels])) : nil
        runningMean = trackRunningStats ? Parameter(.zeros([channels]), isBuffer: true) : nil
        runningVar = trackRunningStats ? Parameter(.ones([channels]), isBuffer: true) : nil
        numBatchesTracked = trackRunningStats ? IntegerBuffer() : nil
        self.eps = eps
        self.momentum = momentum
        super.init()
    }

    public var channels: Int { (weight ?? runningMean)!.shape[0] }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels,
                     "BatchNorm2d(\(channels)): expected [N, \(channels), H, W], got \(input.shape)")
        let useBatchStatistics = isTraining || runningMean == nil
        if useBatchStatistics {
            let (output, mean, variance) = BatchNormKernels.trainingForward(input, weight: weight?.value, bias: bias?.value, eps: eps)
            if isTraining, let runningMean, let runningVar, let numBatchesTracked {
                numBatchesTracked.scalar += 1
                let factor = momentum ?? 1 / Float(numBatchesTracked.scalar)
                let n = Float(input.count / channels)
                let unbiased = variance * (n / Swift.max(n - 1, 1))
                withoutGrad {
                    runningMean.assign(runningMean.value * (1 - factor) + mean * factor)
                    runningVar.assign(runningVar.value * (1 - factor) + unbiased * factor)
                }
            }
            return output
        }
        // Evaluation: an affine map per channel.
        let inverse = (runningVar!.value + eps).rsqrt()
        let scale = weight.map { inverse * $0.value } ?? inverse
        let shift = (bias?.value ?? Tensor.zeros([channels])) - runningMean!.value * scale
        return input * scale.reshaped([1, channels, 1, 1]) + shift.reshaped([1, channels, 1, 1])
    }

    /// `relu(self(concatenate(maps, axis: 1)))`: DenseNet's BN-ReLU over the feature maps gathered so far.
    /// In evaluation mode with gradients off (inference, frozen features) it is one pass that reads each map
    /// once and writes the activated result — no concatenated copy and no separate scale, shift and ReLU
    /// passes, which were a fifth of DenseNet-121's inference. Each element is still x·scale, then + shift,
    /// then ReLU, so the result equals the composed ops' bit for bit. Otherwise it is the composed ops.
    public func reluOfConcatenation(_ maps: [Tensor]) -> Tensor {
        let first = maps[0]
        let fits = first.rank == 4 && maps.allSatisfy {
            $0.rank == 4 && $0.shape[0] == first.shape[0] && $0.shape[2] == first.shape[2] && $0.shape[3] == first.shape[3]
        } && maps.reduce(0) { $0 + $1.shape[1] } == channels
        guard !isTraining, runningMean != nil, !GradMode.isEnabled, fits else {
            return self(maps.count == 1 ? first : Tensor.concatenate(maps, axis: 1)).relu()
        }
        let (scale, shift) = evaluationAffine()
        let (batch, plane) = (first.shape[0], first.shape[2] * first.shape[3])
        let output = Tensor.uninitialized([batch, channels, first.shape[2], first.shape[3]])
        let sources = maps.map { $0.contiguous() }
        let y = SendablePointer(output.contiguousPointer)
        let a = SendablePointer(scale.contiguous().contiguousPointer), b = SendablePointer(shift.contiguous().contiguousPointer)
        var start = 0
        for source in sources {
            let (x, count, offset) = (SendablePointer(source.contiguousPointer), source.shape[1], start)
            Parallel.forEachRange(batch * count, grain: Swift.max(1, 16_384 / Swift.max(1, plane))) { range in
                for unit in range {
                    let (image, channel) = unit.quotientAndRemainder(dividingBy: count)
                    let input = x.pointer + unit * plane, target = y.pointer + (image * channels + offset + channel) * plane
                    let (s, t) = (a.pointer[offset + channel], b.pointer[offset + channel])
                    for i in 0..<plane {
                        let v = input[i] * s + t
                        target[i] = v < 0 ? 0 : v  // as ReLU: NaN stays NaN
                    }
                }
            }
            start += count
        }
        withExtendedLifetime((sources, scale, shift)) {}
        return output
    }

    /// The per-channel (scale, shift) that evaluation mode applies: y = x·scale + shift. For folding into
    /// a preceding convolution.
    public func evaluationAffine() -> (scale: Tensor, shift: Tensor) {
        withoutGrad {
            let inverse = (runningVar!.value + eps).rsqrt()
            let scale = weight.map { inverse * $0.value } ?? inverse
            let shift = (bias?.value ?? Tensor.zeros([channels])) - runningMean!.value * scale
            return (scale, shift)
        }
    }
}

/// Fused training-mode batch norm: two passes for the statistics, one to normalise, and a backward pass that
/// uses the saved normalised input (dX = γ/σ · (dY − mean(dY) − x̂·mean(dY·x̂)) per channel), all in the
/// vectorised kernels of MedTensor's `NormalizationKernels`.
enum BatchNormKernels {
    /// Returns the output, the batch mean and the biased batch variance (both [C], detached).
    static func trainingForward(_ input: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> (Tensor, Tensor, Tensor) {
        let x = input.detached().contiguous()
        let (n, c, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        let mean = Tensor.uninitialized([c]), variance = Tensor.uninitialized([c]), inverseStd = Tensor.uninitialized([c])
        let normalized = Tensor.uninitialized(x.shape), output = Tensor.uninitialized(x.shape)
        let gamma = weight?.detached().contiguous().scalars ?? [Float](repeating: 1, count: c)
        let beta = bias?.detached().contiguous().scalars ?? [Float](repeating: 0, count: c)
        gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                NormalizationKernels.batchNormForward(
                    x.contiguousPointer, batch: n, channels: c, plane: plane, eps: eps, gamma: g.baseAddress, beta: b.baseAddress,
                    output: output.contiguousPointer, normalized: normalized.contiguousPointer, mean: mean.contiguousPointer,
                    variance: variance.contiguousPointer, inverseStd: inverseStd.contiguousPointer)
            }
        }
        withExtendedLifetime(x) {}
        var inputs = [input]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let (hasWeight, hasBias) = (weight != nil, bias != nil)
        let recorded = Tensor.record(output, "batch_norm", inputs: inputs) { gradient in
            let grads = backward(gradient, normalized: normalized, inverseStd: inverseStd, gamma: gamma)
            var result: [Tensor?] = [grads.input]
            if hasWeight { result.append(grads.weight) }
            if hasBias { result.append(grads.bias) }
            return result
        }
        return (recorded, mean, variance)
    }

    static func backward(_ gradient: Tensor, normalized: Tensor, inverseStd: Tensor, gamma: [Float])
        -> (input: Tensor, weight: Tensor, bias: Tensor) {
        let dy = gradient.contiguous()
        let (n, c, plane) = (dy.shape[0], dy.shape[1], dy.shape[2] * dy.shape[3])
        let dx = Tensor.uninitialized(dy.shape), dw = Tensor.uninitialized([c]), db = Tensor.uninitialized([c])
        gamma.withUnsafeBufferPointer { g in
            NormalizationKernels.batchNormBackward(
                dy.contiguousPointer, normalized: normalized.contiguousPointer, batch: n, channels: c, plane: plane,
                gamma: g.baseAddress, inverseStd: inverseStd.contiguousPointer, gradInput: dx.contiguousPointer,
                gradWeight: dw.contiguousPointer, gradBias: db.contiguousPointer)
        }
        withExtendedLifetime((dy, normalized, inverseStd)) {}
        return (dx, dw, db)
    }
}
