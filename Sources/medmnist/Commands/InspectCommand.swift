import Foundation
import MedIO
import MedTensor

/// `medmnist inspect FILE…`: what a safetensors or .npy file holds.
enum InspectCommand: Subcommand {
    static let name = "inspect"
    static let summary = "List the tensors in safetensors or .npy files (dtype, shape, statistics)."
    static let help = """
    USAGE: medmnist inspect FILE... [--stats]

    Prints each tensor's name, dtype and shape, and the file's metadata. Reads safetensors checkpoints
    (.safetensors) and NumPy arrays (.npy); every malformed file is reported with what is wrong and where.

    OPTIONS:
      --stats    Also print min, max, mean and standard deviation of each tensor.
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, valued: [], flagNames: ["stats"])
        guard !options.positional.isEmpty else { throw UsageError("no file given") }
        var failures = 0
        for path in options.positional {
            let url = URL(fileURLWithPath: path)
            do {
                let entries: [(name: String, array: TypedArray)]
                if url.pathExtension == "npy" {
                    entries = [(url.lastPathComponent, try Npy.read(contentsOf: url))]
                } else {
                    let file = try SafeTensorsFile.read(contentsOf: url)
                    print("\(path): \(file.count) tensors")
                    for key in file.metadata.keys.sorted() { print("  metadata \(key) = \(file.metadata[key]!)") }
                    entries = file.entries
                }
                let width = entries.map(\.name.count).max() ?? 0
                var total = 0
                for (name, array) in entries {
                    total += array.count
                    var line = "  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(array.dtype.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(array.shape)"
                    if options.flag("stats") && array.count > 0 { line += "  " + statistics(array.floats()) }
                    print(line)
                }
                print("  \(total) values")
            } catch {
                failures += 1
                printError("medmnist inspect: \(error)")
            }
        }
        if failures > 0 { throw InspectFailure(count: failures) }
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

struct InspectFailure: Error, CustomStringConvertible {
    let count: Int
    var description: String { "\(count) file\(count == 1 ? "" : "s") could not be read" }
}
