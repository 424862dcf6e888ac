// TrainingConfiguration — everything that decides what a training run computes: sequence length, batch
// shape, duration, optimizer, learning-rate schedule, clipping, evaluation and checkpoint cadence, and
// the shuffle seed. A checkpoint stores it, and resuming with a configuration that would compute
// something else is refused.
import Foundation
import Torch

public struct TrainingConfiguration: Codable, Sendable, Equatable {
    /// How long to train.
    public enum Duration: Codable, Sendable, Equatable {
        /// Exactly this many optimizer steps (the data is cycled through as many epochs as needed).
        case steps(Int)
        /// This many passes over the training sequences.
        case epochs(Int)
    }

    /// The shape of the learning rate over the run, after `warmupSteps` of linear warmup from 0
    /// (transformers' constant / cosine / linear schedules with warmup).
    public enum Schedule: String, Codable, Sendable, CaseIterable {
        case constant, cosine, linear
    }

    /// Tokens per sequence (packed windows of the token stream).
    public var sequenceLength: Int
    /// Sequences per forward/backward pass.
    public var microBatchSize: Int
    /// Micro-batches whose gradients are averaged into one optimizer step.
    public var gradientAccumulationSteps: Int
    public var duration: Duration
    /// AdamW's learning rate (the schedule's peak), betas, epsilon and weight decay.
    public var optimizer: AdamW.Configuration
    public var schedule: Schedule
    public var warmupSteps: Int
    /// The schedule's floor as a fraction of the peak (cosine and linear end there).
    public var minimumLearningRateRatio: Double
    /// Clip the global gradient norm to this before each step; nil: no clipping.
    public var maxGradientNorm: Double?
    /// Evaluate on the held-out tokens every this many steps (and after the last); nil: only after the last.
    public var evaluationInterval: Int?
    /// At most this many micro-batches per evaluation; nil: all held-out sequences.
    public var evaluationBatches: Int?
    /// Checkpoint every this many steps (and always after the last); nil: only after the last.
    public var checkpointInterval: Int?
    /// Completed checkpoints kept on disk (the newest ones).
    public var checkpointsToKeep: Int
    /// Seeds the shuffle of the training sequences.
    public var shuffleSeed: UInt64

    public init(
        sequenceLength: Int, microBatchSize: Int, gradientAccumulationSteps: Int = 1, duration: Duration,
        optimizer: AdamW.Configuration = AdamW.Configuration(learningRate: 2e-4, weightDecay: 0),
        schedule: Schedule = .cosine, warmupSteps: Int = 0, minimumLearningRateRatio: Double = 0,
        maxGradientNorm: Double? = 1.0, evaluationInterval: Int? = nil, evaluationBatches: Int? = nil,
        checkpointInterval: Int? = nil, checkpointsToKeep: Int = 1, shuffleSeed: UInt64 = 0
    ) {
        self.sequenceLength = sequenceLength
        self.microBatchSize = microBatchSize
        self.gradientAccumulationSteps = gradientAccumulationSteps
        self.duration = duration
        self.optimizer = optimizer
        self.schedule = schedule
        self.warmupSteps = warmupSteps
        self.minimumLearningRateRatio = minimumLearningRateRatio
        self.maxGradientNorm = maxGradientNorm
        self.evaluationInterval = evaluationInterval
        self.evaluationBatches = evaluationBatches
        self.checkpointInterval = checkpointInterval
        self.checkpointsToKeep = checkpointsToKeep
        self.shuffleSeed = shuffleSeed
    }

    /// Sequences one optimizer step trains on.
    public var sequencesPerStep: Int { microBatchSize * gradientAccumulationSteps }
    /// Tokens one optimizer step trains on.
    public var tokensPerStep: Int { sequencesPerStep * sequenceLength }

    /// Throws `TrainingError.invalidConfiguration` naming the first field out of range.
    public func validate() throws {
        func require(_ condition: Bool, _ key: String, _ expected: String, _ found: Any) throws {
            if !condition { throw TrainingError.invalidConfiguration(key: key, expected: expected, found: "\(found)") }
        }
        try require(sequenceLength >= 2, "sequenceLength", "at least 2", sequenceLength)
        try require(microBatchSize >= 1, "microBatchSize", "at least 1", microBatchSize)
        try require(gradientAccumulationSteps >= 1, "gradientAccumulationSteps", "at least 1", gradientAccumulationSteps)
        switch duration {
        case .steps(let steps): try require(steps >= 1, "duration.steps", "at least 1", steps)
        case .epochs(let epochs): try require(epochs >= 1, "duration.epochs", "at least 1", epochs)
        }
        try require(optimizer.learningRate > 0 && optimizer.learningRate.isFinite, "optimizer.learningRate", "a positive number", optimizer.learningRate)
        try require(warmupSteps >= 0, "warmupSteps", "at least 0", warmupSteps)
        try require((0...1).contains(minimumLearningRateRatio), "minimumLearningRateRatio", "between 0 and 1", minimumLearningRateRatio)
        if let maxGradientNorm { try require(maxGradientNorm > 0, "maxGradientNorm", "a positive number or none", maxGradientNorm) }
        if let evaluationInterval { try require(evaluationInterval >= 1, "evaluationInterval", "at least 1 or none", evaluationInterval) }
        if let evaluationBatches { try require(evaluationBatches >= 1, "evaluationBatches", "at least 1 or none", evaluationBatches) }
        if let checkpointInterval { try require(checkpointInterval >= 1, "checkpointInterval", "at least 1 or none", checkpointInterval) }
        try require(checkpointsToKeep >= 1, "checkpointsToKeep", "at least 1", checkpointsToKeep)
    }

    /// The learning-rate schedule of a run of `totalSteps` steps.
    func learningRateSchedule(totalSteps: Int) -> LearningRateSchedule {
        switch schedule {
        case .constant: .constant(warmupSteps: warmupSteps)
        case .cosine: .cosine(warmupSteps: warmupSteps, totalSteps: totalSteps, minRatio: minimumLearningRateRatio)
        case .linear: .linear(warmupSteps: warmupSteps, totalSteps: totalSteps, minRatio: minimumLearningRateRatio)
        }
    }
}

extension TrainingConfiguration.Duration {
    private enum CodingKeys: String, CodingKey { case steps, epochs }

    /// `{"steps": 200}` or `{"epochs": 3}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let steps = try container.decodeIfPresent(Int.self, forKey: .steps) {
            self = .steps(steps)
        } else if let epochs = try container.decodeIfPresent(Int.self, forKey: .epochs) {
            self = .epochs(epochs)
        } else {
            throw DecodingError.keyNotFound(CodingKeys.steps, .init(codingPath: decoder.codingPath, debugDescription: "a duration needs 'steps' or 'epochs'"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .steps(let steps): try container.encode(steps, forKey: .steps)
        case .epochs(let epochs): try container.encode(epochs, forKey: .epochs)
        }
    }
}
