import Foundation
import MedIO
import MedMNISTData

/// `medmnist download FLAG [--size N] [--root DIR]`.
enum DownloadCommand: Subcommand {
    static let name = "download"
    static let summary = "Download a set's .npz into the root, checking its MD5."
    static let help = """
    USAGE: medmnist download FLAG [--size N] [--root DIR] [--mirror URL] [--force]

    Fetches {flag}.npz (size 28) or {flag}_{size}.npz from Zenodo record 10519652 into the root, with a
    progress bar on stderr, retries, and the catalog's MD5 checked before the file is renamed into place.
    A file already there with the right MD5 is kept.

    OPTIONS:
      --size N       28 (default), 64, 128 or 224 (3D sets: 28 or 64).
      --root DIR     Destination folder (default: $MEDMNIST_ROOT or ~/.medmnist).
      --mirror URL   Fetch {URL}/{file name} instead of Zenodo (also: $MEDMNIST_MIRROR).
      --force        Download even if a correct file is present.
    """

    static func run(_ arguments: [String]) async throws {
        let options = try Arguments(arguments, valued: ["size", "root", "mirror"], flagNames: ["force"])
        let info = try DataOptions.dataset(options, positionalAllowed: true)
        let file = try info.file(size: DataOptions.size(options, for: info))
        var downloader = Downloader()
        if let mirror = options.value("mirror") {
            guard let url = URL(string: mirror), url.scheme != nil else { throw UsageError("--mirror needs a URL, got '\(mirror)'") }
            downloader.mirror = url
        }
        let path = try await downloader.download(file, into: DataOptions.root(options), force: options.flag("force"))
        print(path.path)
    }
}
