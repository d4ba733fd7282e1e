import MedIO
import MedTensor

/// What a split must look like: the shapes, sizes and label ranges the catalog implies, or the looser rules
/// for custom data.
struct SplitExpectation {
    /// Exact sample count, or nil for custom data.
    var samples: Int?
    /// Exact per-sample shape (`[s, s]`, `[s, s, 3]`, `[s, s, s]`), or nil for custom data.
    var sampleShape: [Int]?
    /// Exact label columns, or nil for custom data.
    var labelColumns: Int?
    /// Allowed label values, or nil for "any non-negative integer".
    var labelRange: ClosedRange<Int>?
    var dimensions: Dimensions?

    /// The catalog's rules for `info` at `size`.
    init(info: DatasetInfo, size: Int, split: Split) {
        samples = info.splitSizes[split]
        sampleShape = info.sampleShape(size: size)
        labelColumns = info.labelColumns
        labelRange = info.task.isMultiLabel || info.task == .binaryClass ? 0...1 : 0...(info.numClasses - 1)
        dimensions = info.dimensions
    }

    init(samples: Int? = nil, sampleShape: [Int]? = nil, labelColumns: Int? = nil, labelRange: ClosedRange<Int>? = nil,
         dimensions: Dimensions? = nil) {
        self.samples = samples
        self.sampleShape = sampleShape
        self.labelColumns = labelColumns
        self.labelRange = labelRange
        self.dimensions = dimensions
    }

    /// Checks the images' npy header and returns their layout.
    func checkImages(_ npy: NpyLayout, path: String, key: String) throws -> ImageLayout {
        guard npy.dtype == .uint8 else { throw DataFileError.dtype(path: path, key: key, found: npy.dtype, expected: "uint8") }
        let shape = npy.shape
        let expected: String
        if let sampleShape {
            expected = shapeText([samples ?? -1] + sampleShape).replacingOccurrences(of: "-1", with: "N")
            guard shape.count == sampleShape.count + 1, Array(shape.dropFirst()) == sampleShape else {
                throw DataFileError.shape(path: path, key: key, found: shape, expected: expected)
            }
        } else {
            expected = "(N, H, W), (N, H, W, 3) or (N, D, H, W)"
            guard shape.count == 3 || shape.count == 4 else { throw DataFileError.shape(path: path, key: key, found: shape, expected: expected) }
        }
        if let samples, shape[0] != samples {
            throw DataFileError.splitSize(path: path, key: key, found: shape[0], expected: samples)
        }
        if shape.count == 3 {
            guard dimensions != .three else { throw DataFileError.shape(path: path, key: key, found: shape, expected: "(N, D, H, W)") }
            return .grayscale
        }
        switch dimensions {
        case .three: return .volume
        case .two:
            guard shape[3] == 3 else { throw DataFileError.shape(path: path, key: key, found: shape, expected: "(N, H, W) or (N, H, W, 3)") }
            return .rgb
        case nil: return shape[3] == 3 ? .rgb : .volume
        }
    }

    /// Checks decoded labels and returns them as `(N, L)` Ints. A custom `(N,)` array becomes `(N, 1)`.
    func checkLabels(_ array: TypedArray, path: String, key: String, imagesKey: String, imageCount: Int) throws -> IndexTensor {
        guard !array.dtype.isFloatingPoint else {
            throw DataFileError.dtype(path: path, key: key, found: array.dtype, expected: "an integer type (uint8 in MedMNIST)")
        }
        var shape = array.shape
        // Custom data (no catalog sample shape) may give `(N,)` labels. CustomDataset.load validates twice: first
        // with no column count (which found 1 column for `(N,)`), then with `labelColumns` 1; that second pass
        // used to refuse the `(N,)` array the first had accepted, so documented 1-D labels never loaded.
        if shape.count == 1 && (labelColumns == nil || (labelColumns == 1 && sampleShape == nil)) { shape = [shape[0], 1] }
        let columnsText = labelColumns.map(String.init) ?? "L"
        guard shape.count == 2, labelColumns == nil || shape[1] == labelColumns else {
            throw DataFileError.shape(path: path, key: key, found: array.shape, expected: "(N, \(columnsText))")
        }
        if let samples, shape[0] != samples {
            throw DataFileError.splitSize(path: path, key: key, found: shape[0], expected: samples)
        }
        guard shape[0] == imageCount else {
            throw DataFileError.countMismatch(path: path, imagesKey: imagesKey, images: imageCount, labelsKey: key, labels: shape[0])
        }
        let wide: [Int64]
        do { wide = try array.int64s() } catch let error as TensorFileError { throw DataFileError.npy(path: path, key: key, error) }
        let range = labelRange ?? 0...Int.max
        var values = [Int](repeating: 0, count: wide.count)
        for (i, v) in wide.enumerated() {
            guard v >= Int64(range.lowerBound), v <= Int64(range.upperBound) else {
                throw DataFileError.labelOutOfRange(path: path, key: key, sample: i / shape[1], column: i % shape[1],
                                                    value: Int(v), allowed: range.lowerBound...min(range.upperBound, Int(Int32.max)))
            }
            values[i] = Int(v)
        }
        return IndexTensor(shape: shape, values: values)
    }
}
