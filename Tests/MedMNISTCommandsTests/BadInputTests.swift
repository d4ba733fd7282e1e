import Foundation
import MedIO
import MedLayers
import MedModels
import MedTensor
import MedTestSupport
import Testing

/// The bad-input matrix over the built tool: each command that reads a user's file, given a missing, empty,
/// truncated, wrong-magic, other-format, wrong-dtype, wrong-shape or NaN- or Inf-scores file, an unknown name, a
/// checkpoint of another architecture, an output folder that cannot exist, or a disk that is full
/// (RLIMIT_FSIZE): exit status 1 (or 64 for what the parser catches), one first line naming the file or what
/// is wrong, and no output file — not even a temporary — left behind.
@Suite(.enabled(if: medmnistBinary != nil, "the medmnist executable is not in the build products folder"))
struct BadInputMatrixTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var arguments: @Sendable (String) -> [String]
        var status: Int32 = 1
        /// Text the first line of standard error must contain (`$` stands for the work folder).
        var message: String
        /// A file size limit in 512-byte blocks for the process (a full disk), or nil.
        var fileSizeBlocks: Int? = nil
        var description: String { name }
    }

    /// The files every case may use, in `folder`.
    static func prepare(_ folder: String) throws {
        let valid = try Data(contentsOf: Fixtures.url("data/npz/breastmnist.npz"))
        try FileManager.default.createDirectory(atPath: "\(folder)/root", withIntermediateDirectories: true)
        try valid.write(to: URL(fileURLWithPath: "\(folder)/root/breastmnist.npz"))
        try Data().write(to: URL(fileURLWithPath: "\(folder)/empty.npz"))
        try valid.prefix(valid.count / 2).write(to: URL(fileURLWithPath: "\(folder)/truncated.npz"))
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: "\(folder)/magic.npz"))
        try Npy.write(TypedArray(floats: [1, 2, 3, 4], shape: [2, 2]), to: URL(fileURLWithPath: "\(folder)/other.npz"))  // an npy named .npz
        try Data("not a tensor file".utf8).write(to: URL(fileURLWithPath: "\(folder)/text.safetensors"))
        try Npy.write(TypedArray(floats: [Float](repeating: 0.5, count: 16 * 3 * 28 * 28), shape: [16, 3, 28, 28]),
                      to: URL(fileURLWithPath: "\(folder)/images.npy"))
        try Npy.write(TypedArray(int64s: [Int64](repeating: 1, count: 16 * 3 * 28 * 28), shape: [16, 3, 28, 28]),
                      to: URL(fileURLWithPath: "\(folder)/int-images.npy"))
        try Npy.write(TypedArray(floats: [Float](repeating: 0.5, count: 16 * 28 * 28), shape: [16, 28, 28]),
                      to: URL(fileURLWithPath: "\(folder)/3d-images.npy"))
        // Test scores of the fixture set (156 × 2): the wrong shape, and NaN.
        try Npy.write(TypedArray(floats: [Float](repeating: 0.5, count: 156 * 3), shape: [156, 3]), to: URL(fileURLWithPath: "\(folder)/scores-shape.npy"))
        var nan = [Float](repeating: 0.5, count: 156 * 2)
        nan[17] = .nan
        try Npy.write(TypedArray(floats: nan, shape: [156, 2]), to: URL(fileURLWithPath: "\(folder)/scores-nan.npy"))
        var infinite = [Float](repeating: 0.5, count: 156 * 2)
        infinite[40] = .infinity
        try Npy.write(TypedArray(floats: infinite, shape: [156, 2]), to: URL(fileURLWithPath: "\(folder)/scores-inf.npy"))
        try RandomState.withSeed(1) { try ModelRegistry.create("efficientnet_b0", numClasses: 2) }.save(to: URL(fileURLWithPath: "\(folder)/effnet.safetensors"))
        try Data("file".utf8).write(to: URL(fileURLWithPath: "\(folder)/a-file"))
        let checkpoint = try Data(contentsOf: Fixtures.url("torch/module.pth"))
        try checkpoint.prefix(checkpoint.count / 2).write(to: URL(fileURLWithPath: "\(folder)/truncated.pth"))
        try FileManager.default.copyItem(at: Fixtures.url("hostile/zip_dotdot.pth"), to: URL(fileURLWithPath: "\(folder)/dotdot.pth"))
        try FileManager.default.copyItem(at: Fixtures.url("hostile/reduce_system_zip.pth"), to: URL(fileURLWithPath: "\(folder)/system.pth"))
        try FileManager.default.copyItem(at: Fixtures.url("data/npz/tiny/float_images.npz"), to: URL(fileURLWithPath: "\(folder)/float.npz"))
    }

    static let cases: [Case] = [
        Case(name: "verify: missing file", arguments: { ["verify", "--dataset", "breastmnist", "--root", "\($0)/nowhere"] },
             message: "$/nowhere/breastmnist.npz not found"),
        Case(name: "train: missing npz", arguments: { ["train", "--npz", "\($0)/missing.npz", "-o", "\($0)/out"] }, message: "$/missing.npz"),
        Case(name: "train: empty npz", arguments: { ["train", "--npz", "\($0)/empty.npz", "-o", "\($0)/out"] }, message: "$/empty.npz"),
        Case(name: "train: truncated npz", arguments: { ["train", "--npz", "\($0)/truncated.npz", "-o", "\($0)/out"] }, message: "$/truncated.npz"),
        Case(name: "train: wrong magic", arguments: { ["train", "--npz", "\($0)/magic.npz", "-o", "\($0)/out"] }, message: "$/magic.npz"),
        Case(name: "knn: an npy named .npz", arguments: { ["knn", "--npz", "\($0)/other.npz", "-o", "\($0)/out"] }, message: "$/other.npz"),
        Case(name: "inspect: not a tensor file", arguments: { ["inspect", "\($0)/text.safetensors"] }, message: "$/text.safetensors"),
        Case(name: "predict: integer images", arguments: { ["predict", "--model", "resnet18", "--input", "\($0)/int-images.npy", "--output", "\($0)/out.npy"] },
             message: "$/int-images.npy"),
        Case(name: "predict: images without channels", arguments: { ["predict", "--model", "resnet18", "--input", "\($0)/3d-images.npy", "--output", "\($0)/out.npy"] },
             message: "$/3d-images.npy"),
        Case(name: "predict: checkpoint of another architecture",
             arguments: { ["predict", "--model", "resnet18", "--weights", "\($0)/effnet.safetensors", "--input", "\($0)/images.npy", "--output", "\($0)/out.npy"] },
             message: "$/effnet.safetensors"),
        Case(name: "predict: unknown model", arguments: { ["predict", "--model", "resnet19", "--input", "\($0)/images.npy", "--output", "\($0)/out.npy"] },
             message: "resnet19"),
        Case(name: "evaluate: scores of the wrong shape",
             arguments: { ["evaluate", "--dataset", "breastmnist", "--root", "\($0)/root", "--scores", "\($0)/scores-shape.npy"] }, message: "$/scores-shape.npy"),
        Case(name: "evaluate: NaN scores",
             arguments: { ["evaluate", "--dataset", "breastmnist", "--root", "\($0)/root", "--scores", "\($0)/scores-nan.npy"] }, message: "$/scores-nan.npy"),
        Case(name: "evaluate: infinite scores",
             arguments: { ["evaluate", "--dataset", "breastmnist", "--root", "\($0)/root", "--scores", "\($0)/scores-inf.npy"] }, message: "$/scores-inf.npy"),
        Case(name: "train: unknown dataset", arguments: { ["train", "--dataset", "nosuchmnist", "-o", "\($0)/out"] }, status: 64, message: "nosuchmnist"),
        Case(name: "train: weights of another architecture",
             arguments: { ["train", "--root", "\($0)/root", "--offline", "--weights", "\($0)/effnet.safetensors", "--epochs", "1", "-o", "\($0)/out"] },
             message: "$/effnet.safetensors"),
        Case(name: "predict: output under a file", arguments: { ["predict", "--model", "resnet18", "--input", "\($0)/images.npy", "--output", "\($0)/a-file/out.npy"] },
             message: "$/a-file/out.npy"),
        Case(name: "montage: output under a file",
             arguments: { ["montage", "--dataset", "breastmnist", "--root", "\($0)/root", "--output", "\($0)/a-file/out.png"] }, message: "$/a-file/out.png"),
        Case(name: "predict: full disk", arguments: { ["predict", "--model", "resnet18", "--features", "--input", "\($0)/images.npy", "--output", "\($0)/out.npy"] },
             message: "$/out.npy", fileSizeBlocks: 8),
        Case(name: "synthetic: full disk", arguments: { ["synthetic", "--like", "breastmnist", "-o", "\($0)/out.npz"] },
             message: "$/out.npz", fileSizeBlocks: 64),
        Case(name: "montage: full disk", arguments: { ["montage", "--dataset", "breastmnist", "--root", "\($0)/root", "--output", "\($0)/out.png"] },
             message: "$/out.png", fileSizeBlocks: 4),
        Case(name: "predict: truncated .pth weights",
             arguments: { ["predict", "--model", "resnet18", "--weights", "\($0)/truncated.pth", "--input", "\($0)/images.npy", "--output", "\($0)/out.npy"] },
             message: "$/truncated.pth"),
        Case(name: "predict: weights running os.system", arguments: { ["predict", "--model", "resnet18", "--weights", "\($0)/system.pth", "--input", "\($0)/images.npy", "--output", "\($0)/out.npy"] },
             message: "$/system.pth: pickle reduce_system_zip/data.pkl refers to 'os.system'"),
        Case(name: "inspect: zip members named ../", arguments: { ["inspect", "\($0)/dotdot.pth"] }, message: "$/dotdot.pth: record '../data.pkl' has an unsafe name"),
        Case(name: "evaluate: missing scores",
             arguments: { ["evaluate", "--dataset", "breastmnist", "--root", "\($0)/root", "--scores", "\($0)/missing.npy"] }, message: "$/missing.npy"),
        Case(name: "train: float images (wrong dtype)", arguments: { ["train", "--npz", "\($0)/float.npz", "-o", "\($0)/out"] }, message: "$/float.npz"),
        Case(name: "verify: unknown dataset", arguments: { ["verify", "--dataset", "nosuchmnist", "--root", "\($0)/root"] }, status: 64, message: "nosuchmnist"),
    ]

    @Test(arguments: cases)
    func badInputFailsCleanly(_ c: Case) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.url.path
        try Self.prepare(folder)
        let before = Set(FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? [])
        let run: (status: Int32, output: String, error: String)
        if let blocks = c.fileSizeBlocks {
            // The shell sets the limit and execs the tool, which ignores SIGXFSZ and gets EFBIG from write(2).
            let limited = try runBinary(c.arguments(folder), ulimit: "-f \(blocks)")
            run = (limited.status, "", limited.error)
        } else {
            run = try runBinary(c.arguments(folder))
        }
        let first = run.error.split(separator: "\n").first.map(String.init) ?? ""
        // One row of the matrix's table, in the test log: case | status | first line (the folder shown as $).
        print("bad-input | \(c.name) | \(run.status) | \(first.replacingOccurrences(of: folder, with: "$"))")
        #expect(run.status == c.status, "\(c): exit \(run.status), stderr: \(run.error)")
        #expect(first.contains(c.message.replacingOccurrences(of: "$", with: folder)), "\(c): \(first)")
        let after = Set(FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? [])
        let created = after.subtracting(before).filter { !$0.hasPrefix("root/.cache") && !$0.hasPrefix("root/.") }
        #expect(created.isEmpty, "\(c): left behind \(created.sorted())")
    }
}
