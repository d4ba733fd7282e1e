import Foundation
import MedIO
import MedTestSupport
import MedTensor
@testable import MedLayers

/// A PyTorch parity case written by Tests/Fixtures/make_layer_fixtures.py.
struct LayerFixture {
    let file: SafeTensorsFile

    init(_ name: String, directory: String = "layers") throws {
        file = try SafeTensorsFile.read(contentsOf: Fixtures.url("\(directory)/\(name).safetensors"))
    }

    func tensor(_ name: String) -> Tensor { LayerFixture.tensor(file, name) }

    static func tensor(_ file: SafeTensorsFile, _ name: String) -> Tensor {
        guard let array = file[name] else { fatalError("fixture has no tensor '\(name)'") }
        return Tensor(shape: array.shape, scalars: array.floats())
    }

    func has(_ name: String) -> Bool { file[name] != nil }

    /// Entries under `prefix` with the prefix removed (`param.weight` → `weight`).
    func entries(prefix: String) -> [(key: String, array: TypedArray)] {
        file.entries.filter { $0.name.hasPrefix(prefix) }.map { (String($0.name.dropFirst(prefix.count)), $0.array) }
    }
}

/// Loads the fixture's weights into `module`, runs it, and returns the relative errors of the output,
/// the input gradient and each parameter gradient against PyTorch's.
func parityErrors(_ module: some UnaryLayer, _ fixture: LayerFixture) throws -> [String: Double] {
    try module.loadStateDict(fixture.entries(prefix: "param."))
    let input = fixture.tensor("input").requiringGrad()
    let output = module(input)
    (output * fixture.tensor("projection")).sum().backward()
    var errors = ["output": relativeError(output.detached(), fixture.tensor("output")),
                  "grad.input": relativeError(input.grad!, fixture.tensor("grad.input"))]
    for (key, parameter) in module.namedParameters(includeBuffers: false) where fixture.has("grad.param.\(key)") {
        errors["grad.\(key)"] = relativeError(parameter.grad!, fixture.tensor("grad.param.\(key)"))
    }
    return errors
}
