// StageTraining — a Trainer run inside a stage attempt, shared by `pretrain-base` and `train`: the
// recipe's loop keys as a TrainingConfiguration, the checkpoint directory under the stage's resume
// directory (the same on every attempt, so a killed or cancelled stage continues from its newest
// checkpoint), progress lines, per-step metrics (`PREFIX/loss`, `PREFIX/lr`, `PREFIX/grad_norm`,
// `PREFIX/tokens_per_second`, `PREFIX/val_loss`) and cancellation between steps.
//
// Metrics are flushed to the run store before each checkpoint is written, so the recorded curve always
// reaches the step a resumed attempt continues from; steps after it are logged again by the resumed
// attempt (the store keeps the latest value per step).
import Foundation
import LLM
import Pipeline
import Stages
import Torch

enum StageTraining {
    static func configuration(_ loop: TrainingLoopParameters, gradientAccumulation: Int = 1) -> TrainingConfiguration {
        let schedule: TrainingConfiguration.Schedule = switch loop.schedule {
        case .constant: .constant
        case .cosine: .cosine
        case .linear: .linear
        }
        return TrainingConfiguration(
            sequenceLength: loop.seqLen, microBatchSize: loop.batchSize, gradientAccumulationSteps: gradientAccumulation,
            duration: .steps(loop.steps),
            optimizer: AdamW.Configuration(learningRate: loop.lr, weightDecay: loop.weightDecay),
            schedule: schedule, warmupSteps: loop.warmupSteps,
            // The schema documents decay "to 10% of lr by the last step".
            minimumLearningRateRatio: schedule == .constant ? 0 : 0.1,
            maxGradientNorm: loop.gradClip > 0 ? loop.gradClip : nil,
            evaluationInterval: loop.evalEvery > 0 ? loop.evalEvery : nil,
            checkpointInterval: loop.checkpointEvery > 0 ? loop.checkpointEvery : nil,
            checkpointsToKeep: 1, shuffleSeed: UInt64(loop.seed))
    }

    /// Trains `model` to the end, continuing from the newest checkpoint of an earlier attempt if there is
    /// one, and returns the result.
    static func run<Model: TrainableLanguageModel>(
        _ context: StageContext, model: Model, configuration: TrainingConfiguration, training: PackedTokens,
        evaluation: PackedTokens?, generators: [String: Generator], metricPrefix: String
    ) throws -> TrainingResult {
        let trainer = try Trainer(
            model: model, configuration: configuration, training: training, evaluation: evaluation,
            checkpointDirectory: context.resumeDirectory.appendingPathComponent("checkpoints", isDirectory: true),
            generators: generators)
        if let checkpoint = try trainer.resumeFromLatestCheckpoint() {
            context.log.info("continuing from \(checkpoint.lastPathComponent) (step \(trainer.step) of \(trainer.totalSteps))")
        }
        let logEvery = max(1, trainer.totalSteps / 100)
        return try trainer.train(progress: { event in
            switch event {
            case .started:
                context.log.info(event.description)
            case .step(let step):
                let record = step.record
                context.metrics.log([
                    "\(metricPrefix)/loss": record.loss, "\(metricPrefix)/lr": record.learningRate,
                    "\(metricPrefix)/grad_norm": record.gradientNorm, "\(metricPrefix)/tokens_per_second": step.tokensPerSecond,
                ], step: record.step)
                context.progress.report(step: record.step, total: step.totalSteps, loss: record.loss, tokensPerSecond: step.tokensPerSecond)
                if record.step % logEvery == 0 || record.step == step.totalSteps { context.log.info(event.description) }
                let checkpointsNext = record.step == step.totalSteps
                    || configuration.checkpointInterval.map { record.step % $0 == 0 } == true
                if checkpointsNext { flushMetrics(context) }
            case .evaluated(let evaluation):
                context.metrics.log("\(metricPrefix)/val_loss", evaluation.loss, step: evaluation.step)
                context.log.info(event.description)
            case .checkpointed:
                context.log.info(event.description)
            }
        }, checkCancellation: { try context.checkCancellation() })
    }

    private static func flushMetrics(_ context: StageContext) {
        do {
            try context.metrics.flush()
        } catch {
            context.log.warning("metrics could not be written before the checkpoint: \(error)")
        }
    }
}
