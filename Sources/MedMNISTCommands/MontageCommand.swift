import Foundation
import MedIO
import MedMNISTData

/// `medmnist montage --dataset FLAG --output FILE.png`.
enum MontageCommand: Command {
    static let specification = CommandSpecification(
        name: "montage", abstract: "Write a length × length grid of random samples as a PNG.",
        options: [
            DataOptions.dataset(),
            Option("output", kind: .path(extensions: ["png"]), required: true, help: "The PNG to write."),
            DataOptions.size, DataOptions.split(default: .train),
            Option("length", kind: .positiveInteger, default: "10", help: "Samples per row and column, 1 to 100."),
            DataOptions.seed("Seed of the selection."),
            DataOptions.root,
        ],
        discussion: """
        Picks length² distinct samples with a seeded generator and tiles them row by row, like the Python
        package's montage (skimage.util.montage). 3D sets show the middle slice of each volume (the package
        writes an animated GIF of all slices instead). The PNG is 8-bit grayscale or RGB.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) throws {
        let info = try DataOptions.info(parsed)
        let size = try DataOptions.size(parsed, for: info)
        let split = DataOptions.split(parsed)
        let length = parsed.integer("length")!
        guard length <= 100 else { throw UsageError("--length must be between 1 and 100, got \(length)") }
        let seed = parsed.integer("seed")!
        let output = parsed.string("output")!
        let loaded = try DataOptions.root(parsed).load(info, size: size, split: split)
        let selection = try Montage.selection(count: loaded.count, length: length, seed: UInt64(seed))
        let montage = Montage(loaded.images, indices: selection)
        let url = URL(fileURLWithPath: output)
        try PNGEncoder.write(pixels: montage.pixels, width: montage.width, height: montage.height,
                             channels: montage.channels, to: url)
        console.writeError("wrote \(url.path) (\(montage.width)×\(montage.height), \(length)×\(length) samples of \(info.flag) \(size) \(split.rawValue))")
    }
}
