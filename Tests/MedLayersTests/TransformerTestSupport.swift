import Foundation
import MedIO
import MedTestSupport
import Testing
import MedTensor
@testable import MedLayers

/// One case written by Tests/Fixtures/make_transformer_fixtures.py: a directory with the module's state
/// dict (`state.safetensors`, timm's keys) and .npy tensors (input, projection, output, gradients).
struct TransformerFixture {
    static let root = Fixtures.url("transformer")

    let name: String
    let directory: URL

    init(_ name: String) {
        self.name = name
        directory = TransformerFixture.root.appendingPathComponent(name)
    }

    func has(_ tensor: String) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("\(tensor).npy").path)
    }

    func tensor(_ tensor: String) throws -> Tensor {
        let array = try Npy.read(contentsOf: directory.appendingPathComponent("\(tensor).npy"))
        return Tensor(shape: array.shape, scalars: array.floats())
    }

    /// The state dict, keyed as timm keys it.
    func state() throws -> [(key: String, array: TypedArray)] {
        let url = directory.appendingPathComponent("state.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        return try SafeTensorsFile.read(contentsOf: url).entries.map { ($0.name, $0.array) }
    }

    /// A state-dict tensor as a Tensor.
    func stateTensor(_ key: String) throws -> Tensor {
        guard let entry = try state().first(where: { $0.key == key }) else {
            throw FixtureError.missing("\(name)/state.safetensors: \(key)")
        }
        return Tensor(shape: entry.array.shape, scalars: entry.array.floats())
    }

    /// Keys of the parameters PyTorch computed gradients for (`grad.param.<key>.npy`).
    func gradientKeys() throws -> Set<String> {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return Set(files.filter { $0.hasPrefix("grad.param.") && $0.hasSuffix(".npy") }
            .map { String($0.dropFirst("grad.param.".count).dropLast(".npy".count)) })
    }

    enum FixtureError: Error { case missing(String) }
}

/// Loads the fixture's state dict into `module` (strictly, by key), runs `forward` on the fixture's input,
/// back-propagates sum(output · projection), and returns the relative error of the output, of the input
/// gradient and of every parameter gradient (keyed `grad.<key>`). Every trainable parameter of the module
/// must have a PyTorch gradient in the fixture and vice versa.
func transformerParity(_ module: Module, _ fixture: TransformerFixture, forward: (Tensor) -> Tensor,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Double] {
    try module.loadStateDict(try fixture.state())
    let input = try fixture.tensor("input").requiringGrad()
    let output = forward(input)
    (output * (try fixture.tensor("projection"))).sum().backward()
    var errors = ["output": relativeError(output.detached(), try fixture.tensor("output")),
                  "grad.input": relativeError(input.grad!, try fixture.tensor("grad.input"))]
    let trainable = module.namedParameters(includeBuffers: false).filter { $0.parameter.requiresGrad }
    #expect(Set(trainable.map(\.key)) == (try fixture.gradientKeys()), "\(fixture.name): parameter sets differ",
            sourceLocation: sourceLocation)
    var gradients: [(key: String, ours: Tensor, reference: Tensor)] = []
    for (key, parameter) in trainable where fixture.has("grad.param.\(key)") {
        guard let gradient = parameter.grad else {
            Issue.record("\(fixture.name): no gradient reached \(key)", sourceLocation: sourceLocation)
            continue
        }
        gradients.append((key, gradient, try fixture.tensor("grad.param.\(key)")))
    }
    // A gradient that vanishes analytically (k_norm's bias: adding one vector to every key shifts each
    // score row by a constant, which softmax ignores) is rounding noise in both libraries; it is compared
    // relative to the case's largest parameter gradient instead of to itself.
    let caseScale = gradients.map { $0.reference.abs().max().item }.max() ?? 0
    for (key, ours, reference) in gradients {
        let magnitude = reference.abs().max().item
        if magnitude < 1e-5 * caseScale {
            let difference = (ours - reference).abs().max().item
            errors["grad.\(key) (vanishing; relative to the largest gradient)"] = Double(difference) / Double(caseScale)
        } else {
            errors["grad.\(key)"] = relativeError(ours, reference)
        }
    }
    return errors
}

/// Checks every error against `tolerance` and prints them (the measured figures of the closing note).
func expectParity(_ errors: [String: Double], _ fixture: TransformerFixture, tolerance: Double = 1e-4,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    for (key, error) in errors.sorted(by: { $0.key < $1.key }) {
        print("parity \(fixture.name) \(key) \(String(format: "%.2e", error))")
        #expect(error <= tolerance, "\(fixture.name) \(key): relative error \(error)", sourceLocation: sourceLocation)
    }
}
