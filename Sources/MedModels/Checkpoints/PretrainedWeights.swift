import Foundation
import MedIO
import MedTensor

/// Pretrained timm weights by tag, from the Hugging Face hub, through a local cache.
///
/// timm publishes each pretrained tag of an architecture as its own hub repository, `timm/{model}.{tag}`
/// (`timm/resnet18.a1_in1k`), holding `model.safetensors`. ``localURL(model:tag:configuration:)`` returns the
/// cached copy of that file, downloading it first if needed:
/// ```swift
/// let url = try await PretrainedWeights.localURL(model: "resnet18", tag: "a1_in1k")
/// try model.loadStateDict(try CheckpointFile.read(contentsOf: url))
/// ```
/// - The cache is `~/.cache/swift-medmnist/weights/` (`$XDG_CACHE_HOME/swift-medmnist/weights/` when that is
///   set), or the directory in `MEDMNIST_WEIGHTS_CACHE`. Each file is `{model}.{tag}.safetensors` there; a file
///   put there by hand is used as it is.
/// - The hub is `https://huggingface.co`, or the base URL in `MEDMNIST_HUB_ENDPOINT` (a mirror, or a test
///   server on 127.0.0.1); `file://` endpoints are copied like downloads.
/// - Downloads go through ``FileDownloader``: progress bar on a terminal, retries, the SHA-256 the hub announces in
///   `X-Linked-Etag` verified, and the file renamed into the cache only when complete. Offline, the
///   ``FileDownloadError`` says which URL failed and where to put the file by hand.
///
/// This takes the model and tag as plain strings; the model registry decides which tags exist.
public enum PretrainedWeights {
    /// Where the cache is and where the hub is.
    public struct Configuration: Sendable {
        public static let cacheEnvironmentVariable = "MEDMNIST_WEIGHTS_CACHE"
        public static let endpointEnvironmentVariable = "MEDMNIST_HUB_ENDPOINT"
        public static let defaultEndpoint = URL(string: "https://huggingface.co")!

        /// The directory holding `{model}.{tag}.safetensors` files.
        public var cacheDirectory: URL
        /// The hub's base URL; files are at `{endpoint}/timm/{model}.{tag}/resolve/main/model.safetensors`.
        public var endpoint: URL
        public var download: FileDownloadOptions

        public init(cacheDirectory: URL, endpoint: URL = Configuration.defaultEndpoint, download: FileDownloadOptions = FileDownloadOptions()) {
            self.cacheDirectory = cacheDirectory
            self.endpoint = endpoint
            self.download = download
        }

