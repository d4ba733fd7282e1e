import Foundation
import MedTestSupport
import Testing
@testable import MedLayers
@testable import MedTensor

/// The shapes of one fused-attention check: batch, heads, queries N, keys M, depth D, value depth Dv,
/// and the query rows per block (nil: the default, one block for these sizes).
struct AttentionShape: Sendable, CustomTestStringConvertible {
    let batch: Int, heads: Int, queries: Int, keys: Int, depth: Int, valueDepth: Int
    var blockRows: Int? = nil

    var testDescription: String {
        "B\(batch) H\(heads) N\(queries) M\(keys) D\(depth) Dv\(valueDepth)\(blockRows.map { " block \($0)" } ?? "")"
    }
    var q: [Int] { [batch, heads, queries, depth] }
    var k: [Int] { [batch, heads, keys, depth] }
    var v: [Int] { [batch, heads, keys, valueDepth] }
    var scores: [Int] { [batch, heads, queries, keys] }
}

/// softmax(q·kᵀ·scale + bias)·v composed from the library's ordinary ops, as a reference.
func referenceAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Float, bias: Tensor? = nil) -> Tensor {
    var scores = q.matmul(k.transposed()) * scale
    if let bias { scores = scores + bias }
    return scores.softmax(axis: -1).matmul(v)
}

@Suite struct FusedAttentionGradientTests {
    static let shapes: [AttentionShape] = [
        AttentionShape(batch: 1, heads: 1, queries: 1, keys: 1, depth: 4, valueDepth: 4),
        AttentionShape(batch: 2, heads: 1, queries: 1, keys: 5, depth: 3, valueDepth: 2),
        AttentionShape(batch: 2, heads: 2, queries: 5, keys: 5, depth: 8, valueDepth: 8),
        AttentionShape(batch: 1, heads: 3, queries: 7, keys: 4, depth: 6, valueDepth: 5),
        AttentionShape(batch: 2, heads: 4, queries: 3, keys: 9, depth: 4, valueDepth: 3),
        AttentionShape(batch: 1, heads: 2, queries: 7, keys: 7, depth: 4, valueDepth: 4, blockRows: 2),
        AttentionShape(batch: 1, heads: 1, queries: 9, keys: 6, depth: 5, valueDepth: 3, blockRows: 4),
    ]

    @Test(arguments: shapes)
    func withoutBias(_ s: AttentionShape) {
        let worst = GradientCheck().run([randomTensor(s.q, seed: 1), randomTensor(s.k, seed: 2), randomTensor(s.v, seed: 3)]) { x in
            scaledDotProductAttention(query: x[0], key: x[1], value: x[2], scale: nil, bias: nil, blockRows: s.blockRows)
        }
        print("gradcheck sdpa \(s.testDescription): worst \(String(format: "%.2e", worst))")
    }

    @Test(arguments: shapes)
    func withDenseBias(_ s: AttentionShape) {
        let worst = GradientCheck().run([randomTensor(s.q, seed: 4), randomTensor(s.k, seed: 5),
                                                  randomTensor(s.v, seed: 6), randomTensor(s.scores, seed: 7)]) { x in
            scaledDotProductAttention(query: x[0], key: x[1], value: x[2], scale: 0.7, bias: .dense(x[3]), blockRows: s.blockRows)
        }
        print("gradcheck sdpa+bias \(s.testDescription): worst \(String(format: "%.2e", worst))")
    }

    /// A bias broadcast over the batch (rank 3) and one over batch, heads and queries: its gradient is
    /// the score gradient summed over the broadcast axes.
    @Test(arguments: [[3, 5, 6], [1, 1, 1, 6], [6]])
    func withBroadcastBias(_ biasShape: [Int]) {
        let s = AttentionShape(batch: 2, heads: 3, queries: 5, keys: 6, depth: 4, valueDepth: 3, blockRows: 2)
        GradientCheck().run([randomTensor(s.q, seed: 8), randomTensor(s.k, seed: 9), randomTensor(s.v, seed: 10),
                                      randomTensor(biasShape, seed: 11)]) { x in
            scaledDotProductAttention(query: x[0], key: x[1], value: x[2], scale: nil, bias: .dense(x[3]), blockRows: s.blockRows)
        }
    }

