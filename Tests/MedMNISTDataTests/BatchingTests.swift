import Foundation
import MedTestSupport
import MedTensor
import Testing
@testable import MedMNISTData

@Suite struct BatchingTests {
    /// Permutations against an independent Python port of RandomGenerator (make_data_fixtures.py): the same
    /// order on every platform.
    @Test func seededShuffleGoldenOrder() throws {
        let fixture = try Fixtures.json("data/shuffle.json")
        for c in fixture["cases"] as! [[String: Any]] {
            let seed = UInt64(c["seed"] as! Int), count = c["count"] as! Int
            var sampler = try BatchSampler(count: count, batchSize: count, shuffle: true, seed: seed)
            let order = sampler.nextOrder()
            if let expected = c["permutation"] as? [Int] {
                #expect(order == expected, "seed \(seed)")
            } else {
                #expect(Array(order.prefix(16)) == c["first"] as! [Int])
                #expect(Array(order.suffix(16)) == c["last"] as! [Int])
                #expect(Set(order).count == count)
            }
        }
        // Epoch after epoch from one generator.
        var sampler = try BatchSampler(count: 13, batchSize: 5, shuffle: true, seed: 123)
        for expected in fixture["epochs_seed123_count13"] as! [[Int]] {
            #expect(sampler.nextEpoch().flatMap { $0 } == expected)
        }
        // Literal golden values, so a change in RandomGenerator itself is caught too.
        var golden = try BatchSampler(count: 10, batchSize: 10, shuffle: true, seed: 0)
        #expect(golden.nextOrder() == (fixture["cases"] as! [[String: Any]])[0]["permutation"] as! [Int])
    }

    @Test func dropLastAndBatchCounts() throws {
        var sampler = try BatchSampler(count: 10, batchSize: 4, shuffle: false, dropLast: false)
        #expect(sampler.batchesPerEpoch == 3)
        #expect(sampler.nextEpoch() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        var dropping = try BatchSampler(count: 10, batchSize: 4, shuffle: true, seed: 3, dropLast: true)
        let batches = dropping.nextEpoch()
        #expect(batches.count == 2 && batches.allSatisfy { $0.count == 4 })
        #expect(Set(batches.flatMap { $0 }).count == 8)
    }

