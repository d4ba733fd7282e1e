/// The library's identity, as result files and `medmnist --version` report it.
public enum MedMNISTLibrary {
    /// Semantic version of the package.
    public static let version = "0.1.0"
}
