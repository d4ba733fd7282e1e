import Foundation

/// A learning rate as a function of the epoch (or step) index t.
public protocol LearningRateSchedule: Sendable {
    func learningRate(at t: Int) -> Float
}

/// timm's `CosineLRScheduler` with one cycle:
/// lr(t) = minimum + ½(base − minimum)(1 + cos(π·t/cycleLength)) for t < `cycleLength`, `minimum` after;
/// during the first `warmupLength` steps, a linear ramp from `warmupStart`.
///
/// timm's names: `baseLearningRate` is the optimizer's `lr`, `cycleLength` is `t_initial`, `minimum` is
/// `lr_min`, `warmupLength` is `warmup_t`, `warmupStart` is `warmup_lr_init`.
///
/// The MedMNIST+ paper calls `scheduler.step(epoch)` after each epoch, so epoch e (0-based) trains with
/// lr(max(e − 1, 0)): epochs 0 and 1 both use the base rate. ``learningRateForPaperEpoch(_:)`` gives that.
public struct CosineSchedule: LearningRateSchedule, Equatable {
    public var baseLearningRate: Float
    public var cycleLength: Int
    public var minimum: Float
    public var warmupLength: Int
    public var warmupStart: Float

    /// A cosine decay from `baseLearningRate` to `minimum` over `cycleLength` steps (at least 1), after an
    /// optional linear warm-up.
    public init(baseLearningRate: Float, cycleLength: Int, minimum: Float = 0, warmupLength: Int = 0, warmupStart: Float = 0) {
        precondition(cycleLength > 0, "CosineSchedule: cycleLength must be positive")
        self.baseLearningRate = baseLearningRate
        self.cycleLength = cycleLength
        self.minimum = minimum
        self.warmupLength = warmupLength
        self.warmupStart = warmupStart
    }

    public func learningRate(at t: Int) -> Float {
        if t < warmupLength {
            return warmupStart + Float(t) * (baseLearningRate - warmupStart) / Float(warmupLength)
        }
        guard t < cycleLength else { return minimum }
        // timm computes in Python floats (Float64); round once at the end.
        let cosine = 0.5 * (1 + cos(Double.pi * Double(t) / Double(cycleLength)))
        return Float(Double(minimum) + (Double(baseLearningRate) - Double(minimum)) * cosine)
    }

    /// The rate the paper's training loop uses during 0-based epoch `epoch`.
    public func learningRateForPaperEpoch(_ epoch: Int) -> Float { learningRate(at: max(epoch - 1, 0)) }
}

/// lr = base · γ^⌊t / stepSize⌋ (PyTorch's `StepLR`).
public struct StepSchedule: LearningRateSchedule, Equatable {
    public var baseLearningRate: Float, stepSize: Int, gamma: Float
    public init(baseLearningRate: Float, stepSize: Int, gamma: Float = 0.1) {
        precondition(stepSize > 0, "StepSchedule: stepSize must be positive")
        self.baseLearningRate = baseLearningRate; self.stepSize = stepSize; self.gamma = gamma
    }
    public func learningRate(at t: Int) -> Float {
        baseLearningRate * Float(pow(Double(gamma), Double(t / stepSize)))
    }
}

/// lr = base · γ^(number of milestones ≤ t) (PyTorch's `MultiStepLR`).
public struct MultiStepSchedule: LearningRateSchedule, Equatable {
    public var baseLearningRate: Float, milestones: [Int], gamma: Float
    public init(baseLearningRate: Float, milestones: [Int], gamma: Float = 0.1) {
        self.baseLearningRate = baseLearningRate; self.milestones = milestones.sorted(); self.gamma = gamma
    }
    public func learningRate(at t: Int) -> Float {
        baseLearningRate * Float(pow(Double(gamma), Double(milestones.filter { $0 <= t }.count)))
    }
}

/// A linear ramp from `start` to the wrapped schedule's value over `warmupSteps`, then the schedule.
public struct LinearWarmup<Base: LearningRateSchedule>: LearningRateSchedule {
    public var base: Base, warmupSteps: Int, start: Float
    public init(_ base: Base, warmupSteps: Int, start: Float = 0) {
        self.base = base; self.warmupSteps = warmupSteps; self.start = start
    }
    public func learningRate(at t: Int) -> Float {
        guard t < warmupSteps else { return base.learningRate(at: t) }
        let target = base.learningRate(at: warmupSteps)
        return start + (target - start) * Float(t) / Float(warmupSteps)
    }
}
