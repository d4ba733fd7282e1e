import CMedKernels

// MARK: raw kernels (no autograd)

extension Tensor {
    /// `op` applied to every element through the dispatched C kernel. Not recorded.
    func mapped(_ op: mk_unary_op, _ a: Float = 0, _ b: Float = 0) -> Tensor {
        let source = contiguousData()
        let result = Tensor.uninitialized(shape)
        let x = SendablePointer(source.pointer), y = SendablePointer(result.storage.pointer)
        let opCode = Int32(op.rawValue)
        Parallel.forEachRange(count, grain: 32_768) { range in
            mk_unary(opCode, x.pointer + range.lowerBound, y.pointer + range.lowerBound, range.count, a, b)
        }
        withExtendedLifetime(source.owner) {}
        return result
    }

    /// `op` applied elementwise with NumPy broadcasting. Not recorded.
    static func zipped(_ op: mk_binary_op, _ lhs: Tensor, _ rhs: Tensor) -> Tensor {
        guard let shape = broadcastShape(lhs.shape, rhs.shape) else {
            preconditionFailure("elementwise op: shapes \(lhs.shape) and \(rhs.shape) do not broadcast")
        }
        let result = Tensor.uninitialized(shape)
        let runs = StridedRuns(shape: shape,
                               strides: [result.strides, lhs.broadcastStrides(to: shape), rhs.broadcastStrides(to: shape)],
                               offsets: [0, lhs.layout.offset, rhs.layout.offset])
        let sa = runs.innerStride(1), sb = runs.innerStride(2)
        let y = SendablePointer(result.storage.pointer)
        let a = SendablePointer(lhs.storage.pointer), b = SendablePointer(rhs.storage.pointer)
        let opCode = Int32(op.rawValue)
        runs.parallelForEach { offsets, length in
            mk_binary(opCode, a.pointer + offsets[1], sa, b.pointer + offsets[2], sb, y.pointer + offsets[0], length)
        }
        return result
    }

    /// Strides that read this tensor as if broadcast to `shape` (0 on repeated axes).
    func broadcastStrides(to shape: [Int]) -> [Int] {
        let lead = shape.count - rank
        return (0..<shape.count).map { axis in
            axis < lead || self.shape[axis - lead] == 1 ? 0 : strides[axis - lead]
        }
    }
}

// MARK: arithmetic

extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (ls, rs) = (lhs.shape, rhs.shape)
        return record(zipped(MK_B_ADD, lhs, rhs), "add", inputs: [lhs, rhs]) { g in
            [g.summed(toShape: ls), g.summed(toShape: rs)]
        }
    }

    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (ls, rs) = (lhs.shape, rhs.shape)
        return record(zipped(MK_B_SUB, lhs, rhs), "sub", inputs: [lhs, rhs]) { g in
            [g.summed(toShape: ls), (-g).summed(toShape: rs)]
        }
    }

    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (l, r) = (lhs.detached(), rhs.detached())
        let (needL, needR) = (lhs.requiresGrad, rhs.requiresGrad)
        return record(zipped(MK_B_MUL, lhs, rhs), "mul", inputs: [lhs, rhs]) { g in
            [needL ? (g * r).summed(toShape: l.shape) : nil, needR ? (g * l).summed(toShape: r.shape) : nil]
        }
    }

    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let (l, r) = (lhs.detached(), rhs.detached())
        let (needL, needR) = (lhs.requiresGrad, rhs.requiresGrad)
        return record(zipped(MK_B_DIV, lhs, rhs), "div", inputs: [lhs, rhs]) { g in
            [needL ? (g / r).summed(toShape: l.shape) : nil,
             needR ? (-(g * l) / (r * r)).summed(toShape: r.shape) : nil]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        Tensor.record(x.mapped(MK_U_NEG), "neg", inputs: [x]) { [-$0] }
    }

    /// x · scale + shift, in one pass.
    public func affine(scale: Float, shift: Float) -> Tensor {
        Tensor.record(mapped(MK_U_AFFINE, scale, shift), "affine", inputs: [self]) { g in
            [scale == 1 ? g : g.mapped(MK_U_AFFINE, scale, 0)]
        }
    }

    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.affine(scale: 1, shift: rhs) }
    public static func + (lhs: Float, rhs: Tensor) -> Tensor { rhs.affine(scale: 1, shift: lhs) }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs.affine(scale: 1, shift: -rhs) }
    public static func - (lhs: Float, rhs: Tensor) -> Tensor { rhs.affine(scale: -1, shift: lhs) }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.affine(scale: rhs, shift: 0) }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs.affine(scale: lhs, shift: 0) }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs * (1 / rhs) }
    public static func / (lhs: Float, rhs: Tensor) -> Tensor { lhs * rhs.reciprocal() }

    /// Elementwise power with broadcasting.
    public func pow(_ exponent: Tensor) -> Tensor {
        let (base, power) = (detached(), exponent.detached())
        let result = Tensor.zipped(MK_B_POW, self, exponent)
        let (needBase, needPower) = (requiresGrad, exponent.requiresGrad)
        return Tensor.record(result, "pow", inputs: [self, exponent]) { g in
            let dBase = needBase ? (g * power * base.pow(power - 1)).summed(toShape: base.shape) : nil
            // d/dp bᵖ = bᵖ·ln b, taken as 0 where b = 0 (as PyTorch does).
            let dPower = needPower
                ? (g * Tensor.where(base.eq(0), Tensor(0), result * base.log())).summed(toShape: power.shape) : nil
            return [dBase, dPower]
        }
    }

    /// Every element raised to `exponent`.
    public func pow(_ exponent: Float) -> Tensor {
        let x = detached()
        return Tensor.record(mapped(MK_U_POW_SCALAR, exponent), "pow", inputs: [self]) { g in
            [exponent == 2 ? g * x * 2 : g * x.mapped(MK_U_POW_SCALAR, exponent - 1) * exponent]
        }
    }

    public func square() -> Tensor {
        let x = detached()
        return Tensor.record(mapped(MK_U_SQUARE), "square", inputs: [self]) { g in [g * x * 2] }
    }

    public func reciprocal() -> Tensor {
        let y = mapped(MK_U_RECIPROCAL)
        return Tensor.record(y, "reciprocal", inputs: [self]) { g in [-(g * y * y)] }
    }
}

