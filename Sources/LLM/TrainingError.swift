// TrainingError — why a training run stopped or refused to start, each message naming what was wrong,
// where, and what was expected.
import Foundation

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A configuration field out of range.
    case invalidConfiguration(key: String, expected: String, found: String)
    /// The training tokens make fewer sequences than one optimizer step needs.
    case notEnoughSequences(sequences: Int, sequencesPerStep: Int, microBatchSize: Int, gradientAccumulationSteps: Int)
    /// The model offers nothing to train.
    case noTrainableParameters
    /// A micro-batch's loss was NaN or infinite; training stopped before updating anything, and the last
    /// checkpoint written (if any) is intact.
    case nonFiniteLoss(step: Int, microBatch: Int, loss: Float, lastCheckpoint: URL?)
    /// The gradients of a step were not finite (the loss was); nothing was updated.
    case nonFiniteGradient(step: Int, norm: Double, lastCheckpoint: URL?)
    /// A checkpoint that cannot be resumed from: missing, unreadable, or malformed.
    case invalidCheckpoint(file: URL, key: String, expected: String, found: String)
    /// A checkpoint could not be written (the previous one is left in place).
    case checkpointWrite(path: String, reason: String)
    /// A checkpoint written by a run that computes something else (other data or configuration).
    case checkpointMismatch(checkpoint: URL, key: String, checkpointValue: String, currentValue: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let key, let expected, let found):
            return "training configuration: \(key) must be \(expected), got \(found)"
        case .notEnoughSequences(let sequences, let perStep, let batch, let accumulation):
            return "the training tokens make \(sequences) sequences, but one step needs \(perStep) "
                + "(microBatchSize \(batch) × gradientAccumulationSteps \(accumulation))"
        case .noTrainableParameters:
            return "the model has no trainable parameters"
        case .nonFiniteLoss(let step, let microBatch, let loss, let checkpoint):
            return "training stopped: the loss is \(loss) at step \(step) (micro-batch \(microBatch)); "
                + Self.describe(checkpoint)
        case .nonFiniteGradient(let step, let norm, let checkpoint):
            return "training stopped: the gradient norm is \(norm) at step \(step); " + Self.describe(checkpoint)
        case .invalidCheckpoint(let file, let key, let expected, let found):
            return "\(file.path): \(key) must be \(expected), found \(found)"
        case .checkpointWrite(let path, let reason):
            return "cannot write checkpoint \(path): \(reason)"
        case .checkpointMismatch(let checkpoint, let key, let saved, let current):
            return "\(checkpoint.path): the checkpoint was written with \(key) = \(saved), this run has \(current); "
                + "resuming would not continue the same run"
        }
    }

    private static func describe(_ checkpoint: URL?) -> String {
        checkpoint.map { "the last good checkpoint is \($0.path)" } ?? "no checkpoint was written before it"
    }
}
