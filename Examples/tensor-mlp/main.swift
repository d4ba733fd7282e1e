// tensor-mlp: trains a two-layer perceptron on a synthetic two-spiral problem with nothing but MedTensor's
// tensors and autograd, to show the pieces every model in the library is made of.
//
//   swift run -c release tensor-mlp
import Foundation
import MedTensor

var generator = RandomGenerator(seed: 2024)

// Two interleaved spirals, 200 points each: labels 0 and 1.
let pointsPerClass = 200
var coordinates: [Float] = []
var labels: [Float] = []
for label in 0..<2 {
    for i in 0..<pointsPerClass {
        let radius = Float(i) / Float(pointsPerClass) * 4 + 0.3
        let angle = Float(i) / Float(pointsPerClass) * 3 * .pi + Float(label) * .pi
        coordinates += [radius * cos(angle) + 0.05 * Float(generator.nextNormal()),
                        radius * sin(angle) + 0.05 * Float(generator.nextNormal())]
        labels.append(Float(label))
    }
}
let inputs = Tensor(shape: [2 * pointsPerClass, 2], scalars: coordinates) / 4
let targets = Tensor(shape: [2 * pointsPerClass, 1], scalars: labels)

// Parameters, initialised as PyTorch's nn.Linear does: U(-1/√fanIn, 1/√fanIn).
@MainActor func linearWeight(_ fanIn: Int, _ fanOut: Int) -> Tensor {
    let bound = 1 / Float(fanIn).squareRoot()
    return Tensor.uniform([fanIn, fanOut], low: -bound, high: bound, generator: &generator).requiringGrad()
}
let hidden = 64
let parameters = [linearWeight(2, hidden), Tensor.zeros([hidden]).requiringGrad(),
                  linearWeight(hidden, hidden), Tensor.zeros([hidden]).requiringGrad(),
                  linearWeight(hidden, 1), Tensor.zeros([1]).requiringGrad()]

@MainActor func logits(_ x: Tensor) -> Tensor {
    let h1 = (x.matmul(parameters[0]) + parameters[1]).relu()
    let h2 = (h1.matmul(parameters[2]) + parameters[3]).relu()
    return h2.matmul(parameters[4]) + parameters[5]
}

/// Binary cross-entropy with logits, computed stably: max(z,0) − z·y + log(1 + e^−|z|).
func binaryCrossEntropy(_ z: Tensor, _ y: Tensor) -> Tensor {
    (z.relu() - z * y + ((-z.abs()).exp() + 1).log()).mean()
}

// Adam, written out: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr·m̂/(√v̂ + ε).
let learningRate: Float = 0.01, beta1: Float = 0.9, beta2: Float = 0.999
var firstMoments = parameters.map { Tensor.zeros($0.shape) }
var secondMoments = parameters.map { Tensor.zeros($0.shape) }
for step in 1...600 {
    let loss = binaryCrossEntropy(logits(inputs), targets)
    for parameter in parameters { parameter.zeroGrad() }
    loss.backward()
    withoutGrad {
        for (index, parameter) in parameters.enumerated() {
            let gradient = parameter.grad!
            firstMoments[index] = firstMoments[index] * beta1 + gradient * (1 - beta1)
            secondMoments[index] = secondMoments[index] * beta2 + gradient.square() * (1 - beta2)
            let mHat = firstMoments[index] / (1 - pow(beta1, Float(step)))
            let vHat = secondMoments[index] / (1 - pow(beta2, Float(step)))
            parameter.assign(parameter - mHat / (vHat.sqrt() + 1e-8) * learningRate)
        }
    }
    if step % 100 == 0 || step == 1 {
        let predictions = withoutGrad { logits(inputs).gt(0) }
        let accuracy = predictions.eq(targets).mean().item
        print(String(format: "step %4d  loss %.4f  accuracy %.1f%%", step, loss.item, accuracy * 100))
    }
}
