import MedTensor

/// The base class of every layer and model.
///
/// State-dict keys come from reflection over stored properties, as PyTorch's come from attribute names:
/// each property that holds a ``Module``, ``Parameter`` or ``IntegerBuffer`` contributes its name in
/// snake_case (`patchEmbed` → `patch_embed`, `runningMean` → `running_mean`; digits stay: `bn1`), optional
/// properties that are nil contribute nothing, and containers (``Sequential``, ``ModuleList``,
/// ``ModuleDict``) contribute indices or their own keys. A subclass whose timm name is not the snake_case
/// of its property overrides ``keyOverrides``. Declare properties in the order PyTorch registers them, so
/// the state dict has PyTorch's order.
///
/// Behaviour that differs between training and evaluation (dropout, BatchNorm) reads ``isTraining``,
/// which ``train(_:)`` and ``eval()`` set on the whole tree.
open class Module {
    /// True in training mode (the default), false after ``eval()``.
    public private(set) var isTraining = true

    public init() {}

    /// Property name → state-dict key, for names that snake_case does not produce.
    open var keyOverrides: [String: String] { [:] }

    /// Direct submodules with their keys. Containers override this.
    open var namedChildren: [(key: String, module: Module)] {
        reflectedMembers().compactMap { member in (member.value as? Module).map { (member.key, $0) } }
    }

    /// Parameters and buffers held directly by this module (not by submodules), with their keys.
    open var namedDirectParameters: [(key: String, parameter: Parameter)] {
        reflectedMembers().compactMap { member in (member.value as? Parameter).map { (member.key, $0) } }
    }

    /// Integer buffers held directly by this module, with their keys.
    open var namedDirectIntegerBuffers: [(key: String, buffer: IntegerBuffer)] {
        reflectedMembers().compactMap { member in (member.value as? IntegerBuffer).map { (member.key, $0) } }
    }

    /// Stored properties of this class and its superclasses (superclasses first), keyed for the state dict.
    private func reflectedMembers() -> [(key: String, value: Any)] {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let current = mirror {
            mirrors.append(current)
            mirror = current.superclassMirror
        }
        let overrides = keyOverrides
        var members: [(key: String, value: Any)] = []
        for mirror in mirrors.reversed() {
            for child in mirror.children {
                guard var label = child.label else { continue }
                if label.hasPrefix("_") { label.removeFirst() }   // property wrappers and lazy storage
                if label.hasPrefix("$__lazy_storage_$_") { continue }
                members.append((overrides[label] ?? snakeCased(label), child.value))
            }
        }
        return members
    }

    // MARK: traversal

    /// Every submodule in the tree with its dotted path, this module first (path "").
    public func namedModules(prefix: String = "") -> [(path: String, module: Module)] {
        var result: [(String, Module)] = [(prefix, self)]
        for (key, child) in namedChildren {
            result += child.namedModules(prefix: prefix.isEmpty ? key : "\(prefix).\(key)")
        }
        return result
    }

    /// Every parameter and buffer in the tree with its state-dict key, in registration order.
    public func namedParameters(includeBuffers: Bool = true) -> [(key: String, parameter: Parameter)] {
        namedModules().flatMap { path, module in
            module.namedDirectParameters
                .filter { includeBuffers || !$0.parameter.isBuffer }
                .map { (path.isEmpty ? $0.key : "\(path).\($0.key)", $0.parameter) }
        }
    }

    /// Every integer buffer in the tree with its state-dict key.
    public func namedIntegerBuffers() -> [(key: String, buffer: IntegerBuffer)] {
        namedModules().flatMap { path, module in
            module.namedDirectIntegerBuffers.map { (path.isEmpty ? $0.key : "\(path).\($0.key)", $0.buffer) }
        }
    }

    /// The trainable parameters (those with `requiresGrad`), for an optimizer.
    public var trainableParameters: [Parameter] {
        namedParameters(includeBuffers: false).map(\.parameter).filter(\.requiresGrad)
    }

    /// Number of parameter values (buffers excluded), as timm counts them.
    public var parameterCount: Int { namedParameters(includeBuffers: false).reduce(0) { $0 + $1.parameter.count } }

    /// Number of trainable parameter values.
    public var trainableParameterCount: Int { trainableParameters.reduce(0) { $0 + $1.count } }

    // MARK: modes

    /// Sets training mode on this module and every submodule.
    open func train(_ mode: Bool = true) {
        for (_, module) in namedModules() {
            module.isTraining = mode
            module.modeDidChange()
        }
    }

    /// Evaluation mode: dropout off, BatchNorm on running statistics.
    public func eval() { train(false) }

    /// Called after the mode changes; subclasses drop mode-dependent caches here.
    open func modeDidChange() {}

    /// Called after a checkpoint was loaded into this module; subclasses drop derived caches here.
    open func parametersDidLoad() {}

    /// Freezes every parameter except those whose key starts with one of `prefixes` (linear probing:
    /// `model.freeze(except: ["head"])`).
    public func freeze(except prefixes: [String] = []) {
        for (key, parameter) in namedParameters(includeBuffers: false) {
            parameter.requiresGrad = prefixes.contains { key == $0 || key.hasPrefix($0 + ".") }
        }
    }

    /// Makes every parameter trainable again.
    public func unfreeze() {
        for (_, parameter) in namedParameters(includeBuffers: false) { parameter.requiresGrad = true }
    }

    /// Clears the gradients of every parameter.
    public func zeroGrad() {
        for (_, parameter) in namedParameters(includeBuffers: false) { parameter.zeroGrad() }
    }

    // MARK: summary

    /// The type name shown in summaries.
    open var typeName: String { String(describing: type(of: self)) }

    /// A readable tree: each module with its own parameter count, then totals.
    public func summary() -> String {
        var lines: [String] = []
        func visit(_ module: Module, key: String, depth: Int) {
            let own = module.namedDirectParameters.filter { !$0.parameter.isBuffer }.reduce(0) { $0 + $1.parameter.count }
            let shapes = module.namedDirectParameters.filter { !$0.parameter.isBuffer }
                .map { "\($0.key)\($0.parameter.shape)" }.joined(separator: " ")
            let label = key.isEmpty ? module.typeName : "(\(key)): \(module.typeName)"
            lines.append(String(repeating: "  ", count: depth) + label + (own > 0 ? "  \(shapes)  \(own)" : ""))
            for (childKey, child) in module.namedChildren { visit(child, key: childKey, depth: depth + 1) }
        }
        visit(self, key: "", depth: 0)
        lines.append("parameters: \(parameterCount) (trainable \(trainableParameterCount))")
        return lines.joined(separator: "\n")
    }
}

/// A module that maps one tensor to one tensor: what ``Sequential`` chains.
public protocol UnaryLayer: Module {
    func callAsFunction(_ input: Tensor) -> Tensor
}

/// `patchEmbed` → `patch_embed`; digits are left alone (`bn1`, `layer4`).
public func snakeCased(_ name: String) -> String {
    var result = ""
    for character in name {
        if character.isUppercase {
            if !result.isEmpty { result.append("_") }
            result += character.lowercased()
        } else {
            result.append(character)
        }
    }
    return result
}
