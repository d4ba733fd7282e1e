import Foundation
import MedIO
import MedMNISTData
import MedTensor
import MedTestSupport
import MedTraining
import Testing

/// kNN against a brute-force Float64 search, with ties, and the paper's voting rules.
@Suite struct NearestNeighborsTests {
    /// Every distance in Float64, sorted by (distance, index): the reference the GEMM path must equal.
    static func bruteForce(_ support: [[Float]], _ query: [Float], k: Int) -> [Int] {
        let distances = support.enumerated().map { index, row in
            (zip(row, query).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }, index)
        }
        return distances.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.prefix(k).map(\.1)
    }

    @Test(arguments: [(200, 16, 11), (1000, 64, 11), (300, 512, 5), (50, 3, 50)])
    func equalsBruteForceFloat64(_ n: Int, _ width: Int, _ k: Int) throws {
        var generator = RandomGenerator(seed: UInt64(n * width))
        // Features with a large common offset (as ReLU features have) make the GEMM shortcut lose digits:
        // the re-ranking must recover the exact order anyway. Duplicated rows make exact ties.
        var rows = (0..<n).map { _ in (0..<width).map { _ in 50 + Float(generator.nextNormal()) } }
        for i in stride(from: 0, to: n - 1, by: 7) { rows[i + 1] = rows[i] }
        let support = Tensor(shape: [n, width], scalars: rows.flatMap { $0 })
        let labels = IndexTensor(shape: [n, 1], values: (0..<n).map { $0 % 3 })
        let knn = try NearestNeighbors(support: support, labels: labels, k: k)
        var queries = (0..<40).map { _ in (0..<width).map { _ in 50 + Float(generator.nextNormal()) } }
        queries[0] = rows[3]        // a query equal to a support row (distance 0)
        queries[1] = rows[7]        // … to a duplicated one (a tie at 0)
        let found = knn.neighbors(of: Tensor(shape: [queries.count, width], scalars: queries.flatMap { $0 }))
        for (q, query) in queries.enumerated() {
            #expect(found[q] == Self.bruteForce(rows, query, k: k), "query \(q)")
        }
    }

    /// Majority vote with ties to the smallest label, and per-label mean > 0.5 for multi-label sets, read as the
    /// evaluator's ACC on the vote fractions.
    @Test func votesFollowThePaper() throws {
        // Support on a line: labels by position; queries at chosen points.
        let positions: [Float] = [0, 1, 2, 3, 10, 11, 12, 13]
        let support = Tensor(shape: [8, 1], scalars: positions)
        let knn = try NearestNeighbors(support: support, labels: IndexTensor(shape: [8, 1], values: [2, 2, 0, 0, 1, 1, 1, 1]), k: 4)
        let scores = knn.classify(Tensor(shape: [2, 1], scalars: [1.5, 11.5]), task: .multiClass, numClasses: 3)
        let expected: [Double] = [0.5, 0, 0.5, 0, 1, 0]
        #expect(scores.shape == [2, 3] && scores.values == expected)
        // The 2–2 tie goes to label 0, as scipy.stats.mode: the evaluator's argmax picks the first maximum.
        let labels = IndexTensor(shape: [2, 1], values: [0, 1])
        #expect(try MedMNISTMetrics.accuracy(labels: labels, scores: scores, task: .multiClass) == 1)

        let multi = try NearestNeighbors(support: Tensor(shape: [3, 1], scalars: [0, 1, 2]),
                                         labels: IndexTensor(shape: [3, 2], values: [1, 0, 1, 1, 0, 1]), k: 3)
        let fractions = multi.classify(Tensor(shape: [1, 1], scalars: [1]), task: .multiLabelBinary, numClasses: 2)
        let twoThirds: Double = 2.0 / 3
        #expect(fractions.values == [twoThirds, twoThirds])
    }

    @Test func badSetupsAreTypedErrors() {
        let support = Tensor.zeros([5, 2])
        #expect(throws: NearestNeighborsError.k(11, supportCount: 5)) {
            try NearestNeighbors(support: support, labels: IndexTensor(shape: [5, 1], values: [0, 0, 0, 0, 0]))
        }
        #expect(throws: NearestNeighborsError.shape(features: [5, 2], labels: [4, 1])) {
            try NearestNeighbors(support: support, labels: IndexTensor(shape: [4, 1], values: [0, 0, 0, 0]), k: 1)
        }
    }
}

