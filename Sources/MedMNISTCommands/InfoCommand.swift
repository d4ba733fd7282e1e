import Foundation
import MedIO
import MedMNISTData

/// `medmnist info [--dataset FLAG] [--root DIR]`: the catalog, as a table or one set in full.
enum InfoCommand: Command {
    static let specification = CommandSpecification(
        name: "info", abstract: "List the 18 MedMNIST+ sets, or show one set in full.",
        options: [DataOptions.dataset(required: false), DataOptions.root],
        discussion: """
        Without --dataset: every set with its task, channels, classes, split sizes, licence and the sizes present
        in the root. With --dataset (e.g. pathmnist): everything the catalog holds about it — labels, files, URLs
        and MD5s — and which files are present.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) throws {
        let root = DataOptions.root(parsed)
        if parsed.isGiven("dataset") {
            console.write(try details(DataOptions.info(parsed), root: root))
        } else {
            console.write(table(root: root))
        }
    }

    static func table(root: DatasetRoot) -> String {
        let header = ["flag", "task", "ch", "classes", "train", "val", "test", "licence", "local sizes"]
        let rows = MedMNISTCatalog.all.map { info -> [String] in
            let present = root.presentSizes(of: info)
            return [info.flag, info.task.rawValue, "\(info.channels)", "\(info.numClasses)", "\(info.splitSizes.train)",
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