    @Test func loaderPrefetchGivesTheSameBatchesAsNoPrefetch() throws {
        let n = 37
        var bytes = [UInt8](repeating: 0, count: n * 6 * 6 * 3)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i / 7) }
        let images = ImageArray(shape: [n, 6, 6, 3], layout: .rgb, bytes: bytes)
        let labels = IndexTensor(shape: [n, 1], values: (0..<n).map { $0 % 5 })
        let transform = ImageTransform(resize: 8, normalization: .imagenet, padTo: 10,
                                       augmentation: Augmentation(horizontalFlip: 0.5, resizedCrop: .init()))
        func collect(prefetch: Bool) throws -> [Batch] {
            let loader = try BatchLoader(images: images, labels: labels, transform: transform, batchSize: 8, shuffle: true,
                                     seed: 11, dropLast: false, prefetch: prefetch)
            return (0..<2).flatMap { _ in Array(loader.nextEpoch()) }
        }
        let a = try collect(prefetch: true), b = try collect(prefetch: false)
        #expect(a.count == 10 && b.count == 10)
        for (x, y) in zip(a, b) {
            #expect(x.indices == y.indices && x.labels == y.labels)
            #expect(x.images.shape == y.images.shape && x.images.scalars == y.images.scalars)
        }
        #expect(a[0].images.shape == [8, 3, 10, 10] && a[4].images.shape == [5, 3, 10, 10])
        #expect(a[0].labels.values == a[0].indices.map { $0 % 5 })
        // The two epochs differ in order.
        #expect(a[0].indices != a[5].indices)
    }

    @Test func prefetchOverlapsWork() throws {
        // While the consumer sleeps, the next batch is being built, so the loop takes about max(work, sleep).
        let n = 64
        let images = ImageArray(shape: [n, 28, 28], layout: .grayscale, bytes: [UInt8](repeating: 7, count: n * 28 * 28))
        let labels = IndexTensor(shape: [n, 1], values: Array(repeating: 0, count: n))
        let loader = try BatchLoader(images: images, labels: labels, transform: .paper(normalization: .imagenet),
                                 batchSize: 16, shuffle: false, prefetch: true)
        var seen = 0
        for batch in loader.nextEpoch() {
            #expect(batch.images.shape == [16, 3, 224, 224])
            seen += batch.indices.count
        }
        #expect(seen == n)
    }

    /// A batch size from a user's flag, labels from a user's file and a transform from a user's settings are
    /// refused when the loader is built, with a message saying what is wrong, instead of trapping at the
    /// first batch.
    @Test func loaderAndSamplerRefuseWhatABatchCannotBeMadeOf() throws {
        let images = ImageArray(shape: [6, 4, 4], layout: .grayscale, bytes: [UInt8](repeating: 1, count: 6 * 16))
        let labels = IndexTensor(shape: [6, 1], values: Array(repeating: 0, count: 6))
        for size in [0, -3] {
            #expect(throws: BatchingError.batchSize(size)) { try BatchSampler(count: 6, batchSize: size, shuffle: true) }
            #expect(throws: BatchingError.batchSize(size)) { try BatchLoader(images: images, labels: labels, batchSize: size, shuffle: false) }
        }
        #expect(BatchingError.batchSize(0).description == "the batch size must be at least 1, got 0")
        #expect(throws: BatchingError.sampleCount(-1)) { try BatchSampler(count: -1, batchSize: 2, shuffle: false) }
        let fewer = IndexTensor(shape: [5, 1], values: Array(repeating: 0, count: 5))
        #expect(throws: BatchingError.labelShape(labels: [5, 1], images: 6)) {
            try BatchLoader(images: images, labels: fewer, batchSize: 2, shuffle: false)
        }
        #expect(BatchingError.labelShape(labels: [5, 1], images: 6).description ==
            "labels of shape [5, 1] do not match 6 images: expected [6, L]")
        // ImageNet normalisation on grayscale without rgb: three values for one channel.
        let gray = ImageTransform(normalization: .imagenet)
        #expect(throws: TransformError.normalizationChannels(values: 3, channels: 1, layout: .grayscale)) {
            try BatchLoader(images: images, labels: labels, transform: gray, batchSize: 2, shuffle: false)
        }
        #expect(TransformError.normalizationChannels(values: 3, channels: 1, layout: .grayscale).description ==
            "the normalisation has 3 mean/std values but the transform makes 1-channel images from grayscale data; " +
            "set rgb (as_rgb) to replicate grayscale to 3 channels")
        #expect(throws: Never.self) { try ImageTransform.paper(normalization: .imagenet).validate(for: .grayscale) }
        #expect(throws: TransformError.resizedCropWithoutResize) {
            try ImageTransform(augmentation: Augmentation(resizedCrop: .init())).validate(for: .rgb)
        }
        #expect(throws: TransformError.notForVolumes(step: "padTo")) { try ImageTransform(padTo: 32).validate(for: .volume) }
        #expect(throws: TransformError.size(step: "resize", value: 0)) { try ImageTransform(resize: 0).validate(for: .rgb) }
        #expect(throws: TransformError.size(step: "padTo", value: -224)) {
            try BatchLoader(images: images, labels: labels, transform: ImageTransform(padTo: -224), batchSize: 2, shuffle: false)
        }
        #expect(TransformError.size(step: "padTo", value: -224).description == "padTo must be at least 1 pixel, got -224")
        #expect(throws: Never.self) { try ImageTransform(rgb: true, normalization: .imagenet).validate(for: .volume) }
    }
}
