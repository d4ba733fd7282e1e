import Foundation
import MedIO
import MedTraining

/// `medmnist report DIR…`: the paper's tables (and charts, tests) from grid result folders.
enum ReportCommand: Command {
    static let specification = CommandSpecification(
        name: "report", abstract: "Merge grid result files into the paper's tables (Markdown, CSV, JSON), charts and tests.",
        options: [
            Option("output", short: "o", kind: .path(extensions: []), valueName: "dir",
                   help: "Write report.md / report.csv / report.json (and charts/) into this folder; without it the table goes to stdout."),
            Option("format", kind: .choice(["markdown", "csv", "json", "all"]), default: "markdown",
                   help: "What to write: one format, or all three (needs --output)."),
            .flag("paper", help: "Show each cell beside the paper's published number and the difference."),
            .flag("charts", help: "Also write SVG charts (ACC and AUC against resolution per scheme, cost per cell); needs --output."),
            .flag("wilcoxon", help: "Add pairwise Wilcoxon signed-rank tests of the models with Bonferroni correction."),
            Option("ddof", kind: .choice(["0", "1"]), default: "0",
                   help: "Delta degrees of freedom of the std over seeds (0: numpy's default, population std; 1: sample std)."),
        ],
        positionals: [Positional("dir", kind: .path(extensions: []), repeatable: true,
                                 help: "Results folders (results/<dataset>/<size>/<model>/<scheme>-s<seed>.json below them).")],
        discussion: """
        Reads every *.json grid record below the folders (error records, locks and temporaries are skipped;
        failed cells count as missing) and aggregates test ACC and AUC in percent: mean ± std over seeds per
        dataset, scheme, model and size, and the average over datasets (mean of the means ± mean of the stds,
        as the paper's "Average" table). Missing cells show as '—', never as zero; an average with a dataset
        missing is marked with its count. A malformed record, or one cell in two files, stops the report with
        the file's name (exit 1). Documentation/Report.md describes the tables.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) throws {
        let format = parsed.string("format")!
        let output = parsed.string("output").map { URL(fileURLWithPath: $0) }
        if output == nil {
            if format == "all" { throw UsageError("--format all needs --output") }
            if parsed.flag("charts") { throw UsageError("--charts needs --output") }
        }
        let folders = parsed.positional("dir").map { URL(fileURLWithPath: $0) }
        let records = try ResultScan.scan(folders, excluding: output).map(\.record)
        let table = ReportTable(records, ddof: parsed.integer("ddof")!)
        let report = ResultsReport(table, paper: parsed.flag("paper"), wilcoxon: parsed.flag("wilcoxon"),
                                   sources: parsed.positional("dir"))
        guard let output else {
            switch format {
            case "csv": console.write(String(report.csv().dropLast()))
            case "json": console.write(String(decoding: try report.json(), as: UTF8.self))
            default: console.write(String(report.markdown().dropLast()))
            }
            return
        }
        try FileError.wrapping(path: output.path) {
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        }
        var written: [String] = []
        if format == "markdown" || format == "all" {
            try AtomicFile.write(report.markdown(), to: output.appendingPathComponent("report.md"))
            written.append("report.md")
        }
        if format == "csv" || format == "all" {
            try AtomicFile.write(report.csv(), to: output.appendingPathComponent("report.csv"))
            written.append("report.csv")
        }
        if format == "json" || format == "all" {
            try AtomicFile.write(try report.json(), to: output.appendingPathComponent("report.json"))
            written.append("report.json")
        }
        if parsed.flag("charts") {
            let folder = output.appendingPathComponent("charts")
            try FileError.wrapping(path: folder.path) {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            }
            for (name, svg) in report.charts().sorted(by: { $0.key < $1.key }) {
                try AtomicFile.write(svg, to: folder.appendingPathComponent(name))
                written.append("charts/" + name)
            }
        }
        let missing = report.datasetRows.filter(\.isMissing).count
        console.writeError("\(table.recordCount) records, \(table.datasets.count) datasets, \(missing) missing cells")
        console.write("wrote \(output.path): \(written.joined(separator: ", "))")
    }
}
