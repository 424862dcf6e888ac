// Trainer — the training loop for any TrainableLanguageModel (LoRA/QLoRA fine-tuning or pretraining a
// tiny base): shuffled packed sequences, micro-batches with gradient accumulation, AdamW with a
// learning-rate schedule and gradient-norm clipping, periodic evaluation on held-out tokens, progress
// events, and atomic checkpoints from which a fresh Trainer continues bit for bit as if never stopped.
//
// Data parallel: given a ProcessGroup of N ranks, each optimizer step draws N times the configuration's
// sequences; rank r computes the r-th micro-batch of every N, the gradients are averaged over the ranks
// after backward (one all-reduce) and every rank applies the same update, so N ranks of micro-batch b
// step like one process of micro-batch N·b. Evaluation batches are shared out between the ranks. Rank 0
// alone writes checkpoints; every rank resumes from the newest. A dead rank makes the others fail
// within the group's timeout.
//
// Determinism: everything random comes from state the checkpoint saves — the shuffle (ours) and the
// torch generators the caller names (the model's dropout…). A model must not draw from libtorch's
// global generator, whose state cannot be saved.
import Foundation
import LoomCore
import Torch

public final class Trainer<Model: TrainableLanguageModel> {
    public let model: Model
    public let configuration: TrainingConfiguration
    public let training: any TrainingSequences
    public let evaluation: (any TrainingSequences)?
    public let checkpoints: CheckpointStore
    /// The torch generators the model draws from, by name; their states are checkpointed.
    public let generators: [String: Generator]
    public let totalSteps: Int
    public let stepsPerEpoch: Int
    /// The data-parallel group this trainer is one rank of; nil for a single process.
    public let group: ProcessGroup?
    /// This trainer's rank and the number of ranks (0 and 1 without a group).
    public var rank: Int { group?.rank ?? 0 }
    public var worldSize: Int { group?.worldSize ?? 1 }
    /// What one optimizer step reads over all ranks.
    private var sequencesPerStep: Int { configuration.sequencesPerStep * worldSize }
    private var tokensPerStep: Int { configuration.tokensPerStep * worldSize }

    /// Optimizer steps completed (restored by `resume`).
    public private(set) var step = 0
    public private(set) var history: [TrainingStepRecord] = []
    public private(set) var evaluations: [EvaluationRecord] = []
    /// The newest checkpoint this trainer wrote or resumed from.
    public private(set) var lastCheckpoint: URL?
    /// What the last resume could not carry over exactly (a generator saved on another kind of device).
    public private(set) var resumeNotes: [String] = []

    private let optimizer: AdamW
    private let parameters: [Tensor]
    private let trainingDigest: String
    /// Rows that pack several documents keep them apart (attention, positions, the boundary's prediction).
    public let maskPackedDocuments: Bool
    private var order: TrainingDataOrder
    private var tokensTrained = 0
    private var lastCheckpointStep: Int?