    /// SAM's decomposed relative-position bias on a 2×3 key grid.
    @Test(arguments: [nil, 2] as [Int?])
    func withDecomposedBias(_ blockRows: Int?) {
        let s = AttentionShape(batch: 2, heads: 2, queries: 5, keys: 6, depth: 4, valueDepth: 3, blockRows: blockRows)
        let worst = GradientCheck().run([randomTensor(s.q, seed: 12), randomTensor(s.k, seed: 13), randomTensor(s.v, seed: 14),
                                                  randomTensor([2, 2, 5, 2], seed: 15), randomTensor([2, 2, 5, 3], seed: 16)]) { x in
            scaledDotProductAttention(query: x[0], key: x[1], value: x[2], scale: nil,
                                      bias: .decomposed(rows: x[3], columns: x[4]), blockRows: s.blockRows)
        }
        print("gradcheck sdpa+decomposed block \(String(describing: blockRows)): worst \(String(format: "%.2e", worst))")
    }

    /// q, k, v as strided views of one fused projection, as timm's Attention produces them.
    @Test func stridedViewsOfFusedProjection() {
        let (b, n, h, d) = (2, 5, 3, 4)
        GradientCheck().run([randomTensor([b, n, 3 * h * d], seed: 17)]) { x in
            let qkv = x[0].reshaped([b, n, 3, h, d]).permuted([2, 0, 3, 1, 4])
            return scaledDotProductAttention(query: qkv.selected(axis: 0, index: 0), key: qkv.selected(axis: 0, index: 1),
                                             value: qkv.selected(axis: 0, index: 2))
        }
    }
}

@Suite struct FusedAttentionTests {
    /// The fused op against the same computation from ordinary ops, at sizes that run heads in parallel
    /// (several heads) and threads inside GEMM (one large head), with and without a bias.
    @Test(arguments: [
        AttentionShape(batch: 2, heads: 3, queries: 40, keys: 33, depth: 16, valueDepth: 12),
        AttentionShape(batch: 2, heads: 3, queries: 40, keys: 33, depth: 16, valueDepth: 12, blockRows: 7),
        AttentionShape(batch: 1, heads: 1, queries: 150, keys: 140, depth: 64, valueDepth: 64),
    ])
    func matchesComposedOps(_ s: AttentionShape) {
        for withBias in [false, true] {
            let inputs = [randomTensor(s.q, seed: 20), randomTensor(s.k, seed: 21), randomTensor(s.v, seed: 22),
                          randomTensor(s.scores, low: -2, high: 2, seed: 23)].map { $0.requiringGrad() }
            let projection = randomTensor([s.batch, s.heads, s.queries, s.valueDepth], seed: 24)
            let fused = scaledDotProductAttention(query: inputs[0], key: inputs[1], value: inputs[2], scale: 0.3,
                                                  bias: withBias ? .dense(inputs[3]) : nil, blockRows: s.blockRows)
            (fused * projection).sum().backward()
            let fusedGradients = inputs.map { $0.grad }
            inputs.forEach { $0.zeroGrad() }
            let reference = referenceAttention(inputs[0], inputs[1], inputs[2], scale: 0.3, bias: withBias ? inputs[3] : nil)
            (reference * projection).sum().backward()
            #expect(relativeError(fused.detached(), reference.detached()) < 1e-5)
            for index in 0..<(withBias ? 4 : 3) {
                let error = relativeError(fusedGradients[index]!, inputs[index].grad!)
                #expect(error < 1e-5, "input \(index) (bias \(withBias)): relative error \(error)")
            }
        }
    }

    /// The softmax's exponential against Foundation's, over the range where eˣ is a normal Float.
    @Test func fastExponential() {
        var worst: Float = 0
        for i in 0...400_000 {
            let x = -87.3 + Float(i) * (87.3 + 88) / 400_000
            worst = max(worst, abs(fastExp(x) - Foundation.exp(x)) / Foundation.exp(x))
        }
        #expect(worst < 3e-7)
        #expect(fastExp(-100) == 0 && fastExp(-.infinity) == 0 && fastExp(0) == 1 && fastExp(.nan).isNaN)
    }

    /// The output is stored as [B, N, heads, Dv], so the usual transpose and reshape afterwards are views.
    @Test func outputTransposeIsFree() {
        let q = randomTensor([2, 3, 5, 4], seed: 30)
        let out = scaledDotProductAttention(query: q, key: q, value: q)
        #expect(out.shape == [2, 3, 5, 4])
        #expect(out.transposed(1, 2).isContiguous)
    }

