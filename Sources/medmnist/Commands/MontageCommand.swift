import Foundation
import MedMNISTData

/// `medmnist montage --dataset FLAG --output FILE.png`.
enum MontageCommand: Subcommand {
    static let name = "montage"
    static let summary = "Write a length × length grid of random samples as a PNG."
    static let help = """
    USAGE: medmnist montage --dataset FLAG --output FILE.png [--size N] [--split train] [--length 10]
                            [--seed S] [--root DIR]

    Picks length² distinct samples with a seeded generator and tiles them row by row, like the Python
    package's montage (skimage.util.montage). 3D sets show the middle slice of each volume (the package
    writes an animated GIF of all slices instead). The PNG is 8-bit grayscale or RGB.

    OPTIONS:
      --size N       28 (default), 64, 128 or 224.
      --split NAME   train (default), val or test.
      --length L     Samples per row and column (default 10).
      --seed S       Seed of the selection (default 0).
      --root DIR     Folder of the .npz files (default: $MEDMNIST_ROOT or ~/.medmnist).
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, valued: ["dataset", "size", "split", "length", "output", "seed", "root"])
        let info = try DataOptions.dataset(options)
        let size = try DataOptions.size(options, for: info)
        let split = try DataOptions.split(options, default: .train)
        let length = try options.integer("length", default: 10)
        guard (1...100).contains(length) else { throw UsageError("--length must be between 1 and 100, got \(length)") }
        let seed = try options.integer("seed", default: 0)
        guard seed >= 0 else { throw UsageError("--seed must not be negative") }
        guard let output = options.value("output") else { throw UsageError("--output is required") }
        guard output.lowercased().hasSuffix(".png") else { throw UsageError("--output must name a .png file, got '\(output)'") }
        let loaded = try DataOptions.root(options).load(info, size: size, split: split)
        let selection = try Montage.selection(count: loaded.count, length: length, seed: UInt64(seed))
        let montage = Montage(loaded.images, indices: selection)
        let url = URL(fileURLWithPath: output)
        try PNGEncoder.write(pixels: montage.pixels, width: montage.width, height: montage.height,
                             channels: montage.channels, to: url)
        printError("wrote \(url.path) (\(montage.width)×\(montage.height), \(length)×\(length) samples of \(info.flag) \(size) \(split.rawValue))")
    }
}
