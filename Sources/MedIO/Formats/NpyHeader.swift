/// The npy header: a Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
///
/// numpy reads it with `ast.literal_eval`; this is a small strict parser for the part of Python's literal syntax
/// such a header can use (strings, integers, booleans, None, tuples, lists, dicts), so that a malformed header
/// fails with a position instead of being half-understood by pattern matching.
struct NpyHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// Parses the header text (`bytes`, at file offset `baseOffset`). `utf8` is true for format 3.0; 1.0 and
    /// 2.0 headers are latin-1.
    static func parse(_ bytes: UnsafeRawBufferPointer, baseOffset: Int, utf8: Bool) throws -> NpyHeader {
        var parser = PyLiteralParser(bytes: bytes, baseOffset: baseOffset, utf8: utf8)
        let value = try parser.parseDocument()
        guard case .dict(let pairs) = value else {
            throw TensorFileError.npyHeaderSyntax(offset: baseOffset, message: "the header is not a dict")
        }
        var fields: [String: PyLiteral] = [:]
        var keys: [String] = []
        for (key, value) in pairs {
            guard case .string(let name) = key else {
                throw TensorFileError.npyHeaderKeys(found: keys + ["\(key)"])
            }
            keys.append(name)
            fields[name] = value
        }
        guard keys.sorted() == ["descr", "fortran_order", "shape"] else {
            throw TensorFileError.npyHeaderKeys(found: keys)
        }
        guard case .string(let descr) = fields["descr"]! else {
            if case .list = fields["descr"]! { throw TensorFileError.npyUnsupportedDescr("structured dtype") }
            throw TensorFileError.npyHeaderValue(key: "descr", message: "is not a string")
        }
        guard case .bool(let fortranOrder) = fields["fortran_order"]! else {
            throw TensorFileError.npyHeaderValue(key: "fortran_order", message: "is not True or False")
        }
        guard case .tuple(let items) = fields["shape"]! else {
            throw TensorFileError.npyHeaderValue(key: "shape", message: "is not a tuple")
        }
        var shape: [Int] = []
        for item in items {
            guard case .int(let d) = item, d >= 0 else {
                throw TensorFileError.npyHeaderValue(key: "shape", message: "is not a tuple of non-negative integers")
            }
            shape.append(d)
        }
        return NpyHeader(descr: descr, fortranOrder: fortranOrder, shape: shape)
    }

    /// The dict text numpy's `_write_array_header` produces, before alignment padding: keys sorted, a trailing
    /// `, ` before the brace, and spare spaces so the first axis can grow in place (numpy's
    /// `GROWTH_AXIS_MAX_DIGITS` = 21).
    var pythonLiteral: String {
        let dims = shape.map(String.init)
        let tuple = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        var text = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(tuple), }"
        if let growthAxis = fortranOrder ? dims.last : dims.first {
            text += String(repeating: " ", count: max(0, 21 - growthAxis.count))
        }
        return text
    }
}

/// A Python literal value.
indirect enum PyLiteral: CustomStringConvertible {
    case string(String), int(Int), bool(Bool), none
    case tuple([PyLiteral]), list([PyLiteral]), dict([(PyLiteral, PyLiteral)])

    var description: String {
        switch self {
        case .string(let s): "'\(s)'"
        case .int(let i): "\(i)"
        case .bool(let b): b ? "True" : "False"
        case .none: "None"
        case .tuple: "(...)"
        case .list: "[...]"
        case .dict: "{...}"
        }
    }
}

/// Recursive-descent parser over the header bytes. Nesting is capped so a hostile header cannot exhaust the stack.
struct PyLiteralParser {
    let bytes: UnsafeRawBufferPointer
    let baseOffset: Int
    let utf8: Bool
    var position = 0
    var depth = 0
    static let maxDepth = 32

    init(bytes: UnsafeRawBufferPointer, baseOffset: Int, utf8: Bool) {
        self.bytes = bytes
        self.baseOffset = baseOffset
        self.utf8 = utf8
    }

    /// One value surrounded by optional whitespace (numpy pads with spaces and ends with a newline).
    mutating func parseDocument() throws -> PyLiteral {
        let value = try parseValue()
        skipWhitespace()
        if position < bytes.count { throw error("unexpected text after the literal") }
        return value
    }

    private func error(_ message: String) -> TensorFileError {
        .npyHeaderSyntax(offset: baseOffset + position, message: message)
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d { position += 1 }
    }

