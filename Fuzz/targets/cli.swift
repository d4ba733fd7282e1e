// libFuzzer target: the command-line parser, on argument lists cut from the input at NUL bytes, against a
// specification with every kind of option. Invariants: parsing never crashes; what it accepts holds only
// declared options with values of their kind; parsing the same arguments twice gives the same result.
let specification = CommandSpecification(
    name: "fuzz", abstract: "A parser under fuzzing.",
    options: [
        Option("name", default: "x", help: "A string."),
        Option("count", kind: .positiveInteger, default: "1", help: "A positive integer."),
        Option("offset", kind: .integer, help: "An integer."),
        Option("rate", kind: .double, help: "A number."),
        Option("file", kind: .path(extensions: ["npz", "npy"]), help: "A path."),
        Option("mode", kind: .choice(["a", "b", "c"]), default: "a", help: "A choice."),
        Option("tag", repeatable: true, help: "Repeatable."),
        .flag("verbose", help: "A flag."),
    ],
    positionals: [Positional("input", required: false, repeatable: true, help: "Inputs.")])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let arguments = text.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
    guard let parsed = try? specification.parse(arguments) else { return 0 }
    if let count = parsed.integer("count") { precondition(count > 0, "cli: --count accepted \(count)") }
    if let mode = parsed.string("mode") { precondition(["a", "b", "c"].contains(mode), "cli: --mode accepted \(mode)") }
    if let rate = parsed.string("rate") { precondition(Double(rate) != nil, "cli: --rate accepted \(rate)") }
    let again = try? specification.parse(arguments)
    precondition(again?.string("name") == parsed.string("name") && again?.positional("input") == parsed.positional("input"),
                 "cli: parsing twice differs")
    _ = specification.help
    return 0
}