    /// - Parameters:
    ///   - training: the packed training tokens (their sequence length must be the configuration's).
    ///   - evaluation: held-out tokens, packed the same way; evaluated every `evaluationInterval` steps.
    ///   - checkpointDirectory: where `checkpoint-<step>/` directories go.
    ///   - generators: every torch generator the model draws from, by a stable name.
    ///   - group: the data-parallel group, when this trainer is one of several ranks.
    public init(
        model: Model, configuration: TrainingConfiguration, training: any TrainingSequences, evaluation: (any TrainingSequences)? = nil,
        checkpointDirectory: URL, generators: [String: Generator] = [:], maskPackedDocuments: Bool = false, group: ProcessGroup? = nil
    ) throws {
        try configuration.validate()
        let sources: [(String, any TrainingSequences)] = [("training", training)] + (evaluation.map { [("evaluation", $0)] } ?? [])
        for (name, data) in sources
        where data.sequenceLength != configuration.sequenceLength {
            throw TrainingError.invalidConfiguration(
                key: "sequenceLength", expected: "the \(name) tokens' packing length \(data.sequenceLength)",
                found: "\(configuration.sequenceLength)")
        }
        let perStep = configuration.sequencesPerStep * (group?.worldSize ?? 1)
        guard training.sequenceCount >= perStep else {
            throw TrainingError.notEnoughSequences(
                sequences: training.sequenceCount, sequencesPerStep: perStep, microBatchSize: configuration.microBatchSize,
                gradientAccumulationSteps: configuration.gradientAccumulationSteps)
        }
        let trainable = model.trainableParameters
        guard !trainable.isEmpty else { throw TrainingError.noTrainableParameters }

        self.model = model
        self.configuration = configuration
        self.training = training
        self.evaluation = evaluation
        self.checkpoints = CheckpointStore(directory: checkpointDirectory)
        self.generators = generators
        self.group = group
        if let group, group.rank != 0 {
            // Each rank draws its own dropout masks, as each torchrun process seeds its own generators.
            for generator in generators.values { try generator.reseed(generator.seed &+ UInt64(group.rank) &* 0x9E37_79B9_7F4A_7C15) }
        }
        self.order = TrainingDataOrder(seed: configuration.shuffleSeed, sequenceCount: training.sequenceCount, sequencesPerStep: perStep)
        self.stepsPerEpoch = order.stepsPerEpoch
        switch configuration.duration {
        case .steps(let steps): totalSteps = steps
        case .epochs(let epochs): totalSteps = epochs * order.stepsPerEpoch
        }
        let withoutDecay = model.parametersWithoutWeightDecay
        self.optimizer = try AdamW(
            parameters: trainable.map { AdamW.Parameter(name: $0.name, tensor: $0.tensor, weightDecay: withoutDecay.contains($0.name) ? 0 : nil) },
            configuration: configuration.optimizer)
        self.parameters = trainable.map(\.tensor)
        // Every rank built the same model from the same seeds; rank 0's values make sure of it.
        if let group { try withNoGrad { try group.broadcast(trainable.map(\.tensor)) } }
        self.maskPackedDocuments = maskPackedDocuments
        // Masked and plain packing compute different losses of the same windows: a checkpoint of one does
        // not resume the other.
        self.trainingDigest = maskPackedDocuments ? Digest.sha256Hex("masked:" + training.digest) : training.digest
    }

    // MARK: training

