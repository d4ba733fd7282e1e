import Foundation
import MedIO
import MedTensor

/// Why a download failed. Every case names the URL, and the failure message says where the file belongs so
/// it can be fetched by hand.
public enum DownloadError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The server answered with a non-200 status.
    case httpStatus(url: String, status: Int, destination: String)
    /// No connection, a dropped connection, a timeout, … after every retry.
    case transport(url: String, reason: String, attempts: Int, destination: String)
    /// The whole file arrived but its MD5 is not the catalog's.
    case md5Mismatch(url: String, expected: String, actual: String, destination: String)
    /// Fewer bytes arrived than the server announced.
    case incomplete(url: String, received: Int64, expected: Int64, destination: String)
    /// The mirror (``Downloader/mirror``, `--mirror` or `MEDMNIST_MIRROR`) is not an http(s) URL with a host
    /// or a `file://` URL of an absolute folder; nothing was fetched.
    case invalidMirror(mirror: String, reason: String)
    /// An expected MD5 that is not 32 hexadecimal digits; nothing was fetched.
    case invalidMD5(String)

    public var description: String {
        switch self {
        case .httpStatus(let url, let status, let destination):
            "download of \(url) failed: HTTP \(status). \(manualHint(url, destination))"
        case .transport(let url, let reason, let attempts, let destination):
            "download of \(url) failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(reason). \(manualHint(url, destination))"
        case .md5Mismatch(let url, let expected, let actual, let destination):
            "download of \(url) is corrupt: MD5 \(actual), expected \(expected). \(manualHint(url, destination))"
        case .incomplete(let url, let received, let expected, let destination):
            "download of \(url) stopped after \(received) of \(expected) bytes. \(manualHint(url, destination))"
        case .invalidMirror(let mirror, let reason):
            "the mirror '\(mirror)' cannot be used: \(reason); give a base URL such as https://host/medmnist or " +
                "file:///absolute/folder"
        case .invalidMD5(let text):
            "'\(text)' is not an MD5 digest (32 hexadecimal digits)"
        }
    }
}

extension DownloadError {
    /// The error for a failed ``FileDownloader`` transfer: a download error with the same URL, destination and
    /// attempt count, or, when the destination could not be written, the package's one ``FileError``.
    static func from(_ error: FileDownloadError) -> any Error {
        let url = error.url.absoluteString
        let destination = error.destination.path
        switch error.reason {
        case .httpStatus(let status):
            return DownloadError.httpStatus(url: url, status: status, destination: destination)
        case .transport(let reason), .unreadableSource(let reason):
            return DownloadError.transport(url: url, reason: reason, attempts: error.attempts, destination: destination)
        case .incomplete(let received, let expected):
            return DownloadError.incomplete(url: url, received: received, expected: expected, destination: destination)
        case .checksumMismatch(_, let expected, let actual, _):
            return DownloadError.md5Mismatch(url: url, expected: expected, actual: actual, destination: destination)
        case .fileSystem(let reason):
            return FileError.system(path: destination, operation: "write the download of \(url)", reason: reason)
        }
    }
}

private func manualHint(_ url: String, _ destination: String) -> String {
    "If this machine is offline, fetch \(url) elsewhere and save it as \(destination)"
}