// MARK: unary functions

extension Tensor {
    /// A unary op whose derivative is computed from the input by `derivative`.
    private func unary(_ op: mk_unary_op, _ name: String, derivative: @escaping (Tensor) -> Tensor) -> Tensor {
        let x = detached()
        return Tensor.record(mapped(op), name, inputs: [self]) { g in [g * derivative(x)] }
    }

    /// A unary op whose derivative is computed from the output by `derivative`.
    private func unaryFromOutput(_ op: mk_unary_op, _ name: String, derivative: @escaping (Tensor) -> Tensor) -> Tensor {
        let y = mapped(op)
        return Tensor.record(y, name, inputs: [self]) { g in [g * derivative(y)] }
    }

    public func abs() -> Tensor { unary(MK_U_ABS, "abs") { $0.sign() } }
    public func exp() -> Tensor { unaryFromOutput(MK_U_EXP, "exp") { $0 } }
    public func log() -> Tensor { unary(MK_U_LOG, "log") { $0.mapped(MK_U_RECIPROCAL) } }
    public func sqrt() -> Tensor { unaryFromOutput(MK_U_SQRT, "sqrt") { $0.mapped(MK_U_RECIPROCAL).mapped(MK_U_AFFINE, 0.5, 0) } }
    public func rsqrt() -> Tensor { unaryFromOutput(MK_U_RSQRT, "rsqrt") { y in y * y * y * -0.5 } }
    public func tanh() -> Tensor { unaryFromOutput(MK_U_TANH, "tanh") { y in 1 - y * y } }
    public func sigmoid() -> Tensor { unaryFromOutput(MK_U_SIGMOID, "sigmoid") { y in y * (1 - y) } }
    public func erf() -> Tensor { unary(MK_U_ERF, "erf") { $0.mapped(MK_U_ERF_DERIV) } }
    public func relu() -> Tensor { unary(MK_U_RELU, "relu") { $0.gt(0) } }
    public func silu() -> Tensor { unary(MK_U_SILU, "silu") { $0.mapped(MK_U_SILU_DERIV) } }
    public func sin() -> Tensor { unary(MK_U_SIN, "sin") { $0.mapped(MK_U_COS) } }
    public func cos() -> Tensor { unary(MK_U_COS, "cos") { -$0.mapped(MK_U_SIN) } }

    /// GELU; `approximateTanh` selects PyTorch's `approximate='tanh'` form.
    public func gelu(approximateTanh: Bool = false) -> Tensor {
        approximateTanh
            ? unary(MK_U_GELU_TANH, "gelu_tanh") { $0.mapped(MK_U_GELU_TANH_DERIV) }
            : unary(MK_U_GELU_ERF, "gelu") { $0.mapped(MK_U_GELU_ERF_DERIV) }
    }

