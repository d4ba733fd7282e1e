import Foundation

/// One result record found by ``ResultScan``, with the file it came from.
public struct ScannedRecord: Sendable {
    public var record: GridRecord
    /// The file's path, as found under the folder given.
    public var path: String

    public init(record: GridRecord, path: String) {
        self.record = record
        self.path = path
    }
}

/// Finds the grid's result records under one or more folders.
///
/// Every `*.json` file below each folder, at any depth, is read as a ``GridRecord``, except error records
/// (`*.error.json`, a failed attempt), hidden files (`.NAME.tmp-…` temporaries of an unfinished atomic write),
/// cells' run folders (`<scheme>-s<seed>.run/`, whose `metrics.json` is the run's own file) and anything under
/// `excluding` (the report's own output folder, which may sit inside the results). Lock files
/// (`*.lock`) are not JSON and are never read. A record whose status is `failed` counts as missing, like an error
/// record.
///
/// The scan is strict: a `*.json` file that is not a grid record stops it with
/// ``ReportError/malformedRecord(path:reason:)`` naming the file, because a report that silently drops a cell
/// would show it as missing when it is in fact broken; move the file away or fix it. The same cell found in two
/// files is ``ReportError/duplicateCell(cell:first:second:)`` naming both.
public enum ResultScan {
    /// The successful records under `folders`, in path order.
    /// - Throws: ``ReportError``.
    public static func scan(_ folders: [URL], excluding excluded: URL? = nil) throws -> [ScannedRecord] {
        var found: [ScannedRecord] = []
        var seen: [GridCell: String] = [:]
        let excludedPath = excluded.map { $0.standardizedFileURL.resolvingSymlinksInPath().path }
        for folder in folders {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ReportError.noSuchFolder(folder.path)
            }
            for path in try recordPaths(under: folder, excluding: excludedPath) {
                let record: GridRecord
                do {
                    record = try GridRecord.decode(Data(contentsOf: URL(fileURLWithPath: path)))
                } catch {
                    throw ReportError.malformedRecord(path: path, reason: reason(error))
                }
                guard record.status == .ok, record.result != nil else { continue }
                if let first = seen[record.cell] {
                    throw ReportError.duplicateCell(cell: record.cell.description, first: first, second: path)
                }
                seen[record.cell] = path
                found.append(ScannedRecord(record: record, path: path))
            }
        }
        guard !found.isEmpty else { throw ReportError.noRecords(folders.map(\.path)) }
        return found
    }

    /// The candidate record files under `folder`, sorted.
    static func recordPaths(under folder: URL, excluding excluded: String?) throws -> [String] {
        let root = folder.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { throw ReportError.noSuchFolder(folder.path) }
        var paths: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let path = root + "/" + relative
            if let excluded, URL(fileURLWithPath: path).resolvingSymlinksInPath().path == excluded {
                enumerator.skipDescendants()
                continue
            }
            let name = (relative as NSString).lastPathComponent
            if name.hasSuffix(".run") {
                // A cell's run folder (metrics.json, history, checkpoints): the run's files, not a grid record.
                enumerator.skipDescendants()
                continue
            }
            guard name.hasSuffix(".json"), !name.hasSuffix(".error.json"), !name.hasPrefix(".") else { continue }
            paths.append(path)
        }
        return paths.sorted()
    }

    /// A short reason for a decoding failure: the missing key or the type mismatch, not the whole context dump.
    static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing \(pathText(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(pathText(context.codingPath))"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value at \(pathText(context.codingPath))"
        default:
            return "\(error)"
        }
    }

    private static func pathText(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "top level" : path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
