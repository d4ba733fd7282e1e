import Foundation
import MedIO
import MedMNISTData
import MedTensor

// libFuzzer target: the MedMNIST npz loader, from the zip through the npy members to split validation, both as
// custom data (CustomDataset.load: task and classes inferred) and as a catalog set (BreastMNIST with tiny split
// sizes: exact shapes, sizes and label ranges). The input is written to a file because the loaders read files
// (memory-mapped), as the tool does. Invariants beyond "no crash", for every split that loads: the image bytes are
// exactly N×H×W×C (N×D×H×W for volumes) and every one of them is readable; labels are (N, L) with every value a
// valid class (0/1 in each of numClasses columns for multi-label tasks); a catalog split has the catalog's shape
// and split size.

/// A folder of this process's own for the input file.
let fuzzFolder: URL = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let url = URL(fileURLWithPath: base).appendingPathComponent("medmnist-fuzz-npz-\(getpid())")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}()

/// BreastMNIST (binary, grayscale) with 4/2/2 samples, so that small inputs can pass the catalog's checks.
let tinyBreast: DatasetInfo = {
    var info = try! MedMNISTCatalog.info("breastmnist")
    info.splitSizes = SplitSizes(train: 4, val: 2, test: 2)
    return info
}()

func checkSplit(_ s: MedMNISTSplit, _ context: String) {
    let images = s.images, shape = images.shape
    let n = images.count
    let perSample: Int
    switch images.layout {
    case .grayscale: precondition(shape.count == 3, "\(context): grayscale shape \(shape)"); perSample = shape[1] * shape[2]
    case .rgb: precondition(shape.count == 4 && shape[3] == 3, "\(context): rgb shape \(shape)"); perSample = shape[1] * shape[2] * 3
    case .volume: precondition(shape.count == 4, "\(context): volume shape \(shape)"); perSample = shape[1] * shape[2] * shape[3]
    }
    precondition(images.byteCount == n * perSample && images.sampleByteCount == perSample, "\(context): \(images.byteCount) bytes for \(shape)")
    var sum = 0
    images.withUnsafeBytes { bytes in
        precondition(bytes.count == n * perSample, "\(context): buffer of \(bytes.count) bytes for \(shape)")
        for b in bytes { sum &+= Int(b) }  // every byte readable (AddressSanitizer checks the buffer)
    }
    if n > 0 { _ = images.sample(n - 1) }
    let labels = s.labels
    precondition(labels.shape.count == 2 && labels.shape[0] == n, "\(context): labels \(labels.shape) for \(n) images")
    precondition(labels.values.count == labels.shape[0] * labels.shape[1], "\(context): labels \(labels.shape) hold \(labels.values.count)")
    if s.task.isMultiLabel {
        precondition(labels.shape[1] == s.numClasses, "\(context): \(labels.shape[1]) columns for \(s.numClasses) labels")
        precondition(labels.values.allSatisfy { $0 == 0 || $0 == 1 }, "\(context): multi-label values outside 0/1")
    } else {
        precondition(labels.shape[1] == 1, "\(context): \(labels.shape[1]) label columns for \(s.task)")
        precondition(labels.values.allSatisfy { (0..<s.numClasses).contains($0) }, "\(context): a label outside 0..<\(s.numClasses)")
    }
}

/// FUZZ_NPZ_VERBOSE=1 prints what each load gave (to check that the seeds get through validation).
let verbose = ProcessInfo.processInfo.environment["FUZZ_NPZ_VERBOSE"] != nil

func attempt(_ what: String, _ body: () throws -> MedMNISTSplit) -> MedMNISTSplit? {
    do {
        let s = try body()
        if verbose { print("\(what): \(s.images.shape) \(s.task) \(s.numClasses) classes") }
        return s
    } catch {
        if verbose { print("\(what): \(error)") }
        return nil
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let url = fuzzFolder.appendingPathComponent("breastmnist.npz")
    try! Data(bytes: data, count: size).write(to: url)
    for split in Split.allCases {
        if let s = attempt("custom \(split)", { try CustomDataset.load(contentsOf: url, split: split, cache: .off) }) {
            checkSplit(s, "custom \(split)")
        }
        if let s = attempt("breastmnist \(split)", { try DatasetRoot(fuzzFolder).load(tinyBreast, size: 28, split: split, cache: .off) }) {
            checkSplit(s, "breastmnist \(split)")
            precondition(s.images.shape == [tinyBreast.splitSizes[split], 28, 28] && s.numClasses == 2,
                         "breastmnist \(split): \(s.images.shape), \(s.numClasses) classes")
        }
    }
    return 0
}
