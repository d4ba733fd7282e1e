import MedTensor

/// Layers applied in order; keys are indices, as in `torch.nn.Sequential` (parameterless layers take an
/// index too, so VGG's `features.28.weight` comes out right).
public final class Sequential: Module, UnaryLayer {
    public private(set) var layers: [any UnaryLayer]

    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
        super.init()
    }

    public convenience init(_ layers: any UnaryLayer...) { self.init(layers) }

    public override var namedChildren: [(key: String, module: Module)] {
        layers.enumerated().map { (String($0.offset), $0.element as Module) }
    }

    public subscript(index: Int) -> any UnaryLayer { layers[index] }
    public var count: Int { layers.count }

    /// Replaces one layer (e.g. a classifier with another class count).
    public func replace(at index: Int, with layer: any UnaryLayer) { layers[index] = layer }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1($0) }
    }
}

/// A list of modules with index keys, as `torch.nn.ModuleList`; the owner decides how to call them.
public final class ModuleList<Element: Module>: Module {
    public private(set) var modules: [Element]

    public init(_ modules: [Element]) {
        self.modules = modules
        super.init()
    }

    public override var namedChildren: [(key: String, module: Module)] {
        modules.enumerated().map { (String($0.offset), $0.element as Module) }
    }

    public subscript(index: Int) -> Element { modules[index] }
    public var count: Int { modules.count }
}

/// Modules under explicit keys in a fixed order, as `torch.nn.ModuleDict` (DenseNet's `denselayer1`…).
public final class ModuleDict<Element: Module>: Module {
    public private(set) var entries: [(key: String, module: Element)]

    public init(_ entries: [(key: String, module: Element)]) {
        precondition(Set(entries.map(\.key)).count == entries.count, "ModuleDict: duplicate keys")
        self.entries = entries
        super.init()
    }

    public override var namedChildren: [(key: String, module: Module)] { entries.map { ($0.key, $0.module as Module) } }

    public subscript(key: String) -> Element? { entries.first { $0.key == key }?.module }
    public var count: Int { entries.count }
}