    /// −∞ entries (a mask) get zero probability and zero gradient; a fully masked row gives zeros
    /// (PyTorch gives NaN there) and finite gradients.
    @Test func masks() {
        let q = randomTensor([1, 1, 3, 4], seed: 31).requiringGrad(), k = randomTensor([1, 1, 4, 4], seed: 32)
        let v = randomTensor([1, 1, 4, 2], seed: 33)
        var mask = [Float](repeating: 0, count: 12)
        mask[1] = -.infinity                       // row 0 ignores key 1
        for j in 4..<8 { mask[j] = -.infinity }    // row 1 is fully masked
        let bias = Tensor(shape: [1, 1, 3, 4], scalars: mask)
        let out = scaledDotProductAttention(query: q, key: k, value: v, bias: .dense(bias))
        // Row 0 equals attention over keys 0, 2, 3 only.
        let keep = [0, 2, 3]
        let row0 = referenceAttention(q.detached().narrowed(axis: 2, start: 0, length: 1), k.indexSelect(axis: 2, indices: keep),
                                      v.indexSelect(axis: 2, indices: keep), scale: 0.5)
        #expect(relativeError(out.detached().narrowed(axis: 2, start: 0, length: 1), row0) < 1e-6)
        #expect(out.detached().narrowed(axis: 2, start: 1, length: 1).scalars.allSatisfy { $0 == 0 })
        out.sum().backward()
        #expect(q.grad!.scalars.allSatisfy { $0.isFinite })
    }
}

@Suite struct AttentionParityTests {
    @Test func timmAttentionWithQkvBias() throws {
        let fixture = TransformerFixture("attention_qkv_bias")
        let module = Attention(dim: 32, numHeads: 4, qkvBias: true)
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
    }

    @Test func timmAttentionWithQkNormAndScaleNorm() throws {
        let fixture = TransformerFixture("attention_qk_norm")
        let module = Attention(dim: 24, numHeads: 3, qkvBias: true, qkNorm: true, scaleNorm: true, normEps: 1e-6)
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
    }

    @Test func timmAttentionOneHeadOneToken() throws {
        let fixture = TransformerFixture("attention_one_token")
        let module = Attention(dim: 16, numHeads: 1)
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
    }

