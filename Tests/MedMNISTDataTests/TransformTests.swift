import Foundation
import MedTestSupport
import MedTensor
import Testing
@testable import MedMNISTData

@Suite(.serialized) struct TransformTests {
    /// PIL convert('RGB') → ToTensor → Normalize → Pad, as the paper's pipeline: bit-identical, with the
    /// mean and std the script normalised with (`transforms/cases.json`), which are `Normalization.imagenet`'s.
    @Test func paperPipelineIsBitIdenticalToTorchvision() throws {
        let recorded = try Fixtures.json("data/transforms/cases.json")
        let mean = (recorded["mean"] as! [Any]).map { Float(double($0)) }, std = (recorded["std"] as! [Any]).map { Float(double($0)) }
        let normalization = Normalization(mean: mean, std: std)
        #expect(normalization == .imagenet, "the fixtures were made with another normalisation than ImageNet's")
        for (input, layout, pad, reference) in [("square_gray", ImageLayout.grayscale, 11, "paper_gray_pad11"),
                                                ("square_rgb", .rgb, 10, "paper_rgb_pad10")] {
            let images = try Fixtures.images("data/transforms/\(input).npy", layout: layout)
            let output = ImageTransform.paper(normalization: normalization, targetSize: pad).apply(images)
            let expected = try Fixtures.floats("data/transforms/\(reference).npy")
            #expect(output.shape == expected.shape)
            #expect(output.scalars == expected.values, "\(input)")
            // Pad pixels are exactly 0 in normalised space.
            #expect(output[0, 0, 0, 0] == 0 && output[1, 2, pad - 1, pad - 1] == 0)
        }
    }

    /// F.interpolate(bilinear, align_corners=False), nearest and nearest-exact, up and down, gray and RGB.
    @Test func resizeMatchesTorchInterpolate() throws {
        var worstBilinear: Float = 0
        for (name, layout) in [("gray", ImageLayout.grayscale), ("rgb", .rgb)] {
            let images = try Fixtures.images("data/transforms/\(name).npy", layout: layout)
            for (h, w) in [(11, 13), (3, 4), (5, 7)] {
                for mode in Interpolation.allCases {
                    let expected = try Fixtures.floats("data/transforms/\(name)_\(mode.rawValue)_\(h)x\(w).npy")
                    let output = ImageTransform(resize: nil, interpolation: mode).resized(images, height: h, width: w)
                    #expect(output.shape == expected.shape, "\(name) \(mode) \(h)x\(w)")
                    let difference = maxAbsDifference(output.scalars, expected.values)
                    if mode == .bilinear { worstBilinear = max(worstBilinear, difference) } else {
                        #expect(difference == 0, "\(name) \(mode) \(h)x\(w)")
                    }
                }
            }
        }
        #expect(worstBilinear <= 3e-7, "bilinear differs from torch by \(worstBilinear)")
    }

    /// PIL's NEAREST on uint8 (what the MedMNIST v2 baselines used for 28 → 224) is nearest-exact.
    @Test func pilNearestIsNearestExact() throws {
        let images = try Fixtures.images("data/transforms/gray.npy", layout: .grayscale)
        let pil = try Fixtures.npy("data/transforms/gray_pil_nearest_11x13.npy").uint8s()
        let output = ImageTransform(interpolation: .nearestExact).resized(images, height: 11, width: 13)
        #expect(output.scalars.map { UInt8(($0 * 255).rounded()) } == pil)
    }

    @Test func squareResizeThenNormaliseThenPad() throws {
        let images = try Fixtures.images("data/transforms/square_rgb.npy", layout: .rgb)
        let t = ImageTransform(resize: 4, interpolation: .nearest, normalization: .half, padTo: 8)
        let out = t.apply(images)
        #expect(out.shape == [2, 3, 8, 8])
        // Centred: rows/cols 2..<6 hold the image, the rest is 0.
        #expect(out[1, 2, 1, 7] == 0 && out[1, 2, 6, 2] == 0)
        let direct = ImageTransform(interpolation: .nearest).resized(images, height: 4, width: 4)
        #expect(out[1, 2, 3, 4] == (direct[1, 2, 1, 2] - 0.5) / 0.5)
    }

