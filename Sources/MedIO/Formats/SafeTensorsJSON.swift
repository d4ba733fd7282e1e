/// A small strict JSON reader and writer for the safetensors header.
///
/// Our own rather than `JSONSerialization` because the header needs what that API hides: duplicate keys
/// (a file naming a tensor twice is malformed), key order (entries keep the file's order), exact 64-bit
/// integers, and the byte offset of the first error.
enum SafeTensorsJSON {
    indirect enum Value {
        case object([(key: String, value: Value)])
        case array([Value])
        case string(String)
        /// An integer literal that fits in `Int`.
        case integer(Int)
        /// Any other number (fraction, exponent, or too large), kept as its text.
        case number(String)
        case bool(Bool)
        case null

        /// Compact JSON text, cut to about 60 characters, for error messages.
        var snippet: String {
            let text = json
            return text.count > 60 ? String(text.prefix(57)) + "..." : text
        }

        var json: String {
            switch self {
            case .object(let pairs):
                "{" + pairs.map { SafeTensorsJSON.quoted($0.key) + ":" + $0.value.json }.joined(separator: ",") + "}"
            case .array(let items): "[" + items.map(\.json).joined(separator: ",") + "]"
            case .string(let s): SafeTensorsJSON.quoted(s)
            case .integer(let i): "\(i)"
            case .number(let text): text
            case .bool(let b): b ? "true" : "false"
            case .null: "null"
            }
        }

        var kind: String {
            switch self {
            case .object: "an object"
            case .array: "an array"
            case .string: "a string"
            case .integer, .number: "a number"
            case .bool: "a boolean"
            case .null: "null"
            }
        }
    }

    /// Parses one JSON value surrounded by optional whitespace. `bytes` must already be valid UTF-8;
    /// `baseOffset` is added to error positions so they are file offsets.
    static func parse(_ bytes: UnsafeRawBufferPointer, baseOffset: Int) throws -> Value {
        var parser = Parser(bytes: bytes, baseOffset: baseOffset)
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.position < bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    struct Parser {
        let bytes: UnsafeRawBufferPointer
        let baseOffset: Int
        var position = 0
        var depth = 0
        static let maxDepth = 64

        init(bytes: UnsafeRawBufferPointer, baseOffset: Int) {
            self.bytes = bytes
            self.baseOffset = baseOffset
        }

        func error(_ message: String) -> TensorFileError {
            .safetensorsHeaderJSON(offset: baseOffset + position, message: message)
        }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let c = current, c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d { position += 1 }
        }

        mutating func parseValue() throws -> Value {
            skipWhitespace()
            guard let c = current else { throw error("unexpected end of header") }
            switch c {
            case UInt8(ascii: "{"): return try parseObject()
            case UInt8(ascii: "["): return try parseArray()
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default: throw error("unexpected character '\(Unicode.Scalar(c))'")
            }
        }

        private mutating func expect(_ word: String) throws {
            for w in word.utf8 {
                guard current == w else { throw error("invalid literal, expected '\(word)'") }
                position += 1
            }
        }

        private mutating func enter() throws {
            depth += 1
            if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth)") }
        }

        private mutating func parseObject() throws -> Value {
            try enter()
            defer { depth -= 1 }
            position += 1
            var pairs: [(key: String, value: Value)] = []
            skipWhitespace()
            if current == UInt8(ascii: "}") { position += 1; return .object(pairs) }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
                position += 1
                pairs.append((key, try parseValue()))
                skipWhitespace()
                guard let c = current else { throw error("unterminated object") }
                position += 1
                if c == UInt8(ascii: "}") { return .object(pairs) }
                guard c == UInt8(ascii: ",") else { position -= 1; throw error("expected ',' or '}'") }
            }
        }

        private mutating func parseArray() throws -> Value {
            try enter()
            defer { depth -= 1 }
            position += 1
            var items: [Value] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") { position += 1; return .array(items) }
            while true {
                items.append(try parseValue())
                skipWhitespace()
                guard let c = current else { throw error("unterminated array") }
                position += 1
                if c == UInt8(ascii: "]") { return .array(items) }
                guard c == UInt8(ascii: ",") else { position -= 1; throw error("expected ',' or ']'") }
            }
        }

        private mutating func parseString() throws -> String {
            position += 1
            var out: [UInt8] = []
            var runStart = position
            while true {
                guard let c = current else { throw error("unterminated string") }
                if c == UInt8(ascii: "\"") {
                    out += bytes[runStart..<position]
                    position += 1
                    // The header was validated as UTF-8 and escapes produce valid scalars.
                    return String(decoding: out, as: UTF8.self)
                }
                if c < 0x20 { throw error("control character in a string") }
                if c == UInt8(ascii: "\\") {
                    out += bytes[runStart..<position]
                    position += 1
                    try parseEscape(into: &out)
                    runStart = position
                    continue
                }
                position += 1
            }
        }

        private mutating func parseEscape(into out: inout [UInt8]) throws {
            guard let e = current else { throw error("unterminated string") }
            position += 1
            let simple: [UInt8: UInt8] = [
                UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5c, UInt8(ascii: "/"): 0x2f, UInt8(ascii: "b"): 0x08,
                UInt8(ascii: "f"): 0x0c, UInt8(ascii: "n"): 0x0a, UInt8(ascii: "r"): 0x0d, UInt8(ascii: "t"): 0x09,
            ]
            if let s = simple[e] { out.append(s); return }
            guard e == UInt8(ascii: "u") else { position -= 1; throw error("invalid escape") }
            var scalar = try parseHex4()
            if (0xd800..<0xdc00).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard current == UInt8(ascii: "\\"), position + 1 < bytes.count,
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw error("lone surrogate in \\u escape") }
                position += 2
                let low = try parseHex4()
                guard (0xdc00..<0xe000).contains(low) else { throw error("lone surrogate in \\u escape") }
                scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
            } else if (0xdc00..<0xe000).contains(scalar) {
                throw error("lone surrogate in \\u escape")
            }
            out += Array(String(Character(Unicode.Scalar(scalar)!)).utf8)
        }

        private mutating func parseHex4() throws -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let c = current, let digit = Self.hexValue(c) else { throw error("invalid \\u escape") }
                value = value << 4 | digit
                position += 1
            }
            return value
        }

        private static func hexValue(_ c: UInt8) -> UInt32? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - UInt8(ascii: "A") + 10)
            default: nil
            }
        }

        /// RFC 8259 number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
        private mutating func parseNumber() throws -> Value {
            let start = position
            if current == UInt8(ascii: "-") { position += 1 }
            guard let first = current, Self.isDigit(first) else { throw error("expected a digit") }
            position += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            var isInteger = true
            if current == UInt8(ascii: ".") {
                isInteger = false
                position += 1
                guard let c = current, Self.isDigit(c) else { throw error("expected a digit after '.'") }
                skipDigits()
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                isInteger = false
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard let c = current, Self.isDigit(c) else { throw error("expected a digit in the exponent") }
                skipDigits()
            }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            if isInteger, let value = Int(text) { return .integer(value) }
            return .number(text)
        }

        private mutating func skipDigits() {
            while let c = current, Self.isDigit(c) { position += 1 }
        }

        private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    }

    // MARK: writing

    /// A JSON string literal, escaped as serde_json does (so our headers match the Python library's byte for byte).
    static func quoted(_ string: String) -> String { JSONText.quoted(string) }
}

/// JSON text for writers that build it by hand (headers, command output).
public enum JSONText {
    /// `string` as a JSON string literal, escaped as serde_json and Python's `json.dumps(ensure_ascii=False)` do.
    public static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
