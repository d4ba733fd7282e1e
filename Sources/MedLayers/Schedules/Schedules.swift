import Foundation

/// A learning rate as a function of the epoch (or step) index t.
public protocol LearningRateSchedule: Sendable {
    func learningRate(at t: Int) -> Float
}

/// timm's `CosineLRScheduler` (one cycle): lr(t) = lrMin + ½(base − lrMin)(1 + cos(π·t/tInitial)) for
/// t < tInitial, lrMin after; during `warmupT` steps, a linear ramp from `warmupLRInit`.
///
/// The MedMNIST+ paper calls `scheduler.step(epoch)` after each epoch, so epoch e (0-based) trains with
/// lr(max(e − 1, 0)): epochs 0 and 1 both use the base rate. ``learningRateForPaperEpoch(_:)`` gives that.
public struct CosineSchedule: LearningRateSchedule {
    public var baseLR: Float
    public var tInitial: Int
    public var lrMin: Float
    public var warmupT: Int
    public var warmupLRInit: Float

    public init(baseLR: Float, tInitial: Int, lrMin: Float = 0, warmupT: Int = 0, warmupLRInit: Float = 0) {
        precondition(tInitial > 0, "CosineSchedule: tInitial must be positive")
        self.baseLR = baseLR
        self.tInitial = tInitial
        self.lrMin = lrMin
        self.warmupT = warmupT
        self.warmupLRInit = warmupLRInit
    }

    public func learningRate(at t: Int) -> Float {
        if t < warmupT { return warmupLRInit + Float(t) * (baseLR - warmupLRInit) / Float(warmupT) }
        guard t < tInitial else { return lrMin }
        // timm computes in Python floats (Float64); round once at the end.
        let cosine = 0.5 * (1 + cos(Double.pi * Double(t) / Double(tInitial)))
        return Float(Double(lrMin) + (Double(baseLR) - Double(lrMin)) * cosine)
    }

    /// The rate the paper's training loop uses during 0-based epoch `epoch`.
    public func learningRateForPaperEpoch(_ epoch: Int) -> Float { learningRate(at: max(epoch - 1, 0)) }
}

/// lr = base · γ^⌊t / stepSize⌋ (PyTorch's `StepLR`).
public struct StepSchedule: LearningRateSchedule {
    public var baseLR: Float, stepSize: Int, gamma: Float
    public init(baseLR: Float, stepSize: Int, gamma: Float = 0.1) {
        precondition(stepSize > 0, "StepSchedule: stepSize must be positive")
        self.baseLR = baseLR; self.stepSize = stepSize; self.gamma = gamma
    }
    public func learningRate(at t: Int) -> Float { baseLR * Float(pow(Double(gamma), Double(t / stepSize))) }
}

/// lr = base · γ^(number of milestones ≤ t) (PyTorch's `MultiStepLR`).
public struct MultiStepSchedule: LearningRateSchedule {
    public var baseLR: Float, milestones: [Int], gamma: Float
    public init(baseLR: Float, milestones: [Int], gamma: Float = 0.1) {
        self.baseLR = baseLR; self.milestones = milestones.sorted(); self.gamma = gamma
    }
    public func learningRate(at t: Int) -> Float {
        baseLR * Float(pow(Double(gamma), Double(milestones.filter { $0 <= t }.count)))
    }
}

/// A linear ramp from `startLR` to the wrapped schedule's value over `warmupSteps`, then the schedule.
public struct LinearWarmup<Base: LearningRateSchedule>: LearningRateSchedule {
    public var base: Base, warmupSteps: Int, startLR: Float
    public init(_ base: Base, warmupSteps: Int, startLR: Float = 0) {
        self.base = base; self.warmupSteps = warmupSteps; self.startLR = startLR
    }
    public func learningRate(at t: Int) -> Float {
        guard t < warmupSteps else { return base.learningRate(at: t) }
        let target = base.learningRate(at: warmupSteps)
        return startLR + (target - startLR) * Float(t) / Float(warmupSteps)
    }
}
