/// Entry points for timing the archive layer from a benchmark executable.
public enum ArchiveBenchmark {
    /// Opens the zip (or `.npz`) at `path` and decompresses every entry into freshly allocated
    /// memory, verifying each CRC-32, as a loader would.
    /// - Returns: the total number of decompressed bytes.
    public static func decodeAll(path: String) throws -> Int {
        let archive = try ZipArchive(path: path)
        var total = 0
        for entry in archive.entries {
            total += try archive.extract(entry).count
        }
        return total
    }
}