    private mutating func parseValue() throws -> PyLiteral {
        skipWhitespace()
        guard let c = current else { throw error("unexpected end of header") }
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "("): return try parseSequence(close: ")", isTuple: true)
        case UInt8(ascii: "["): return try parseSequence(close: "]", isTuple: false)
        case UInt8(ascii: "{"): return try parseDict()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .int(try parseInt())
        default:
            for (word, value) in [("True", PyLiteral.bool(true)), ("False", .bool(false)), ("None", .none)]
            where matches(word) {
                position += word.utf8.count
                return value
            }
            throw error("unexpected character '\(Unicode.Scalar(c))'")
        }
    }

    /// A keyword must not run on into an identifier (`Truex`).
    private func matches(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard position + w.count <= bytes.count else { return false }
        for i in 0..<w.count where bytes[position + i] != w[i] { return false }
        if position + w.count < bytes.count {
            let next = bytes[position + w.count]
            if next == UInt8(ascii: "_") || (next | 0x20 >= UInt8(ascii: "a") && next | 0x20 <= UInt8(ascii: "z"))
                || (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9")) { return false }
        }
        return true
    }

    private mutating func parseString() throws -> String {
        let quote = bytes[position]
        position += 1
        var content: [UInt8] = []
        while true {
            guard let c = current else { throw error("unterminated string") }
            position += 1
            if c == quote { break }
            if c == 0x0a { throw error("newline inside a string") }
            if c == UInt8(ascii: "\\") {
                guard let e = current else { throw error("unterminated string") }
                position += 1
                switch e {
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): content.append(e)
                case UInt8(ascii: "n"): content.append(0x0a)
                case UInt8(ascii: "t"): content.append(0x09)
                default: throw error("unsupported escape '\\\(Unicode.Scalar(e))'")
                }
                continue
            }
            content.append(c)
        }
        if utf8 {
            guard let s = String(validating: content, as: UTF8.self) else { throw error("string is not valid UTF-8") }
            return s
        }
        return String(String.UnicodeScalarView(content.map { Unicode.Scalar($0) }))
    }

    /// A decimal integer; Python 2's `L` suffix (old numpy files wrote `(3L,)`) is accepted.
    private mutating func parseInt() throws -> Int {
        let negative = current == UInt8(ascii: "-")
        if negative { position += 1 }
        let start = position
        var value = 0
        while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
            if o1 || o2 { throw error("integer too large") }
            value = a
            position += 1
        }
        if position == start { throw error("expected a digit") }
        if position - start > 1 && bytes[start] == UInt8(ascii: "0") { throw error("integer with a leading zero") }
        if current == UInt8(ascii: "L") { position += 1 }
        if let c = current, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            throw error("only integers are allowed")
        }
        return negative ? -value : value
    }

    /// `(a, b)`, `(a,)`, `()`, `[a, b]`. `(a)` is just `a`, as in Python.
    private mutating func parseSequence(close: Unicode.Scalar, isTuple: Bool) throws -> PyLiteral {
        try enter()
        defer { depth -= 1 }
        position += 1
        var items: [PyLiteral] = []
        var sawComma = false
        while true {
            skipWhitespace()
            if current == UInt8(ascii: close) { position += 1; break }
            items.append(try parseValue())
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                sawComma = true
            } else if current == UInt8(ascii: close) {
                position += 1
                break
            } else {
                throw error("expected ',' or '\(close)'")
            }
        }
        if isTuple && items.count == 1 && !sawComma { return items[0] }
        return isTuple ? .tuple(items) : .list(items)
    }

    private mutating func parseDict() throws -> PyLiteral {
        try enter()
        defer { depth -= 1 }
        position += 1
        var pairs: [(PyLiteral, PyLiteral)] = []
        var seen: Set<String> = []
        while true {
            skipWhitespace()
            if current == UInt8(ascii: "}") { position += 1; break }
            let keyOffset = position
            let key = try parseValue()
            if case .string(let name) = key, !seen.insert(name).inserted {
                position = keyOffset
                throw error("duplicate key '\(name)'")
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            pairs.append((key, try parseValue()))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
            } else if current == UInt8(ascii: "}") {
                position += 1
                break
            } else {
                throw error("expected ',' or '}'")
            }
        }
        return .dict(pairs)
    }

    private mutating func enter() throws {
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth)") }
    }
}
