// OptimSchedule — learning-rate schedules as pure functions of the optimizer step, with Hugging Face
// transformers' semantics (get_constant_schedule_with_warmup, get_cosine_with_min_lr_schedule_with_warmup,
// get_linear_schedule_with_warmup): the update after `step` earlier updates uses base × factor(step),
// so the first update of a warmup schedule uses factor 0, exactly as there. A schedule has no state
// besides the step, so resuming needs only the step count.
import Foundation

public enum LearningRateSchedule: Codable, Sendable, Equatable {
    /// Linear warmup from 0 over `warmupSteps`, then constant.
    case constant(warmupSteps: Int = 0)
    /// Linear warmup, then half a cosine from 1 down to `minRatio` at `totalSteps` (and `minRatio` after).
    case cosine(warmupSteps: Int, totalSteps: Int, minRatio: Double = 0)
    /// Linear warmup, then a straight line from 1 down to `minRatio` at `totalSteps` (and `minRatio` after).
    case linear(warmupSteps: Int, totalSteps: Int, minRatio: Double = 0)

    /// The multiplier of the base learning rate for the update after `step` earlier updates.
    public func factor(atStep step: Int) -> Double {
        switch self {
        case .constant(let warmup):
            return step < warmup ? Double(step) / Double(Swift.max(1, warmup)) : 1
        case .cosine(let warmup, let total, let minRatio):
            if step < warmup { return Double(step) / Double(Swift.max(1, warmup)) }
            let progress = Swift.min(1, Double(step - warmup) / Double(Swift.max(1, total - warmup)))
            let cosine = 0.5 * (1 + Foundation.cos(Double.pi * progress))
            return Swift.max(0, cosine * (1 - minRatio) + minRatio)
        case .linear(let warmup, let total, let minRatio):
            if step < warmup { return Double(step) / Double(Swift.max(1, warmup)) }
            let remaining = Swift.max(0, Double(total - step) / Double(Swift.max(1, total - warmup)))
            return remaining * (1 - minRatio) + minRatio
        }
    }

    /// base × factor(atStep: step).
    public func learningRate(base: Double, atStep step: Int) -> Double {
        base * factor(atStep: step)
    }
}
