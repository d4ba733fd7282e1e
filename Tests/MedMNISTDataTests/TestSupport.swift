import Foundation
import MedIO
import MedTensor
import MedTestSupport
@testable import MedMNISTData

/// Readers for the fixtures written by Tests/Fixtures/make_data_fixtures.py (under `data/`); paths are
/// relative to Tests/Fixtures, as in ``Fixtures/url(_:)``.
extension Fixtures {
    /// A JSON fixture as nested `[String: Any]` / `[Any]` / `Int` / `Double` / `String` / `NSNull`. Decoded
    /// with JSONDecoder, which parses doubles exactly (Foundation's JSONSerialization on Linux can be 1 ulp off).
    static func json(_ relative: String) throws -> [String: Any] {
        try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url(relative))).any as! [String: Any]
    }

    static func npy(_ relative: String) throws -> TypedArray { try Npy.read(contentsOf: url(relative)) }

    /// Float32 values of a float npy.
    static func floats(_ relative: String) throws -> (shape: [Int], values: [Float]) {
        let array = try npy(relative)
        return (array.shape, array.floats())
    }

    /// A uint8 npy as an ImageArray.
    static func images(_ relative: String, layout: ImageLayout) throws -> ImageArray {
        let array = try npy(relative)
        return ImageArray(shape: array.shape, layout: layout, bytes: try array.uint8s())
    }

    /// An integer npy as an IndexTensor.
    static func labels(_ relative: String) throws -> IndexTensor {
        let array = try npy(relative)
        return IndexTensor(shape: array.shape, values: try array.int64s().map { Int($0) })
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "maxAbsDifference: \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Any JSON value, decoded exactly.
enum JSONValue: Decodable {
    case object([String: JSONValue]), array([JSONValue]), string(String), int(Int), double(Double), bool(Bool), null

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([JSONValue].self) { self = .array(v) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var any: Any {
        switch self {
        case .object(let o): o.mapValues(\.any)
        case .array(let a): a.map(\.any)
        case .string(let s): s
        case .int(let i): i
        case .double(let d): d
        case .bool(let b): b
        case .null: NSNull()
        }
    }
}

/// A JSON number as Double (integral values decode as Int).
func double(_ value: Any?) -> Double {
    if let d = value as? Double { return d }
    return Double(value as! Int)
}