    /// Trains from the current step (0, or where `resume` left it) to `totalSteps`, then writes the
    /// final checkpoint. `checkCancellation` is called before every step; when it throws, a checkpoint
    /// of the current step is written and its error rethrown. A NaN/Inf loss or gradient throws
    /// `TrainingError` at once, without checkpointing, so the last good checkpoint stays the newest.
    @discardableResult
    public func train(
        progress: (TrainingProgress) -> Void = { _ in }, checkCancellation: () throws -> Void = {}
    ) throws -> TrainingResult {
        let schedule = configuration.learningRateSchedule(totalSteps: totalSteps)
        progress(.started(.init(
            totalSteps: totalSteps, startStep: step, stepsPerEpoch: stepsPerEpoch, tokensPerStep: tokensPerStep,
            trainableParameters: parameters.reduce(0) { $0 + $1.count })))
        model.isTraining = true
        let runStart = DispatchTime.now().uptimeNanoseconds
        var stepSeconds: [Double] = []
        while step < totalSteps {
            do {
                try checkCancellation()
            } catch {
                try checkpointIfNeeded(progress)
                throw error
            }
            let stepStart = DispatchTime.now().uptimeNanoseconds
            let learningRate = schedule.learningRate(base: configuration.optimizer.learningRate, atStep: step)
            let record = try trainStep(learningRate: learningRate)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - stepStart) / 1e9
            stepSeconds.append(seconds)
            history.append(record)
            let meanSeconds = stepSeconds.reduce(0, +) / Double(stepSeconds.count)
            progress(.step(.init(
                record: record, totalSteps: totalSteps,
                epoch: Double(order.epoch) + Double(order.cursor) / Double(stepsPerEpoch * sequencesPerStep),
                tokensPerSecond: Double(tokensPerStep) / seconds,
                elapsedSeconds: Double(DispatchTime.now().uptimeNanoseconds - runStart) / 1e9,
                remainingSeconds: meanSeconds * Double(totalSteps - step))))

            let isLast = step == totalSteps
            if isLast || configuration.evaluationInterval.map({ step % $0 == 0 }) == true, let record = try evaluate() {
                evaluations.append(record)
                progress(.evaluated(record))
            }
            if isLast || configuration.checkpointInterval.map({ step % $0 == 0 }) == true {
                try checkpointIfNeeded(progress)
            }
        }
        try checkpointIfNeeded(progress)
        let sorted = stepSeconds.sorted()
        return TrainingResult(
            history: history, evaluations: evaluations, finalCheckpoint: lastCheckpoint!,
            medianTokensPerSecond: sorted.isEmpty ? nil : Double(tokensPerStep) / sorted[sorted.count / 2], worldSize: worldSize)
    }

    /// The mean loss of the sequences `rows` of `data`, their packed documents kept apart when asked.
    private func loss(_ data: any TrainingSequences, _ rows: some Collection<Int>) throws -> Tensor {
        let batch = try data.batch(rows)
        guard maskPackedDocuments else { return try model.loss(tokens: batch) }
        return try model.loss(tokens: batch, documentStarts: rows.map { data.documentStarts(window: $0) })
    }

    /// One optimizer step: forward/backward over each micro-batch (gradients accumulate), their mean
    /// (over the micro-batches, then over the ranks), clipping, the AdamW update.
    private func trainStep(learningRate: Double) throws -> TrainingStepRecord {
        let sequences = order.nextStep()
        let batchSize = configuration.microBatchSize
        let microBatches = configuration.gradientAccumulationSteps
        var lossSum = 0.0
        // A rank whose loss is not finite still joins the step's collectives (the others would wait for it
        // until the timeout); every rank then throws the same error.
        var nonFinite: (microBatch: Int, loss: Float)?
        for microBatch in 0..<microBatches {
            // Micro-batch m of the step spans worldSize·b sequences; this rank takes its b of them.
            let start = (microBatch * worldSize + rank) * batchSize
            let rows = sequences[start..<(start + batchSize)]
            let loss = try loss(training, rows)
            let value = try loss.scalar(Float.self)
            guard value.isFinite else {
                nonFinite = (microBatch + 1, value)
                break
            }
            try loss.backward()
            lossSum += Double(value)
        }
        if let group {
            let totals = try group.sum([lossSum, nonFinite == nil ? 0 : 1])
            if nonFinite == nil, totals[1] > 0 { nonFinite = (0, .nan) }
            lossSum = totals[0] / Double(worldSize)
        }
        if let nonFinite {
            try Gradients.clear(parameters)
            throw TrainingError.nonFiniteLoss(step: step + 1, microBatch: nonFinite.microBatch, loss: nonFinite.loss, lastCheckpoint: lastCheckpoint)
        }
        try group?.averageGradients(parameters)
        if microBatches > 1 { try Gradients.scale(parameters, by: 1 / Double(microBatches)) }
        let norm = try configuration.maxGradientNorm.map { try Gradients.clipNorm(parameters, maxNorm: $0) }
            ?? Gradients.totalNorm(parameters)
        guard norm.isFinite else {
            try Gradients.clear(parameters)
            throw TrainingError.nonFiniteGradient(step: step + 1, norm: norm, lastCheckpoint: lastCheckpoint)
        }
        optimizer.learningRate = learningRate
        try optimizer.step()
        try optimizer.zeroGrad()
        step += 1
        tokensTrained += tokensPerStep
        return TrainingStepRecord(step: step, loss: lossSum / Double(microBatches), learningRate: learningRate, gradientNorm: norm)
    }

    /// The mean loss over the held-out sequences (at most `evaluationBatches` micro-batches), with
    /// dropout off and no graph; nil without held-out tokens.
    public func evaluate() throws -> EvaluationRecord? {
        guard let evaluation else { return nil }
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        let batchSize = configuration.microBatchSize
        var batches = stride(from: 0, to: evaluation.sequenceCount, by: batchSize).map { $0..<min($0 + batchSize, evaluation.sequenceCount) }
        if let limit = configuration.evaluationBatches { batches = Array(batches.prefix(limit)) }
        var weightedSum = 0.0
        var sequences = 0
        try withNoGrad {
            // Ranks share the batches out (batch i to rank i mod N) and add up their sums.
            for (index, range) in batches.enumerated() where index % worldSize == rank {
                let loss = try self.loss(evaluation, Array(range)).scalar(Float.self)
                weightedSum += Double(loss) * Double(range.count)
                sequences += range.count
            }
        }
        if let group {
            let totals = try group.sum([weightedSum, Double(sequences)])
            weightedSum = totals[0]
            sequences = Int(totals[1])
        }
        return EvaluationRecord(step: step, loss: weightedSum / Double(sequences), sequences: sequences)
    }

    // MARK: checkpoints

    /// `cpu` or `cuda`: generators of one kind share a state format whatever the index.
    static func deviceKind(_ device: String) -> String { device.hasPrefix("cuda") ? "cuda" : device }

    /// Writes the checkpoint of the current step now (atomically) and returns its directory. Of several
    /// ranks only rank 0 writes (they all hold the same state); the others return where it is written.
    @discardableResult
    public func saveCheckpoint() throws -> URL {
        guard rank == 0 else {
            let url = checkpoints.url(step: step)
            lastCheckpoint = url
            lastCheckpointStep = step
            return url
        }
        let state = TrainerState(
            format: TrainerState.currentFormat, step: step, totalSteps: totalSteps, configuration: configuration,
            trainingSequences: training.sequenceCount, trainingDigest: trainingDigest, data: order.position,
            generators: try generators.mapValues { try Data($0.stateBytes()) },
            generatorDevices: generators.mapValues { $0.device.description }, tokensTrained: tokensTrained,
            history: history, evaluations: evaluations, worldSize: worldSize)
        let url = try checkpoints.write(step: step, keep: configuration.checkpointsToKeep) { directory in
            let trainable = directory.appendingPathComponent(TrainerState.trainableDirectory, isDirectory: true)
            try FileManager.default.createDirectory(at: trainable, withIntermediateDirectories: false)
            try model.saveTrainableState(to: trainable)
            try optimizer.saveState(to: directory)
            try state.write(checkpoint: directory)
        }
        lastCheckpoint = url
        lastCheckpointStep = step
        return url
    }

    private func checkpointIfNeeded(_ progress: (TrainingProgress) -> Void) throws {
        guard lastCheckpointStep != step else { return }
        let url = try saveCheckpoint()
        progress(.checkpointed(step: step, directory: url))
    }

    /// Restores the run from `checkpoint`: the model's trainable state, the optimizer, the data position,
    /// the generators, the step and the history. Refuses a checkpoint of other data or of a
    /// configuration that computes something else (evaluation and checkpoint cadence may differ).
    public func resume(from checkpoint: URL) throws {
        let state = try TrainerState.read(checkpoint: checkpoint)
        let file = checkpoint.appendingPathComponent(CheckpointStore.stateFile)
        func mismatch(_ key: String, _ saved: Any, _ current: Any) -> TrainingError {
            .checkpointMismatch(checkpoint: file, key: key, checkpointValue: "\(saved)", currentValue: "\(current)")
        }
        if let (key, saved, current) = Self.firstDifference(state.configuration, configuration) {
            throw mismatch(key, saved, current)
        }
        guard state.trainingSequences == training.sequenceCount else {
            throw mismatch("training_sequences", state.trainingSequences, training.sequenceCount)
        }
        guard state.trainingDigest == trainingDigest else {
            throw mismatch("training_digest", state.trainingDigest, trainingDigest)
        }
        guard state.totalSteps == totalSteps else { throw mismatch("total_steps", state.totalSteps, totalSteps) }
        // The data position counts sequences of N ranks' steps: another number of ranks reads other data.
        guard (state.worldSize ?? 1) == worldSize else { throw mismatch("world_size", state.worldSize ?? 1, worldSize) }
        guard Set(state.generators.keys) == Set(generators.keys) else {
            throw mismatch("generators", state.generators.keys.sorted(), generators.keys.sorted())
        }

        try model.loadTrainableState(from: checkpoint.appendingPathComponent(TrainerState.trainableDirectory, isDirectory: true))
        try optimizer.loadState(from: checkpoint)
        resumeNotes = []
        for (name, generator) in generators {
            let savedDevice = state.generatorDevices?[name] ?? "cpu"
            if rank != 0 {
                // The checkpoint holds rank 0's streams; another rank continues its own from the step.
                try generator.reseed(generator.seed &+ UInt64(state.step) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(rank))
            } else if Self.deviceKind(savedDevice) == Self.deviceKind(generator.device.description) {
                try generator.setState(bytes: [UInt8](state.generators[name]!))
            } else {
                // A checkpoint from another kind of device: its generator state cannot be taken over. The
                // run continues from the same step, optimizer state and data position; this generator is
                // reseeded from the step, so the continuation is deterministic but not bit-identical.
                try generator.reseed(UInt64(state.step) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(name.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }))
                resumeNotes.append("the \(name) generator's state was saved on \(savedDevice) and cannot be restored on \(generator.device): reseeded from step \(state.step) (the run continues from the same step, optimizer state and data position, but not bit for bit)")
            }
        }
        order = TrainingDataOrder(position: state.data, sequenceCount: training.sequenceCount, sequencesPerStep: sequencesPerStep)
        step = state.step
        history = state.history
        evaluations = state.evaluations
        tokensTrained = state.tokensTrained
        lastCheckpoint = checkpoint
        lastCheckpointStep = state.step
    }

    /// Resumes from the newest complete checkpoint in the checkpoint directory; returns it, or nil
    /// (and changes nothing) when there is none.
    @discardableResult
    public func resumeFromLatestCheckpoint() throws -> URL? {
        guard let latest = try checkpoints.latest() else { return nil }
        try resume(from: latest)
        return latest
    }

    /// The first field that changes what a run computes and differs between two configurations, with
    /// both values as text.
    private static func firstDifference(
        _ saved: TrainingConfiguration, _ current: TrainingConfiguration
    ) -> (key: String, saved: String, current: String)? {
        let fields: [(String, (TrainingConfiguration) -> String)] = [
            ("sequence_length", { "\($0.sequenceLength)" }),
            ("micro_batch_size", { "\($0.microBatchSize)" }),
            ("gradient_accumulation_steps", { "\($0.gradientAccumulationSteps)" }),
            ("duration", { "\($0.duration)" }),
            ("optimizer", { "\($0.optimizer)" }),
            ("schedule", { $0.schedule.rawValue }),
            ("warmup_steps", { "\($0.warmupSteps)" }),
            ("minimum_learning_rate_ratio", { "\($0.minimumLearningRateRatio)" }),
            ("max_gradient_norm", { $0.maxGradientNorm.map { "\($0)" } ?? "none" }),
            ("shuffle_seed", { "\($0.shuffleSeed)" }),
        ]
        for (key, value) in fields where value(saved) != value(current) {
            return (key, value(saved), value(current))
        }
        return nil
    }
}
