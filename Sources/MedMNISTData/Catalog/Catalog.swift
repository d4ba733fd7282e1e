/// The catalog of the 18 MedMNIST+ sets (12 2D, 6 3D), as the `medmnist` 3.0.2 package's `INFO`.
public enum MedMNISTCatalog {
    /// The Zenodo record the package downloads from (MedMNIST+ v3.0, record 10519652).
    public static let zenodoFilesURL = "https://zenodo.org/records/10519652/files"

    /// The 12 2D sets.
    public static var twoDimensional: [DatasetInfo] { all.filter { $0.dimensions == .two } }
    /// The 6 3D sets.
    public static var threeDimensional: [DatasetInfo] { all.filter { $0.dimensions == .three } }

    /// The set with this flag. Also accepts the Python class name (`PathMNIST`) and any letter case.
    /// - Throws: ``CatalogError/unknownFlag(_:suggestion:)`` with the nearest flag when one is close.
    public static func info(_ flag: String) throws -> DatasetInfo {
        let key = flag.lowercased()
        if let info = all.first(where: { $0.flag == key }) { return info }
        // Forgotten suffix: "path" → pathmnist, "organ3d" is not guessed.
        if let info = all.first(where: { $0.flag == key + "mnist" }) { return info }
        let nearest = all.map { ($0.flag, editDistance(key, $0.flag)) }.min { $0.1 < $1.1 }
        throw CatalogError.unknownFlag(flag, suggestion: nearest.flatMap { $0.1 <= 3 ? $0.0 : nil })
    }

    /// `{flag}.npz` at size 28, `{flag}_{size}.npz` otherwise (the package's `size_flag`).
    public static func fileName(flag: String, size: Int) -> String {
        size == 28 ? "\(flag).npz" : "\(flag)_\(size).npz"
    }

    /// Levenshtein distance, for "did you mean".
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...max(b.count, 1) where j <= b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