    @Test func evaAttentionSeparateProjectionsWithRope() throws {
        let fixture = TransformerFixture("eva_attention_rope")
        let module = EvaAttention(dim: 24, numHeads: 3, qkvBias: true, qkvFused: false, numPrefixTokens: 1, scaleNorm: true)
        let rope = try fixture.tensor("rope")
        let errors = try transformerParity(module, fixture) { module.forward($0, rotary: { applyRotaryEmbeddingCat($0, embedding: rope) }) }
        expectParity(errors, fixture)
        #expect(module.namedParameters().map(\.key) == ["q_proj.weight", "q_proj.bias", "k_proj.weight", "v_proj.weight",
                                                        "v_proj.bias", "norm.weight", "norm.bias", "proj.weight", "proj.bias"])
    }

    @Test func evaAttentionFusedWithQAndVBias() throws {
        let fixture = TransformerFixture("eva_attention_fused")
        let module = EvaAttention(dim: 16, numHeads: 2, qkvBias: true, qkvFused: true, scaleNorm: false)
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
        // Direct parameters first, then submodules: PyTorch's state-dict order.
        #expect(module.namedParameters().map(\.key) == ["q_bias", "v_bias", "qkv.weight", "proj.weight", "proj.bias"])
    }

    /// SAM's attention: decomposed relative positions through the fused op, on [B, H, W, C] input.
    @Test func samAttentionWithRelativePositions() throws {
        let fixture = TransformerFixture("sam_attention_relpos")
        let module = Attention(dim: 16, numHeads: 2, qkvBias: true, relativePositionSize: Size2(3, 4))
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
        #expect(module.namedParameters().map(\.key) == ["rel_pos_h", "rel_pos_w", "qkv.weight", "qkv.bias", "proj.weight", "proj.bias"])
    }

    /// Tables made for a 4×4 grid used on a 3×3 grid: `get_rel_pos` resizes them by linear interpolation.
    @Test func samAttentionWithResizedRelativePositions() throws {
        let fixture = TransformerFixture("sam_attention_relpos_resized")
        let module = Attention(dim: 16, numHeads: 2, qkvBias: true, relativePositionSize: Size2(4, 4))
        expectParity(try transformerParity(module, fixture, forward: module.callAsFunction), fixture)
    }

    /// The same SAM case through the generic score-bias hook instead of the built-in tables.
    @Test func scoreBiasHook() throws {
        let fixture = TransformerFixture("sam_attention_relpos")
        let module = Attention(dim: 16, numHeads: 2, qkvBias: true)
        let state = try fixture.state()
        try module.loadStateDict(state.filter { !$0.key.hasPrefix("rel_pos") })
        let tables = ["rel_pos_h", "rel_pos_w"].map { key in
            let array = state.first { $0.key == key }!.array
            return Tensor(shape: array.shape, scalars: array.floats()).requiringGrad()
        }
        module.scoreBias = { q in
            decomposedRelativePositionBias(query: q, relPosH: tables[0], relPosW: tables[1], querySize: Size2(3, 4), keySize: Size2(3, 4))
        }
        let input = try fixture.tensor("input")
        let output = module(input.reshaped([2, 12, 16]))
        (output.reshaped([2, 3, 4, 16]) * (try fixture.tensor("projection"))).sum().backward()
        #expect(relativeError(output.detached().reshaped([2, 3, 4, 16]), try fixture.tensor("output")) <= 1e-4)
        #expect(relativeError(tables[0].grad!, try fixture.tensor("grad.param.rel_pos_h")) <= 1e-4)
        #expect(relativeError(tables[1].grad!, try fixture.tensor("grad.param.rel_pos_w")) <= 1e-4)
    }

    /// The unfused path (attention dropout in training) at p = 0 would be skipped; check it directly:
    /// it must agree with the fused op.
    @Test func unfusedPathAgrees() {
        let q = randomTensor([2, 3, 5, 4], seed: 40), k = randomTensor([2, 3, 5, 4], seed: 41), v = randomTensor([2, 3, 5, 4], seed: 42)
        let bias = AttentionBias.decomposed(rows: randomTensor([2, 3, 5, 1], seed: 43), columns: randomTensor([2, 3, 5, 5], seed: 44))
        let fused = multiHeadAttention(query: q, key: k, value: v, scale: 0.5, bias: bias, dropout: Dropout(p: 0))
        let reference = referenceAttention(q, k, v, scale: 0.5, bias: bias.materialized()).transposed(1, 2).reshaped([2, 5, 12])
        #expect(relativeError(fused, reference) < 1e-6)
    }
}

@Suite struct ScaledDotProductAttentionParityTests {
    /// `F.scaled_dot_product_attention` with the fixture's k, v (and bias) as the parameters.
    func check(_ name: String, scale: Float? = nil, biasKey: String? = nil, biasTrainable: Bool = true) throws {
        let fixture = TransformerFixture(name)
        let k = try fixture.stateTensor("k").requiringGrad(), v = try fixture.stateTensor("v").requiringGrad()
        let bias = try biasKey.map { try fixture.stateTensor($0).requiringGrad(biasTrainable) }
        let q = try fixture.tensor("input").requiringGrad()
        let out = scaledDotProductAttention(query: q, key: k, value: v, scale: scale, bias: bias.map { .dense($0) })
        (out * (try fixture.tensor("projection"))).sum().backward()
        var errors = ["output": relativeError(out.detached(), try fixture.tensor("output")),
                      "grad.input": relativeError(q.grad!, try fixture.tensor("grad.input")),
                      "grad.k": relativeError(k.grad!, try fixture.tensor("grad.param.k")),
                      "grad.v": relativeError(v.grad!, try fixture.tensor("grad.param.v"))]
        if let bias, biasTrainable { errors["grad.bias"] = relativeError(bias.grad!, try fixture.tensor("grad.param.bias")) }
        expectParity(errors, fixture)
    }

    @Test func plain() throws { try check("sdpa") }
    @Test func withBiasAndScale() throws { try check("sdpa_bias", scale: 0.3, biasKey: "bias") }
    @Test func withBroadcastMask() throws { try check("sdpa_masked", biasKey: "bias", biasTrainable: false) }
}
