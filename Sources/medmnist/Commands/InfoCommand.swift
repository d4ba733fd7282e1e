import Foundation
import MedMNISTData

/// `medmnist info [FLAG]`: the catalog, as a table or one set in full.
enum InfoCommand: Subcommand {
    static let name = "info"
    static let summary = "List the 18 MedMNIST+ sets, or show one set in full."
    static let help = """
    USAGE: medmnist info [FLAG] [--root DIR]

    Without FLAG: every set with its task, channels, classes, split sizes, licence and the sizes present
    in the root. With FLAG (e.g. pathmnist): everything the catalog holds about it — labels, files, URLs
    and MD5s — and which files are present.

    OPTIONS:
      --root DIR   Folder of the .npz files (default: $MEDMNIST_ROOT or ~/.medmnist).
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, valued: ["root"])
        let root = DataOptions.root(options)
        switch options.positional.count {
        case 0: print(table(root: root))
        case 1: print(try details(MedMNISTCatalog.info(options.positional[0]), root: root))
        default: throw UsageError("unexpected argument '\(options.positional[1])'")
        }
    }

    static func table(root: DatasetRoot) -> String {
        let header = ["flag", "task", "ch", "classes", "train", "val", "test", "licence", "local sizes"]
        let rows = MedMNISTCatalog.all.map { info -> [String] in
            let present = root.presentSizes(of: info)
            return [info.flag, info.task.rawValue, "\(info.channels)", "\(info.classCount)", "\(info.splitSizes.train)",
                    "\(info.splitSizes.val)", "\(info.splitSizes.test)", info.license,
                    present.isEmpty ? "-" : present.map(String.init).joined(separator: ",")]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max()! }
        let numeric: Set<Int> = [2, 3, 4, 5, 6]
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return numeric.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n\nroot: \(root.url.path)"
    }

    static func details(_ info: DatasetInfo, root: DatasetRoot) throws -> String {
        var lines = [
            "\(info.flag) (\(info.pythonClass)), \(info.dimensions == .two ? "2D" : "3D")",
            info.description,
            "task:      \(info.task.rawValue)",
            "channels:  \(info.channels)",
            "samples:   train \(info.splitSizes.train), val \(info.splitSizes.val), test \(info.splitSizes.test)",
            "licence:   \(info.license)",
            "\(info.task.isMultiLabel ? "labels" : "classes"):",
        ]
        lines += info.labels.enumerated().map { "  \($0.offset)  \($0.element)" }
        lines.append("files (root \(root.url.path)):")
        for size in info.availableSizes {
            let file = try info.file(size: size)
            let present = FileManager.default.fileExists(atPath: root.url(for: file).path)
            lines.append("  \(size)\(size < 100 ? " " : "")  \(file.fileName.padding(toLength: 26, withPad: " ", startingAt: 0))  md5 \(file.md5)  \(present ? "present" : "absent")")
            lines.append("        \(file.url.absoluteString)")
        }
        return lines.joined(separator: "\n")
    }
}