/// The feature cache: a hit, a key change, a corrupt entry.
@Suite struct FeatureCacheTests {
    @Test func hitKeyChangeAndCorruptEntry() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cache = FeatureCache(directory: directory.url)
        let key = FeatureCacheKey(model: "resnet18", weights: "random-seed-0", dataset: "synthetic", size: 28, split: .train,
                                  transform: ImageTransform(rgb: true, normalization: .imagenet))
        var computed = 0
        let features = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        func lookUp(_ key: FeatureCacheKey) throws -> (Tensor, FeatureCache.Outcome) {
            try cache.features(for: key) { computed += 1; return features }
        }
        #expect(try lookUp(key).1 == .computed && computed == 1)
        let (hit, outcome) = try lookUp(key)
        #expect(outcome == .hit && computed == 1 && hit.scalars == features.scalars)
        // A hit is the file's bytes, mapped, not a copy; writing to it changes neither the file nor the next hit.
        #expect(hit.storage.isBorrowed)
        let before = try Data(contentsOf: cache.url(for: key))
        hit.storage.pointer[0] = 42
        #expect(try Data(contentsOf: cache.url(for: key)) == before)
        #expect(try lookUp(key).0.scalars == features.scalars)

        var other = key
        other.weights = "sha256:abc"
        #expect(try lookUp(other).1 == .computed && computed == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { $0.hasSuffix(".safetensors") }.count == 2)

        // Flip one feature byte: the checksum catches it and the entry is rebuilt.
        let file = cache.url(for: key)
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 1] ^= 0x40
        try bytes.write(to: file)
        #expect(try lookUp(key).1 == .rebuilt && computed == 3)
        #expect(try lookUp(key).1 == .hit)
        // Truncated: rebuilt too.
        try Data(bytes.prefix(20)).write(to: file)
        #expect(try lookUp(key).1 == .rebuilt && computed == 4)
    }
}

/// The paper's kNN as scikit-learn runs it (`Tests/Fixtures/make_knn_fixtures.py`): the same neighbour
/// distances, the same votes, the same ACC.
@Suite struct NearestNeighborsScikitLearnTests {
    static func array(_ name: String) throws -> TypedArray { try Npy.read(contentsOf: Fixtures.url("knn/\(name).npy")) }
    static func indexTensor(_ name: String) throws -> IndexTensor {
        let array = try array(name)
        return IndexTensor(shape: array.shape, values: try array.int64s().map { Int($0) })
    }

    @Test(arguments: ["single", "multi"])
    func matchesScikitLearn(_ name: String) throws {
        let support = Tensor(try Self.array("\(name)_support")), queries = Tensor(try Self.array("\(name)_queries"))
        let labels = try Self.indexTensor("\(name)_labels"), queryLabels = try Self.indexTensor("\(name)_query_labels")
        let expectedPredictions = try Self.indexTensor("\(name)_predictions")
        let distances = try Self.array("\(name)_distances")
        let cases = try #require(try JSONSerialization.jsonObject(with: Data(Fixtures.bytes("knn/cases.json"))) as? [String: Any])
        let expected = try #require(cases[name] as? [String: Any])
        let classes = try #require(expected["classes"] as? Int), acc = try #require(expected["acc"] as? Double)
        let task: MedMNISTTask = name == "multi" ? .multiLabelBinary : .multiClass

        let knn = try NearestNeighbors(support: support, labels: labels, k: 11)
        let neighbours = knn.neighbors(of: queries)
        let s = support.scalars, q = queries.scalars, width = support.shape[1]
        let sklearnDistances = distances.bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        #expect(distances.dtype == .float64 && sklearnDistances.count == queries.shape[0] * 11)
        for (m, indices) in neighbours.enumerated() {
            for (rank, i) in indices.enumerated() {
                var sum = 0.0
                for d in 0..<width { let x = Double(q[m * width + d]) - Double(s[i * width + d]); sum += x * x }
                let theirs = sklearnDistances[m * 11 + rank]
                #expect(abs(sum.squareRoot() - theirs) <= 1e-9 * max(theirs, 1), "query \(m), rank \(rank)")
            }
        }
        let scores = knn.classify(queries, task: task, numClasses: classes)
        for m in 0..<queries.shape[0] {
            let row = Array(scores.values[(m * classes)..<((m + 1) * classes)])
            if task.isMultiLabel {
                #expect(row.map { $0 > 0.5 ? 1 : 0 } == Array(expectedPredictions.values[(m * classes)..<((m + 1) * classes)]), "query \(m)")
            } else {
                #expect(row.firstIndex(of: row.max()!) == expectedPredictions.values[m], "query \(m): votes \(row)")
            }
        }
        #expect(abs(try MedMNISTMetrics.accuracy(labels: queryLabels, scores: scores, task: task) - acc) < 1e-12)
    }
}
