// TrainingLoopParameters — the optimizer-loop keys `pretrain-base` and `train` share (steps, batch,
// sequence length, AdamW learning rate and schedule, warmup, weight decay, clipping, eval and
// checkpoint intervals, seed, device): one schema builder with per-kind defaults, and one decoded value.
import Foundation
import Pipeline

/// How the learning rate moves after warmup.
public enum LearningRateSchedule: String, Decodable, Sendable, CaseIterable {
    case constant, cosine, linear
}

public struct TrainingLoopParameters: Decodable, Sendable, Equatable {
    public var steps: Int
    public var batchSize: Int
    public var seqLen: Int
    public var lr: Double
    public var schedule: LearningRateSchedule
    public var warmupSteps: Int
    public var weightDecay: Double
    public var gradClip: Double
    public var evalEvery: Int
    public var checkpointEvery: Int
    public var seed: Int
    /// auto, cpu, cuda or cuda:N (DeviceParameter; not in the fingerprint).
    public var device: String
    /// Data-parallel ranks (each takes batch_size sequences of every step).
    public var processes: Int
    /// Seconds a rank waits for the others (rendezvous, each collective) before the stage fails.
    public var groupTimeout: Double

    /// The defaults one kind gives these keys, and how its metrics are prefixed (`pretrain`, `train`).
    struct Defaults {
        var metricPrefix: String
        var batchSizeDoc: String
        var steps = 1000
        var batchSize: Int
        var seqLen: Int
        var lr: Double
        var warmupSteps: Int
        var weightDecay: Double
        var evalEvery: Int
        var checkpointEvery: Int
    }

    static func specs(_ defaults: Defaults) -> [ParamSpec] {
        [
            .int("steps", default: defaults.steps, minimum: 1, doc: "optimizer steps"),
            .int("batch_size", default: defaults.batchSize, range: 1...65536, doc: defaults.batchSizeDoc),
            .int("seq_len", default: defaults.seqLen, range: 8...131_072, doc: "tokens per training sequence"),
            .float("lr", default: defaults.lr, range: ParamRange(minimum: 0, maximum: 1, exclusiveMinimum: true), doc: "peak learning rate (AdamW)"),
            .choice("schedule", LearningRateSchedule.allCases.map(\.rawValue), default: LearningRateSchedule.cosine.rawValue,
                    doc: "learning rate after warmup: constant, or decaying to 10% of lr by the last step (cosine, linear)"),
            .int("warmup_steps", default: defaults.warmupSteps, minimum: 0, doc: "steps of linear warmup from 0 to lr; at most steps"),
            .float("weight_decay", default: defaults.weightDecay, range: ParamRange(minimum: 0, maximum: 1), doc: "AdamW weight decay (not applied to norms)"),
            .float("grad_clip", default: 1.0, range: ParamRange(minimum: 0), doc: "clip the global gradient norm to this (0: no clipping)"),
            .int("eval_every", default: defaults.evalEvery, minimum: 0,
                 doc: "steps between held-out losses (\(defaults.metricPrefix)/val_loss) (0: only after the last step)"),
            .int("checkpoint_every", default: defaults.checkpointEvery, minimum: 0,
                 doc: "steps between checkpoints (weights, optimizer, RNG, data position) in the resume directory (0: none; a killed stage starts over)"),
            .int("seed", default: 0, minimum: 0, doc: "seeds initialisation, dropout and batch order"),
            DeviceParameter.spec,
            .int("processes", default: 1, range: 1...1024,
                 doc: "data-parallel ranks: N processes on this node (Gloo on the CPU, NCCL on CUDA, one GPU each), or the ranks srun/torchrun started; batch_size is per rank, so a step sees N × batch_size sequences"),
            .float("group_timeout", default: 600, range: ParamRange(minimum: 1, maximum: 86_400),
                   doc: "seconds a rank waits for the others (rendezvous, every all-reduce) before the stage fails: a rank that died fails the stage instead of hanging it")
                .notFingerprinted(),
        ]
    }

    func validate() throws {
        try DeviceParameter.check(device)
        guard warmupSteps <= steps else {
            throw ParameterConstraintError("warmup_steps", "\(warmupSteps) is more than steps (\(steps))")
        }
    }
}
