import Foundation
import MedIO
import MedMNISTData

/// `medmnist synthetic -o FILE.npz`: a generated set in the MedMNIST schema whose classes differ in image
/// content, to try `train`, `knn` and `features` without the real data (and to test them on it).
enum SyntheticCommand: Command {
    static let specification = CommandSpecification(
        name: "synthetic", abstract: "Write a generated set in the MedMNIST schema (learnable classes) to an .npz.",
        options: [
            Option("output", short: "o", kind: .path(extensions: ["npz"]), required: true, valueName: "file",
                   help: "The .npz to write (six uint8 arrays, as numpy's savez_compressed)."),
            Option("pattern", kind: .choice(SyntheticDataset.Pattern.allCases.map(\.rawValue)), default: "squares",
                   help: "What tells the classes apart: a square's position, or a grating's orientation (which a " +
                       "frozen random backbone's features also separate)."),
            Option("like", valueName: "flag",
                   help: "Copy a catalog set's task, classes, channels and split sizes (name the file {flag}.npz in a " +
                       "root to use it as that set)."),
            Option("task", kind: .choice(MedMNISTTask.allCases.map(\.rawValue)), default: MedMNISTTask.multiClass.rawValue,
                   help: "The task."),
            Option("classes", kind: .positiveInteger, default: "4", help: "Classes (labels, for multi-label tasks)."),
            Option("channels", kind: .choice(["1", "3"]), default: "1", help: "Grayscale or RGB."),
            DataOptions.size,
            Option("train", kind: .nonNegativeInteger, default: "2000", help: "Training images."),
            Option("val", kind: .nonNegativeInteger, default: "400", help: "Validation images."),
            Option("test", kind: .nonNegativeInteger, default: "800", help: "Test images."),
            DataOptions.seed("Seeds the images and labels."),
        ],
        discussion: """
        The squares pattern puts a bright square at a class's position over noise; the stripes pattern draws a
        noisy grating at a class's orientation. Multi-label sets draw each present label's square or grating.
        Train on the file with 'medmnist train --npz FILE', or with --like FLAG save it as FLAG.npz in a root.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) throws {
        var task = MedMNISTTask(rawValue: parsed.string("task")!)!
        var classes = parsed.integer("classes")!, channels = Int(parsed.string("channels")!)!
        var counts = (train: parsed.integer("train")!, val: parsed.integer("val")!, test: parsed.integer("test")!)
        if parsed.isGiven("like") {
            try parsed.reject(["task", "classes", "channels", "train", "val", "test"], "with --like (the set decides it)")
            let info = try DataOptions.info(parsed, option: "like")
            guard info.dimensions == .two else { throw UsageError("--like: \(info.flag) holds 3D volumes; generated sets are 2D") }
            (task, classes, channels) = (info.task, info.numClasses, info.channels)
            counts = (info.splitSizes.train, info.splitSizes.val, info.splitSizes.test)
        }
        if task == .binaryClass && classes != 2 {
            if parsed.isGiven("classes") { throw UsageError("--classes: a binary-class task has 2 classes, got \(classes)") }
            classes = 2
        }
        let pattern = SyntheticDataset.Pattern(rawValue: parsed.string("pattern")!)!
        let size = parsed.integer("size")!, seed = UInt64(parsed.integer("seed")!)
        guard size >= 3 else { throw UsageError("--size must be at least 3, got \(size)") }
        func split(_ split: Split, _ count: Int) throws -> MedMNISTSplit {
            try SyntheticDataset.split(split, task: task, numClasses: classes, count: count, size: size, channels: channels,
                                       pattern: pattern, seed: seed)
        }
        let output = URL(fileURLWithPath: parsed.string("output")!)
        try SyntheticDataset.writeNpz(train: split(.train, counts.train), val: split(.val, counts.val), test: split(.test, counts.test),
                                      to: output)
        console.write("wrote \(output.path): \(pattern.rawValue), \(task.rawValue), \(classes) \(task.isMultiLabel ? "labels" : "classes"), " +
                      "\(channels) channel\(channels == 1 ? "" : "s"), \(size)×\(size), \(counts.train)/\(counts.val)/\(counts.test) images")
    }
}
