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
    /// one, and returns the result. On a CUDA `device` each step also reports the peak device memory
    /// (`<prefix>/peak_device_mb`), and running out of it is an error that says what to lower.
    static func run<Model: TrainableLanguageModel>(
        _ context: StageContext, model: Model, configuration: TrainingConfiguration, training: any TrainingSequences,
        evaluation: (any TrainingSequences)?, generators: [String: Generator], metricPrefix: String, device: Device = .cpu,
        maskPackedDocuments: Bool = false, ranks: DataParallelRanks? = nil
    ) throws -> TrainingResult {
        do {
            let group = try ranks?.group(device: device)
            let result = try train(context, model: model, configuration: configuration, training: training, evaluation: evaluation,
                                   generators: generators, metricPrefix: metricPrefix, device: device, maskPackedDocuments: maskPackedDocuments,
                                   group: group)
            try ranks?.finish()
            return result
        } catch let error as TorchError where Self.isOutOfMemory(error) {
            throw OutOfMemoryError(description: Self.outOfMemoryAdvice(
                error, stage: context.stage, configuration: configuration, device: device, adapter: metricPrefix == "train"))
        } catch {
            // A collective that failed because a rank this process started died says which one.
            throw ranks?.explain(error) ?? error
        }
    }

    /// libtorch's out-of-memory errors (CUDA's caching allocator, or a CPU allocation that failed).
    static func isOutOfMemory(_ error: TorchError) -> Bool {
        error.message.contains("out of memory") || error.message.contains("DefaultCPUAllocator: can't allocate memory")
    }

    /// What a person needs when a step does not fit: which stage, the batch shape, and what to lower.
    /// `adapter`: the `train` kind, whose recipe can also ask for checkpointing, bf16 or QLoRA.
    static func outOfMemoryAdvice(
        _ error: TorchError, stage: String, configuration: TrainingConfiguration, device: Device, adapter: Bool
    ) -> String {
        let shape = "batch_size \(configuration.microBatchSize) × seq_len \(configuration.sequenceLength)"
        let firstLine = error.message.split(separator: "\n").first.map(String.init) ?? error.message
        let lower = adapter
            ? "lower batch_size (raise grad_accum to keep the effective batch) or seq_len, set gradient_checkpointing: true, use dtype: bfloat16, or method: qlora"
            : "lower batch_size or seq_len, or the model's size"
        return "stage \(stage) ran out of memory on \(device) at \(shape) (\(firstLine)); \(lower)"
    }

    private static func train<Model: TrainableLanguageModel>(
        _ context: StageContext, model: Model, configuration: TrainingConfiguration, training: any TrainingSequences,
        evaluation: (any TrainingSequences)?, generators: [String: Generator], metricPrefix: String, device: Device,
        maskPackedDocuments: Bool, group: ProcessGroup?
    ) throws -> TrainingResult {
        let trainer = try Trainer(
            model: model, configuration: configuration, training: training, evaluation: evaluation,
            checkpointDirectory: context.resumeDirectory.appendingPathComponent("checkpoints", isDirectory: true),
            generators: generators, maskPackedDocuments: maskPackedDocuments, group: group)
        if let checkpoint = try trainer.resumeFromLatestCheckpoint() {
            context.log.info("continuing from \(checkpoint.lastPathComponent) (step \(trainer.step) of \(trainer.totalSteps))")
            for note in trainer.resumeNotes { context.log.warning(note) }
        }
        let logEvery = max(1, trainer.totalSteps / 100)
        return try trainer.train(progress: { event in
            switch event {
            case .started:
                context.log.info(event.description)
            case .step(let step):
                let record = step.record
                var values = [
                    "\(metricPrefix)/loss": record.loss, "\(metricPrefix)/lr": record.learningRate,
                    "\(metricPrefix)/grad_norm": record.gradientNorm, "\(metricPrefix)/tokens_per_second": step.tokensPerSecond,
                ]
                if case .cuda(let index) = device, let peak = try? TorchRuntime.cudaMemoryPeak(device: index) {
                    values["\(metricPrefix)/peak_device_mb"] = Double(peak.allocated) / 1_048_576
                }
                context.metrics.log(values, step: record.step)
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

/// A training step that did not fit in memory, said with what to lower (StageTraining.outOfMemoryAdvice).
struct OutOfMemoryError: Error, CustomStringConvertible {
    let description: String
}