    /// -1, 0 or 1 by the sign of each element (0 for NaN's derivative purposes). Not differentiable.
    public func sign() -> Tensor { detached().gt(0) - detached().lt(0) }

    /// Elements limited to `[min, max]`; the gradient passes where min ≤ x ≤ max, as in PyTorch.
    public func clamped(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        let x = detached()
        return Tensor.record(mapped(MK_U_CLAMP, lower, upper), "clamp", inputs: [self]) { g in
            [g * (x.ge(lower) * x.le(upper))]
        }
    }

    /// Elementwise maximum; NaN propagates, and ties split the gradient equally (as `torch.maximum`).
    public func maximum(_ other: Tensor) -> Tensor { extremum(other, MK_B_MAX, "maximum") }
    /// Elementwise minimum; NaN propagates, and ties split the gradient equally (as `torch.minimum`).
    public func minimum(_ other: Tensor) -> Tensor { extremum(other, MK_B_MIN, "minimum") }

    private func extremum(_ other: Tensor, _ op: mk_binary_op, _ name: String) -> Tensor {
        let (a, b) = (detached(), other.detached())
        return Tensor.record(Tensor.zipped(op, self, other), name, inputs: [self, other]) { g in
            let wins = op == MK_B_MAX ? a.gt(b) : a.lt(b)
            let ties = a.eq(b) * 0.5
            let shareA = wins + ties, shareB = 1 - wins - ties
            return [(g * shareA).summed(toShape: a.shape), (g * shareB).summed(toShape: b.shape)]
        }
    }
}

// MARK: comparisons and selection (not differentiable; 1 where true, 0 where false)

extension Tensor {
    public func eq(_ other: Tensor) -> Tensor { Tensor.zipped(MK_B_EQ, detached(), other.detached()) }
    public func ne(_ other: Tensor) -> Tensor { Tensor.zipped(MK_B_NE, detached(), other.detached()) }
    public func lt(_ other: Tensor) -> Tensor { Tensor.zipped(MK_B_LT, detached(), other.detached()) }
    public func le(_ other: Tensor) -> Tensor { Tensor.zipped(MK_B_LE, detached(), other.detached()) }
    public func gt(_ other: Tensor) -> Tensor { Tensor.zipped(MK_B_GT, detached(), other.detached()) }
    public func ge(_ other: Tensor) -> Tensor { Tensor.zipped(MK_B_GE, detached(), other.detached()) }
    public func eq(_ value: Float) -> Tensor { eq(Tensor(value)) }
    public func ne(_ value: Float) -> Tensor { ne(Tensor(value)) }
    public func lt(_ value: Float) -> Tensor { lt(Tensor(value)) }
    public func le(_ value: Float) -> Tensor { le(Tensor(value)) }
    public func gt(_ value: Float) -> Tensor { gt(Tensor(value)) }
    public func ge(_ value: Float) -> Tensor { ge(Tensor(value)) }

    /// `a` where `condition` is non-zero, else `b`; all three broadcast together.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let ab = broadcastShape(a.shape, b.shape), let shape = broadcastShape(condition.shape, ab) else {
            preconditionFailure("where: shapes \(condition.shape), \(a.shape), \(b.shape) do not broadcast")
        }
        let result = Tensor.uninitialized(shape)
        let runs = StridedRuns(
            shape: shape,
            strides: [result.strides, condition.broadcastStrides(to: shape), a.broadcastStrides(to: shape), b.broadcastStrides(to: shape)],
            offsets: [0, condition.layout.offset, a.layout.offset, b.layout.offset])
        let (sc, sa, sb) = (runs.innerStride(1), runs.innerStride(2), runs.innerStride(3))
        let y = SendablePointer(result.storage.pointer), c = SendablePointer(condition.storage.pointer)
        let pa = SendablePointer(a.storage.pointer), pb = SendablePointer(b.storage.pointer)
        runs.parallelForEach { offsets, length in
            let out = y.pointer + offsets[0], cond = c.pointer + offsets[1]
            let left = pa.pointer + offsets[2], right = pb.pointer + offsets[3]
            for i in 0..<length { out[i] = cond[i * sc] != 0 ? left[i * sa] : right[i * sb] }
        }
        let mask = condition.detached()
        let (shapeA, shapeB) = (a.shape, b.shape)
        return record(result, "where", inputs: [a, b]) { g in
            let zero = Tensor(0)
            return [Tensor.where(mask, g, zero).summed(toShape: shapeA), Tensor.where(mask, zero, g).summed(toShape: shapeB)]
        }
    }
}
