import Foundation
import MedIO
import MedMNISTData

/// `medmnist download --dataset FLAG [--size N] [--root DIR] [--mirror URL] [--force]`.
enum DownloadCommand: Command {
    static let specification = CommandSpecification(
        name: "download", abstract: "Download a set's .npz into the root, checking its MD5.",
        options: [
            DataOptions.dataset(), DataOptions.size, DataOptions.root,
            Option("mirror", valueName: "url", help: "Fetch {URL}/{file name} instead of Zenodo (also: $MEDMNIST_MIRROR)."),
            .flag("force", help: "Download even if a correct file is present."),
        ],
        discussion: """
        Fetches {flag}.npz (size 28) or {flag}_{size}.npz from Zenodo record 10519652 into the root, with a
        progress bar on stderr, retries, and the catalog's MD5 checked before the file is renamed into place.
        A file already there with the right MD5 is kept.
        """,
        commandPath: "medmnist")

    static func run(_ parsed: ParsedArguments, console: any Console) async throws {
        let info = try DataOptions.info(parsed)
        let file = try info.file(size: DataOptions.size(parsed, for: info))
        var downloader = Downloader()
        if let mirror = parsed.string("mirror") {
            do {
                downloader.mirror = try Downloader.mirror(parsing: mirror)
            } catch {
                throw UsageError("--mirror: \(error)")
            }
        }
        let path = try await downloader.download(file, into: DataOptions.root(parsed), force: parsed.flag("force"))
        console.write(path.path)
    }
}
