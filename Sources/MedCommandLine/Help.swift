extension CommandSpecification {
    /// The help generated from the declaration: overview, usage, discussion, then every positional and
    /// option with its help, its default (`(default: 28)`) and `(required)` marks; `--help` last.
    public var help: String {
        var sections = ["OVERVIEW: \(abstract)"]
        sections.append((["USAGE: \(usage)"] + alternativeUsages.map { "       \(fullName) \($0)" }).joined(separator: "\n"))
        if !discussion.isEmpty { sections.append(discussion) }
        if !positionals.isEmpty {
            let rows = positionals.map { positional in
                ("<\(positional.name)>" + (positional.isRepeatable ? "..." : ""),
                 positional.help + (positional.isRequired ? " (required)" : ""))
            }
            sections.append("ARGUMENTS:\n" + table(rows))
        }
        var rows = options.map { option -> (String, String) in
            var text = option.help
            if option.isRequired { text += " (required)" }
            if let value = option.defaultValue { text += " (default: \(value))" }
            if option.isRepeatable { text += " (may be repeated)" }
            return ((option.short.map { "-\($0), " } ?? "") + option.synopsis, text)
        }
        rows.append(("-h, --help", "Show this help."))
        sections.append("OPTIONS:\n" + table(rows))
        return sections.joined(separator: "\n\n")
    }

    /// Two columns; the second wrapped at 100 characters and continued under itself.
    private func table(_ rows: [(String, String)]) -> String {
        let width = min(28, rows.map(\.0.count).max() ?? 0)
        return rows.map { left, right in
            let indent = String(repeating: " ", count: width + 4)
            let lines = wrap(right, width: max(40, 100 - indent.count))
            let head = "  " + left + (left.count <= width ? String(repeating: " ", count: width - left.count + 2) + lines[0]
                                                          : "\n" + indent + lines[0])
            return ([head] + lines.dropFirst().map { indent + $0 }).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    private func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        lines.append(line)
        return lines
    }
}
