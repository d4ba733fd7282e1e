import Foundation

/// What can be wrong with the input of a report; each case names the file or folder.
public enum ReportError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A folder given to the report does not exist or is not a folder.
    case noSuchFolder(String)
    /// The folders hold no result record at all (error records, locks and temporaries do not count).
    case noRecords([String])
    /// A `*.json` file that is not a grid record (unreadable, not JSON, missing fields).
    case malformedRecord(path: String, reason: String)
    /// The same cell has a result in two files (two folders, or a copy under another name).
    case duplicateCell(cell: String, first: String, second: String)

    public var description: String {
        switch self {
        case .noSuchFolder(let path): "no such results folder: \(path)"
        case .noRecords(let paths): "no result records (*.json) under \(paths.joined(separator: ", "))"
        case .malformedRecord(let path, let reason): "\(path): not a grid result record (\(reason))"
        case .duplicateCell(let cell, let first, let second): "the cell \(cell) has two results: \(first) and \(second)"
        }
    }
}
