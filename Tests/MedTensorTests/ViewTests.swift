import Testing
@testable import MedTensor

@Suite struct ViewTests {
    let x = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))

    @Test func reshapeOfContiguousIsAView() {
        let y = x.reshaped([6, -1])
        #expect(y.shape == [6, 4])
        #expect(y.storage === x.storage)
        #expect(y.scalars == x.scalars)
    }

    @Test func permuteAndTransposeAreViews() {
        let y = x.permuted(2, 0, 1)
        #expect(y.shape == [4, 2, 3])
        #expect(y.storage === x.storage)
        #expect(y[3, 1, 2] == x[1, 2, 3])
        let t = x.transposed()
        #expect(t.shape == [2, 4, 3] && t[1, 3, 2] == x[1, 2, 3])
        #expect(!t.isContiguous)
    }

    @Test func reshapeOfTransposedCopiesOnlyWhenNeeded() {
        let t = x.transposed(0, 1)  // [3, 2, 4]: the last axis stays contiguous
        let merged = t.reshaped([3, 8]) // cannot merge axes 1 and 2 of a transposed layout → copy
        var expected: [Float] = []
        for i in 0..<3 { for j in 0..<2 { for k in 0..<4 { expected.append(Float(j * 12 + i * 4 + k)) } } }
        #expect(merged.scalars == expected)
        let split = t.reshaped([3, 2, 2, 2]) // splitting the contiguous last axis is a view
        #expect(split.storage === x.storage)
        #expect(split[2, 1, 1, 0] == x[1, 2, 2])
    }

    @Test func sliceWithStepAndNegativeBounds() {
        let v = Tensor.arange(0, 10)
        #expect(v.sliced(axis: 0, start: 1, end: 8, step: 3).scalars == [1, 4, 7])
        #expect(v.sliced(axis: 0, start: -3).scalars == [7, 8, 9])
        #expect(v.sliced(axis: 0, start: 5, end: 2).count == 0)
        let s = x.sliced(axis: 2, start: 1, end: 4, step: 2)
        #expect(s.shape == [2, 3, 2] && s.storage === x.storage)
        #expect(s[1, 2, 1] == x[1, 2, 3])
        #expect(x.selected(axis: 1, index: -1).scalars == [8, 9, 10, 11, 20, 21, 22, 23])
    }

    @Test func expandUsesZeroStrides() {
        let row = Tensor([1, 2, 3]).reshaped([1, 3])
        let e = row.expanded(to: [4, 3])
        #expect(e.strides == [0, 1] && e.storage === row.storage)
        #expect(e.scalars == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3])
        let c = e.contiguous()
        #expect(c.isContiguous && c.storage !== row.storage)
    }

    @Test func squeezeUnsqueezeFlatten() {
        let y = x.unsqueezed(axis: 1).unsqueezed(axis: -1)
        #expect(y.shape == [2, 1, 3, 4, 1])
        #expect(y.squeezed().shape == [2, 3, 4])
        #expect(y.squeezed(axis: 1).shape == [2, 3, 4, 1])
        #expect(x.flattened(from: 1).shape == [2, 12])
        #expect(Tensor(5).flattened().shape == [1])
    }

    @Test func contiguousKeepsStorageWhenAlreadyContiguous() {
        #expect(x.contiguous().storage === x.storage)
        #expect(x.transposed().contiguous().storage !== x.storage)
    }

    @Test func creation() {
        #expect(Tensor.arange(0, 1, step: 0.25).scalars == [0, 0.25, 0.5, 0.75])
        #expect(Tensor.linspace(0, 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(Tensor.linspace(-1, 1, count: 1).scalars == [-1])
        #expect(Tensor.full([2, 2], 3).scalars == [3, 3, 3, 3])
        #expect(Tensor([[1, 2], [3, 4]]).shape == [2, 2])
        #expect(Tensor(2.5).shape == [] && Tensor(2.5).item == 2.5)
        #expect(Tensor.zeros([0, 3]).count == 0)
    }

    @Test func storageIsAligned() {
        for count in [1, 3, 17, 1000] {
            #expect(UInt(bitPattern: TensorStorage(uninitializedCount: count).pointer) % 64 == 0)
        }
    }

    @Test func layoutViewStrides() {
        let transposed = Layout(shape: [4, 3], strides: [1, 4])
        #expect(transposed.stridesForView([4, 3, 1]) == [1, 4, 1])
        #expect(transposed.stridesForView([12]) == nil)
        let sliced = Layout(shape: [2, 3, 4], strides: [24, 4, 1])  // rows of a wider tensor
        #expect(sliced.stridesForView([2, 12]) == [24, 1])
        #expect(sliced.stridesForView([6, 4]) == nil)  // the 2×3 rows are not evenly spaced
    }

    @Test func broadcastShapes() {
        #expect(broadcastShape([3, 1, 5], [4, 5]) == [3, 4, 5])
        #expect(broadcastShape([], [2]) == [2])
        #expect(broadcastShape([2, 3], [3, 2]) == nil)
    }
}
