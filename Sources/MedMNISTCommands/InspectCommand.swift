import Foundation
import MedIO
import MedTensor

/// `medmnist inspect FILE…`: what a checkpoint (safetensors, .pth/.bin) or .npy file holds.
enum InspectCommand: Command {
    static let specification = CommandSpecification(
        name: "inspect", abstract: "List the tensors in safetensors, PyTorch .pth/.bin or .npy files (dtype, shape, statistics).",
        options: [.flag("stats", help: "Also print min, max, mean and standard deviation of each tensor.")],
        positionals: [Positional("file", kind: .path(extensions: ["safetensors", "pth", "bin", "pt", "npy"]),
                                 repeatable: true, help: "The files to read.")],
        discussion: """
        Prints each tensor's name, dtype and shape, and a safetensors file's metadata. Reads safetensors
        checkpoints, PyTorch state dicts (.pth/.bin/.pt, zip or legacy format, as 'medmnist predict --weights'
        does) and NumPy arrays (.npy); every malformed file is reported with what is wrong and where.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) throws {
        var failures = 0
        for path in parsed.positional("file") {
            let url = URL(fileURLWithPath: path)
            do {
                let entries: [(name: String, array: TypedArray)]
                switch url.pathExtension.lowercased() {
                case "npy":
                    entries = [(url.lastPathComponent, try Npy.read(contentsOf: url))]
                case "safetensors":
                    let file = try SafeTensorsFile.read(contentsOf: url)
                    console.write("\(path): \(file.count) tensors")
                    for key in file.metadata.keys.sorted() { console.write("  metadata \(key) = \(file.metadata[key]!)") }
                    entries = file.entries
                default:
                    // .pth/.bin/.pt: safetensors or a PyTorch state dict, told apart by content, as predict reads them.
                    let checkpoint = try CheckpointFile.read(contentsOf: url)
                    console.write("\(path): \(checkpoint.count) tensors")
                    entries = checkpoint.map { (name: $0.key, array: $0.array) }
                }
                let width = entries.map(\.name.count).max() ?? 0
                var total = 0
                for (name, array) in entries {
                    total += array.count
                    var line = "  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(array.dtype.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(array.shape)"
                    if parsed.flag("stats") && array.count > 0 { line += "  " + statistics(array.floats()) }
                    console.write(line)
                }
                console.write("  \(total) values")
            } catch {
                failures += 1
                console.writeError("medmnist inspect: \(error)")
            }
        }
        if failures > 0 { throw CommandFailure("\(failures) file\(failures == 1 ? "" : "s") could not be read") }
    }

    private static func statistics(_ values: [Float]) -> String {
        var minimum = Float.infinity, maximum = -Float.infinity, sum = 0.0, squares = 0.0
        for value in values {
            minimum = min(minimum, value)
            maximum = max(maximum, value)
            sum += Double(value)
            squares += Double(value) * Double(value)
        }
        let mean = sum / Double(values.count)
        let std = max(0, squares / Double(values.count) - mean * mean).squareRoot()
        return String(format: "min %.4g  max %.4g  mean %.4g  std %.4g", minimum, maximum, mean, std)
    }
}
