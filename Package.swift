// swift-tools-version: 6.1
// swift-medmnist: prototyping medical image classifiers on MedMNIST+ in Swift.
// No package dependencies: the toolchain only. OpenBLAS is an opt-in trait (`--traits OpenBLAS`).
import PackageDescription

let package = Package(
    name: "swift-medmnist",
    products: [
        .library(name: "MedIO", targets: ["MedIO"]),
        .library(name: "MedTensor", targets: ["MedTensor"]),
        .library(name: "MedLayers", targets: ["MedLayers"]),
        .library(name: "MedModels", targets: ["MedModels"]),
        .library(name: "MedMNISTData", targets: ["MedMNISTData"]),
        .library(name: "MedTraining", targets: ["MedTraining"]),
        // Everything above in one import, for applications.
        .library(name: "MedMNIST", targets: ["MedMNIST"]),
        // The declarative command-line parser, and the `medmnist` tool's commands as a library.
        .library(name: "MedCommandLine", targets: ["MedCommandLine"]),
        .library(name: "MedMNISTCommands", targets: ["MedMNISTCommands"]),
        .executable(name: "medmnist", targets: ["medmnist"]),
        .executable(name: "medmnist-bench", targets: ["medmnist-bench"]),
    ],
    traits: [
        .trait(name: "OpenBLAS", description: "Use the system OpenBLAS (libopenblas-dev) for GEMM."),
        .default(enabledTraits: []),
    ],
    targets: [
        // Instruction-set-specific kernels (AVX-512, AVX2+FMA, portable; NEON on arm64), chosen at run time.
        .target(name: "CMedKernels", linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
        // CBLAS from the system's OpenBLAS; only linked when the OpenBLAS trait is on.
        .systemLibrary(
            name: "COpenBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Files and formats below the tensors: archives, digests, typed arrays, npy, safetensors, .pth,
        // downloads, atomic files and memory maps. Needs nothing else.
        .target(name: "MedIO"),
        .target(
            name: "MedTensor",
            dependencies: [
                "MedIO",
                "CMedKernels",
                .target(name: "COpenBLAS", condition: .when(traits: ["OpenBLAS"])),
            ]
        ),
        .target(name: "MedLayers", dependencies: ["MedIO", "MedTensor"]),
        .target(name: "MedModels", dependencies: ["MedIO", "MedTensor", "MedLayers"]),
        .target(name: "MedMNISTData", dependencies: ["MedIO", "MedTensor"]),
        .target(name: "MedTraining", dependencies: ["MedIO", "MedTensor", "MedLayers", "MedModels", "MedMNISTData"]),
        .target(name: "MedMNIST", dependencies: ["MedIO", "MedTensor", "MedLayers", "MedModels", "MedMNISTData", "MedTraining"]),
        // A small declarative parser in the style of swift-argument-parser (no dependencies at all).
        .target(name: "MedCommandLine"),
        // Every `medmnist` command, each declaring its options once; `medmnist` only calls MedMNISTTool.main().
        .target(
            name: "MedMNISTCommands",
            dependencies: ["MedCommandLine", "MedIO", "MedTensor", "MedLayers", "MedModels", "MedMNISTData", "MedTraining"]
        ),
        .executableTarget(name: "medmnist", dependencies: ["MedMNISTCommands"]),
        .executableTarget(
            name: "medmnist-bench",
            dependencies: [
                "MedCommandLine", "MedTensor", "MedLayers", "MedModels", "MedMNISTData",
                .target(name: "COpenBLAS", condition: .when(traits: ["OpenBLAS"])),
            ],
            path: "Benchmarks/medmnist-bench"
        ),
        .executableTarget(name: "tensor-mlp", dependencies: ["MedTensor"], path: "Examples/tensor-mlp"),
        .executableTarget(name: "train-resnet", dependencies: ["MedMNIST"], path: "Examples/train-resnet"),
        .executableTarget(name: "frozen-features", dependencies: ["MedMNIST"], path: "Examples/frozen-features"),
        .executableTarget(name: "custom-model", dependencies: ["MedMNIST"], path: "Examples/custom-model"),
        // Helpers shared by the test targets (gradient check, seeded tensors, relative error, a local HTTP
        // server, the fixture folder, temporary directories); a plain target, not a product, so that the test
        // targets can import it.
        .target(name: "MedTestSupport", dependencies: ["MedTensor"], path: "Tests/MedTestSupport"),
        .testTarget(name: "MedIOTests", dependencies: ["MedIO", "MedTestSupport"]),
        .testTarget(name: "MedTensorTests", dependencies: ["MedIO", "MedTensor", "MedTestSupport"]),
        .testTarget(name: "MedLayersTests", dependencies: ["MedIO", "MedTensor", "MedLayers", "MedTestSupport"]),
        .testTarget(name: "MedModelsTests", dependencies: ["MedIO", "MedModels", "MedTestSupport"]),
        .testTarget(name: "MedMNISTDataTests", dependencies: ["MedIO", "MedMNISTData", "MedTestSupport"]),
        .testTarget(name: "MedTrainingTests", dependencies: ["MedIO", "MedTraining", "MedModels", "MedMNISTData", "MedTestSupport"]),
        // Compiles against the umbrella module only, as an application would.
        .testTarget(name: "MedMNISTTests", dependencies: ["MedMNIST", "MedTestSupport"]),
        // The parser and the commands in-process, plus a few runs of the built `medmnist` binary.
        .testTarget(name: "MedMNISTCommandsTests", dependencies: ["MedMNISTCommands", "MedCommandLine", "MedIO", "MedTensor", "MedLayers", "MedModels", "MedMNISTData", "MedTraining", "MedTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
