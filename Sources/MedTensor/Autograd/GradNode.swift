/// One vertex of the autograd graph: the op that produced a tensor, its differentiable inputs, and the
/// closure that turns the gradient of the output into gradients of the inputs.
///
/// The closure never captures the output tensor with its node (that would be a reference cycle); ops
/// that need their output capture a detached copy. Non-leaf nodes drop their closure as soon as it has
/// run, which releases the activations it saved.
final class GradNode {
    typealias Backward = (Tensor) -> [Tensor?]

    let name: String
    let shape: [Int]
    /// Inputs in the op's argument order; nil where the input needs no gradient.
    let inputs: [GradNode?]
    var backward: Backward?
    /// For leaves: the accumulated gradient. For interior nodes: the gradient being gathered during a pass.
    var grad: Tensor?
    var isLeaf: Bool { backward == nil && inputs.isEmpty }

    init(name: String, shape: [Int], inputs: [GradNode?], backward: Backward?) {
        self.name = name
        self.shape = shape
        self.inputs = inputs
        self.backward = backward
    }

    func accumulate(_ gradient: Tensor) {
        precondition(gradient.shape == shape,
                     "autograd: '\(name)' received a gradient of shape \(gradient.shape) for a value of shape \(shape)")
        let incoming = gradient.detached()
        grad = grad.map { $0 + incoming } ?? incoming
    }
}

/// Whether ops record the autograd graph. Task-local, so a no-grad scope in one task does not affect another.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording gradients: for evaluation, feature extraction and optimizer updates.
public func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// True when gradients flow back through this tensor.
    public var requiresGrad: Bool { node != nil }

    /// This tensor as a leaf of the graph whose gradient accumulates in ``grad``.
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        Tensor(storage: storage, layout: layout,
               node: flag ? GradNode(name: "leaf", shape: shape, inputs: [], backward: nil) : nil)
    }

    /// The same values with no gradient history (shares storage).
    public func detached() -> Tensor { Tensor(storage: storage, layout: layout, node: nil) }

    /// The gradient accumulated on this leaf by ``backward(_:)``, or nil before any. Setting it replaces
    /// the gradient (for clipping); it must have this tensor's shape.
    public var grad: Tensor? {
        get { node?.grad }
        nonmutating set {
            precondition(newValue == nil || newValue!.shape == shape, "grad: shape \(newValue!.shape) differs from \(shape)")
            node?.grad = newValue?.detached()
        }
    }

    /// Clears the accumulated gradient of this leaf.
    public func zeroGrad() { node?.grad = nil }

    /// The op that produced this tensor ("leaf" for parameters), for debugging graphs.
    public var gradFunctionName: String? { node?.name }

    /// Builds the result of a differentiable op (for code that defines new ops, such as fused layers):
    /// attaches a graph node when gradient mode is on and an input needs it.
    /// `backward` gets the gradient of `result` and returns one gradient per input (nil where not needed),
    /// each with that input's shape.
    public static func record(_ result: Tensor, _ name: String, inputs: [Tensor],
                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return result }
        let node = GradNode(name: name, shape: result.shape, inputs: inputs.map { $0.node }, backward: backward)
        return Tensor(storage: result.storage, layout: result.layout, node: node)
    }

    /// Reverse-mode differentiation from this tensor. Without `seed` the tensor must hold one element and
    /// the seed is 1. Gradients accumulate on leaves until ``zeroGrad()``. The graph is consumed: saved
    /// activations are released as each node runs, so a second `backward` through it is an error.
    public func backward(_ seed: Tensor? = nil) {
        guard let root = node else {
            preconditionFailure("backward: this tensor does not require a gradient")
        }
        let start = seed ?? {
            precondition(count == 1, "backward: implicit seed needs a single-element tensor, not shape \(shape)")
            return Tensor.ones(shape)
        }()
        precondition(start.shape == shape, "backward: seed shape \(start.shape) differs from \(shape)")

        let order = topologicalOrder(from: root)
        root.accumulate(start)
        for current in order.reversed() {
            guard let gradient = current.grad, !current.inputs.isEmpty else { continue }
            guard let backward = current.backward else {
                preconditionFailure("backward: '\(current.name)' was already differentiated; its graph is consumed")
            }
            current.backward = nil
            current.grad = nil
            let inputGradients = withoutGrad { backward(gradient) }
            precondition(inputGradients.count == current.inputs.count, "autograd: '\(current.name)' returned \(inputGradients.count) gradients for \(current.inputs.count) inputs")
            for (input, inputGradient) in zip(current.inputs, inputGradients) {
                if let input, let inputGradient { input.accumulate(inputGradient) }
            }
        }
    }
}

/// Nodes reachable from `root`, every node after all of its inputs. Iterative: DenseNet and
/// EfficientNet graphs are deeper than the call stack would allow.
private func topologicalOrder(from root: GradNode) -> [GradNode] {
    var order: [GradNode] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(node: GradNode, nextInput: Int)] = [(root, 0)]
    visited.insert(ObjectIdentifier(root))
    while !stack.isEmpty {
        let (node, nextInput) = stack[stack.count - 1]
        if nextInput < node.inputs.count {
            stack[stack.count - 1].nextInput += 1
            if let input = node.inputs[nextInput], visited.insert(ObjectIdentifier(input)).inserted {
                stack.append((input, 0))
            }
        } else {
            order.append(node)
            stack.removeLast()
        }
    }
    return order
}
