import Foundation
import MedTestSupport
import Testing
import MedTensor
@testable import MedLayers

@Suite struct PositionEmbeddingTests {
    /// timm's `resample_abs_pos_embed` on a [1, 1 + 4·4, 8] embedding, to 2×2 and 7×7, without and with
    /// antialiasing; the gradient is that of the stored embedding.
    @Test(arguments: [(2, false), (2, true), (7, false), (7, true)])
    func resampleMatchesTimm(_ size: Int, _ antialias: Bool) throws {
        let fixture = TransformerFixture("resample_4to\(size)\(antialias ? "_aa" : "")")
        let errors = try transformerParity(Module(), fixture) {
            resampleAbsolutePositionEmbedding($0, newSize: Size2(size), numPrefixTokens: 1, antialias: antialias)
        }
        expectParity(errors, fixture)
    }

    @Test func resampleRectangularWithTwoPrefixTokens() throws {
        let fixture = TransformerFixture("resample_2x4to3x6_prefix2")
        let errors = try transformerParity(Module(), fixture) {
            resampleAbsolutePositionEmbedding($0, newSize: Size2(3, 6), oldSize: Size2(2, 4), numPrefixTokens: 2, antialias: false)
        }
        expectParity(errors, fixture)
    }

    @Test func resampleNHWC() throws {
        let fixture = TransformerFixture("resample_nhwc_4x4to3x5_aa")
        let errors = try transformerParity(Module(), fixture) {
            resampleAbsolutePositionEmbeddingNHWC($0, newSize: Size2(3, 5))
        }
        expectParity(errors, fixture)
    }

    @Test func sameSizeIsIdentity() {
        let embedding = randomTensor([1, 1 + 9, 4], seed: 1)
        let out = resampleAbsolutePositionEmbedding(embedding, newSize: Size2(3))
        #expect(out.storage === embedding.storage)
    }

    @Test(arguments: [(Size2(4, 4), Size2(2, 3), false), (Size2(3, 3), Size2(7, 5), true), (Size2(2, 5), Size2(5, 2), true)])
    func resampleGradientCheck(_ old: Size2, _ new: Size2, _ antialias: Bool) {
        let tokens = 1 + old.height * old.width
        let worst = GradientCheck().run([randomTensor([1, tokens, 3], seed: 2)]) { x in
            resampleAbsolutePositionEmbedding(x[0], newSize: new, oldSize: old, numPrefixTokens: 1, antialias: antialias)
        }
        print("gradcheck resample \(old)→\(new) aa \(antialias): worst \(String(format: "%.2e", worst))")
    }

    /// Each output row of an interpolation matrix sums to 1 (constant fields stay constant).
    @Test(arguments: [(4, 7), (7, 4), (14, 2), (2, 14), (1, 5), (5, 1)])
    func weightsAreAffine(_ input: Int, _ output: Int) {
        for weights in [InterpolationWeights.bicubic(inputSize: input, outputSize: output, antialias: false),
                        InterpolationWeights.bicubic(inputSize: input, outputSize: output, antialias: true),
                        InterpolationWeights.linear(inputSize: input, outputSize: output)] {
            for row in weights.sum(axis: 1).scalars { #expect(abs(row - 1) < 1e-5) }
        }
    }

    @Test func relativePositionLookup() {
        // Equal sizes: entry (i, j) is table row i − j + (k − 1).
        let table = Tensor(shape: [5, 1], scalars: [0, 1, 2, 3, 4])
        let lookup = relativePositionEmbeddings(querySize: 3, keySize: 3, table: table)
        #expect(lookup.scalars == [2, 1, 0, 3, 2, 1, 4, 3, 2])
    }
}