    @Test func grayscaleToRGBReplicatesAndVolumesConvert() throws {
        let images = ImageArray(shape: [1, 2, 2], layout: .grayscale, bytes: [0, 51, 102, 255])
        let out = ImageTransform(rgb: true).apply(images)
        #expect(out.shape == [1, 3, 2, 2])
        #expect(out.scalars == [Float](repeating: 0, count: 0) + (0..<3).flatMap { _ in [0, 0.2, 0.4, 1] as [Float] })
        let volume = ImageArray(shape: [2, 2, 1, 2], layout: .volume, bytes: [0, 255, 51, 102, 1, 2, 3, 4])
        let v = ImageTransform(rgb: true, normalization: .half).apply(volume, indices: [1])
        #expect(v.shape == [1, 3, 2, 1, 2])
        #expect(v[0, 2, 1, 0, 1] == (Float(4) / 255 - 0.5) / 0.5)
    }

    @Test func augmentationIsSeededAndThreadIndependent() throws {
        let images = try Fixtures.images("data/transforms/square_rgb.npy", layout: .rgb)
        let t = ImageTransform(resize: 5, normalization: .imagenet,
                               augmentation: Augmentation(horizontalFlip: 0.5, verticalFlip: 0.5, resizedCrop: .init()))
        func run(threads: Int) -> [Float] {
            let saved = Parallel.threadCount
            Parallel.threadCount = threads
            defer { Parallel.threadCount = saved }
            var generator = RandomGenerator(seed: 99)
            return t.apply(images, indices: [0, 1, 0, 1, 1], generator: &generator).scalars
        }
        let one = run(threads: 1)
        #expect(one == run(threads: 2))
        var other = RandomGenerator(seed: 100)
        #expect(one != t.apply(images, indices: [0, 1, 0, 1, 1], generator: &other).scalars)
    }

    @Test func flipsMirror() throws {
        let images = ImageArray(shape: [1, 2, 3], layout: .grayscale, bytes: [0, 51, 102, 153, 204, 255])
        var generator = RandomGenerator(seed: 1)
        let h = ImageTransform(augmentation: Augmentation(horizontalFlip: 1)).apply(images, indices: [0], generator: &generator)
        #expect(h.scalars.map { Int(($0 * 255).rounded()) } == [102, 51, 0, 255, 204, 153])
        let v = ImageTransform(augmentation: Augmentation(horizontalFlip: 0, verticalFlip: 1)).apply(images, indices: [0], generator: &generator)
        #expect(v.scalars.map { Int(($0 * 255).rounded()) } == [153, 204, 255, 0, 51, 102])
    }

    @Test func resizedCropBoxesStayInside() {
        var generator = RandomGenerator(seed: 5)
        let crop = Augmentation.ResizedCrop()
        for _ in 0..<2000 {
            let (top, left, h, w) = crop.box(height: 28, width: 20, generator: &generator)
            #expect(h > 0 && w > 0 && top >= 0 && left >= 0 && top + h <= 28 && left + w <= 20)
        }
    }

    @Test func portableMathIsAccurate() {
        for x in stride(from: -5.0, through: 5.0, by: 0.37) {
            #expect(abs(PortableMath.exp(x) - Foundation.exp(x)) <= 4.5e-16 * Foundation.exp(x))
        }
        for x in [1e-9, 0.01, 0.75, 1.0, 4.0 / 3, 10, 12345.678] {
            #expect(abs(PortableMath.log(x) - Foundation.log(x)) <= 1e-15 * max(1, abs(Foundation.log(x))))
        }
    }
}

extension ImageTransform {
    /// Resize to a non-square size (the transform itself resizes to squares), for parity tests.
    func resized(_ images: ImageArray, height: Int, width: Int) -> Tensor {
        var generator = RandomGenerator(seed: 0)
        return applyResized(images, indices: Array(0..<images.count), height: height, width: width, generator: &generator)
    }
}
