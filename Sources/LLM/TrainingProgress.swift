// TrainingProgress — what a training run reports while it runs (a callback receives these events) and
// the records it keeps: one per optimizer step and one per evaluation. The records are part of every
// checkpoint, so a resumed run reports the whole history, not only what it trained itself.
import Foundation

/// One optimizer step, as recorded in the history (deterministic values only: no timings).
public struct TrainingStepRecord: Codable, Sendable, Equatable {
    /// Steps completed, counted from 1.
    public var step: Int
    /// Mean training loss over the step's micro-batches.
    public var loss: Double
    /// The learning rate this step's update used.
    public var learningRate: Double
    /// Global gradient norm before clipping.
    public var gradientNorm: Double
}

/// The mean loss on the held-out sequences after a step.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var loss: Double
    /// Held-out sequences the mean is over.
    public var sequences: Int
}

public enum TrainingProgress: Sendable {
    public struct Start: Sendable {
        public var totalSteps: Int
        /// 0 for a new run; the checkpoint's step for a resumed one.
        public var startStep: Int
        public var stepsPerEpoch: Int
        public var tokensPerStep: Int
        /// Elements of all trainable tensors.
        public var trainableParameters: Int
    }

    public struct Step: Sendable {
        public var record: TrainingStepRecord
        public var totalSteps: Int
        /// Epochs completed so far, fractional (1.5: halfway through the second).
        public var epoch: Double
        /// Training tokens per second of this step (forward, backward and update).
        public var tokensPerSecond: Double
        /// Wall time of this run so far (a resumed run counts from its resumption).
        public var elapsedSeconds: Double
        /// Estimated seconds to the last step, from the mean step time of this run.
        public var remainingSeconds: Double
    }

    case started(Start)
    case step(Step)
    case evaluated(EvaluationRecord)
    case checkpointed(step: Int, directory: URL)
}

/// What `Trainer.train` returns.
public struct TrainingResult: Sendable {
    /// Every step from the first, including those trained before a resumption.
    public var history: [TrainingStepRecord]
    public var evaluations: [EvaluationRecord]
    /// The checkpoint written after the last step.
    public var finalCheckpoint: URL
    /// Median tokens per second over the steps this run trained (nil when it trained none).
    public var medianTokensPerSecond: Double?
    /// Data-parallel ranks that trained together (1: one process); a step saw this many micro-batches.
    public var worldSize: Int = 1
}

extension TrainingProgress: CustomStringConvertible {
    /// One human line per event, e.g.
    /// `step 120/400  loss 2.3141  lr 1.87e-04  grad norm 0.912  1050 tokens/s  ETA 4m27s`.
    public var description: String {
        switch self {
        case .started(let start):
            let from = start.startStep > 0 ? "resuming at step \(start.startStep) of" : "training"
            return "\(from) \(start.totalSteps) steps, \(start.tokensPerStep) tokens each, "
                + "\(start.trainableParameters) trainable parameters"
        case .step(let step):
            return String(
                format: "step %d/%d  loss %.4f  lr %.2e  grad norm %.3f  %.0f tokens/s  ETA %@", step.record.step,
                step.totalSteps, step.record.loss, step.record.learningRate, step.record.gradientNorm, step.tokensPerSecond,
                Self.duration(step.remainingSeconds))
        case .evaluated(let record):
            return String(format: "step %d  held-out loss %.4f over %d sequences", record.step, record.loss, record.sequences)
        case .checkpointed(let step, let directory):
            return "step \(step)  checkpoint \(directory.path)"
        }
    }

    /// 4m27s, 1h03m, 12s.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole >= 3600 { return String(format: "%dh%02dm", whole / 3600, whole % 3600 / 60) }
        if whole >= 60 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
        return "\(whole)s"
    }
}
