import Foundation

/// The JSON of every result file the package writes (`metrics.json`, grid records): pretty-printed, sorted
/// snake_case keys, so that two results diff cleanly and Python readers find `best_epoch`, `peak_rss_bytes`.
enum ResultJSON {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(value)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: data)
    }
}