        /// The configuration the environment asks for: `MEDMNIST_WEIGHTS_CACHE` and `MEDMNIST_HUB_ENDPOINT`,
        /// else the defaults (`XDG_CACHE_HOME` or `HOME` locate `~/.cache`).
        /// - Throws: ``PretrainedWeightsError/invalidEndpoint(_:)`` when `MEDMNIST_HUB_ENDPOINT` is not an
        ///   http(s) or file URL.
        public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            func expand(_ path: String) -> String {
                path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst(1) : path
            }
            if let custom = environment[Self.cacheEnvironmentVariable], !custom.isEmpty {
                cacheDirectory = URL(fileURLWithPath: expand(custom), isDirectory: true).standardizedFileURL
            } else if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
                cacheDirectory = URL(fileURLWithPath: xdg, isDirectory: true)
                    .appendingPathComponent("swift-medmnist/weights", isDirectory: true)
            } else {
                cacheDirectory = URL(fileURLWithPath: home, isDirectory: true)
                    .appendingPathComponent(".cache/swift-medmnist/weights", isDirectory: true)
            }
            if let raw = environment[Self.endpointEnvironmentVariable], !raw.isEmpty {
                guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(),
                    ["http", "https", "file"].contains(scheme), scheme == "file" || url.host != nil
                else { throw PretrainedWeightsError.invalidEndpoint(raw) }
                endpoint = url
            } else {
                endpoint = Self.defaultEndpoint
            }
            download = FileDownloadOptions()
        }
    }

    /// The file each timm hub repository holds the weights in.
    public static let fileName = "model.safetensors"

    /// The hub repository of a pretrained tag, as timm names it: `timm/{model}.{tag}`.
    /// - Throws: ``PretrainedWeightsError/invalidName(_:reason:)``.
    public static func hubRepository(model: String, tag: String) throws -> String {
        try validate(model: model, tag: tag)
        return "timm/\(model).\(tag)"
    }

    /// `{endpoint}/timm/{model}.{tag}/resolve/main/model.safetensors`.
    public static func remoteURL(model: String, tag: String, endpoint: URL = Configuration.defaultEndpoint) throws -> URL {
        let repository = try hubRepository(model: model, tag: tag)
        var base = endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: "\(base)/\(repository)/resolve/main/\(fileName)") else {
            throw PretrainedWeightsError.invalidEndpoint(endpoint.absoluteString)
        }
        return url
    }

    /// Where the weights of `model.tag` live in the cache (whether or not they are there yet).
    public static func cachedFileURL(model: String, tag: String, cacheDirectory: URL) throws -> URL {
        try validate(model: model, tag: tag)
        return cacheDirectory.appendingPathComponent("\(model).\(tag).safetensors", isDirectory: false)
    }

    /// The cached weights of `model.tag`, downloaded into the cache first if they are not there.
    /// - Parameter configuration: nil reads it from the environment (``Configuration/init(environment:)``).
    /// - Throws: ``PretrainedWeightsError`` for a bad name or endpoint, ``FileDownloadError`` when the download fails
    ///   (its message names the URL and the cache path to put the file at by hand).
    public static func localURL(model: String, tag: String, configuration: Configuration? = nil) async throws -> URL {
        let configuration = try configuration ?? Configuration()
        let file = try cachedFileURL(model: model, tag: tag, cacheDirectory: configuration.cacheDirectory)
        if isNonEmptyFile(file) { return file }
        let url = try remoteURL(model: model, tag: tag, endpoint: configuration.endpoint)
        var options = configuration.download
        if options.progressLabel == nil { options.progressLabel = "\(model).\(tag)" }
        do {
            try await FileDownloader.download(from: url, to: file, options: options)
        } catch var error as FileDownloadError {
            if case .httpStatus(let code) = error.reason, code == 401 || code == 403 || code == 404 {
                // The hub answers 401 for repositories that do not exist as well as for gated ones.
                error.hint = "The hub has no public repository \(try hubRepository(model: model, tag: tag)); "
                    + "check the model name and pretrained tag (timm lists them at https://huggingface.co/timm)."
            }
            throw error
        }
        return file
    }

    /// ``localURL(model:tag:configuration:)`` for a timm name with its tag, `"resnet18.a1_in1k"`.
    public static func localURL(name: String, configuration: Configuration? = nil) async throws -> URL {
        let (model, tag) = try split(name)
        return try await localURL(model: model, tag: tag, configuration: configuration)
    }

    /// Splits `"resnet18.a1_in1k"` into model and tag at the first dot.
    public static func split(_ name: String) throws -> (model: String, tag: String) {
        guard let dot = name.firstIndex(of: ".") else {
            throw PretrainedWeightsError.invalidName(name, reason: "has no pretrained tag (expected MODEL.TAG, e.g. resnet18.a1_in1k)")
        }
        let model = String(name[..<dot]), tag = String(name[name.index(after: dot)...])
        try validate(model: model, tag: tag)
        return (model, tag)
    }

    // MARK: - helpers

    /// Names become a URL path and a file name, so they are limited to timm's characters: letters, digits,
    /// `_` and `-` (and inner dots in tags), which rules out `/`, `..` and empty names.
    static func validate(model: String, tag: String) throws {
        func allowed(_ c: UInt8) -> Bool {
            (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) || c == 95 || c == 45
        }
        guard !model.isEmpty, model.utf8.allSatisfy(allowed) else {
            throw PretrainedWeightsError.invalidName(model, reason: "is not a model name (letters, digits, '_' and '-' only)")
        }
        let parts = tag.split(separator: ".", omittingEmptySubsequences: false)
        guard !tag.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(allowed) }) else {
            throw PretrainedWeightsError.invalidName(tag, reason: "is not a pretrained tag (letters, digits, '_', '-' and inner '.' only)")
        }
    }

    static func isNonEmptyFile(_ url: URL) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
            attributes[.type] as? FileAttributeType == .typeRegular,
            let size = attributes[.size] as? NSNumber
        else { return false }
        return size.int64Value > 0
    }
}

/// A pretrained-weights request that cannot be made.
public enum PretrainedWeightsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A model or tag name that cannot name a hub repository or cache file.
    case invalidName(String, reason: String)
    /// `MEDMNIST_HUB_ENDPOINT` (or the configured endpoint) is not an http(s) or file URL.
    case invalidEndpoint(String)

    public var description: String {
        switch self {
        case .invalidName(let name, let reason): "'\(name)' \(reason)"
        case .invalidEndpoint(let value):
            "\(PretrainedWeights.Configuration.endpointEnvironmentVariable)='\(value)' is not an http(s) or file URL"
        }
    }
}
