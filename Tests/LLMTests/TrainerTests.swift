// TrainerTests — the training loop on a real tiny model: the loss falls, gradient accumulation averages,
// evaluation runs on held-out text, checkpoints land atomically, a NaN stops training and keeps the
// last good checkpoint, cancellation checkpoints first, and a fresh trainer resumed from a checkpoint
// reproduces the uninterrupted run's whole loss sequence bit for bit (dropout and accumulation on).
import Foundation
@testable import LLM
import Testing
import TestSupport
import Torch

/// Byte tokens of a small English text (vocabulary 256): the first `trainingFraction` for training,
/// the rest held out.
func trainerTestTokens(repeats: Int = 6) -> (training: [Int], evaluation: [Int]) {
    let sentences = [
        "The loom weaves the warp and the weft into cloth. ",
        "A weaver counts the threads before the shuttle flies. ",
        "Every pattern repeats, and every repeat teaches the hand. ",
        "The cloth grows one row at a time, slowly and evenly. ",
    ]
    var text = ""
    for round in 0..<repeats {
        for (index, sentence) in sentences.enumerated() where (index + round) % 5 != 4 { text += sentence }
    }
    let bytes = Array(text.utf8).map(Int.init)
    let split = bytes.count * 5 / 6
    return (Array(bytes[..<split]), Array(bytes[split...]))
}

private func configuration(
    steps: Int = 12, batch: Int = 2, accumulation: Int = 2, checkpointInterval: Int? = nil, evaluationInterval: Int? = 4
) -> TrainingConfiguration {
    TrainingConfiguration(
        sequenceLength: 32, microBatchSize: batch, gradientAccumulationSteps: accumulation, duration: .steps(steps),
        optimizer: .init(learningRate: 3e-2, weightDecay: 0.01), schedule: .cosine, warmupSteps: 2,
        minimumLearningRateRatio: 0.1, maxGradientNorm: 1.0, evaluationInterval: evaluationInterval,
        evaluationBatches: 4, checkpointInterval: checkpointInterval, shuffleSeed: 7)
}

private func makeTrainer(
    _ model: TrainerTestModel, _ configuration: TrainingConfiguration, directory: URL
) throws -> Trainer<TrainerTestModel> {
    let tokens = trainerTestTokens()
    return try Trainer(
        model: model, configuration: configuration,
        training: PackedTokens(tokens: tokens.training, sequenceLength: configuration.sequenceLength, name: "training text"),
        evaluation: PackedTokens(tokens: tokens.evaluation, sequenceLength: configuration.sequenceLength, name: "held-out text"),
        checkpointDirectory: directory, generators: ["dropout": model.dropoutGenerator])
}

private struct StopRequested: Error {}

@Test func trainingLowersTrainingAndHeldOutLoss() throws {
    let scratch = try ScratchDirectory("trainer-loss")
    let model = try TrainerTestModel(dropout: 0.1)
    let trainer = try makeTrainer(model, configuration(steps: 30, evaluationInterval: 10), directory: scratch.url)
    let before = try #require(try trainer.evaluate()).loss
    var events: [TrainingProgress] = []
    let result = try trainer.train(progress: { events.append($0) })

    #expect(result.history.count == 30 && result.history.map(\.step) == Array(1...30))
    let firstLosses = result.history.prefix(3).map(\.loss).reduce(0, +) / 3
    let lastLosses = result.history.suffix(3).map(\.loss).reduce(0, +) / 3
    #expect(lastLosses < firstLosses * 0.7, "training loss \(firstLosses) → \(lastLosses)")
    #expect(result.evaluations.map(\.step) == [10, 20, 30])
    #expect(try #require(result.evaluations.last).loss < before - 1, "held-out loss \(before) → \(result.evaluations.map(\.loss))")
    #expect(result.history[0].learningRate == 0 && result.history[1].learningRate == 1.5e-2)  // warmup of 2
    #expect(abs(result.history[29].learningRate - 3e-3 - 2.7e-2 * 0.5 * (1 + cos(Double.pi * 27 / 28))) < 1e-12)
    #expect(result.history.allSatisfy { $0.gradientNorm > 0 })

    guard case .started(let start) = events.first else { Issue.record("the first event is not .started"); return }
    #expect(start.totalSteps == 30 && start.startStep == 0 && start.tokensPerStep == 2 * 2 * 32)
    let steps = events.compactMap { if case .step(let step) = $0 { step } else { nil } }
    #expect(steps.count == 30 && steps.allSatisfy { $0.tokensPerSecond > 0 && $0.remainingSeconds >= 0 })
    #expect(steps.last?.remainingSeconds == 0)
    #expect(events.contains { if case .checkpointed(30, _) = $0 { true } else { false } })
    #expect(events[0].description == "training 30 steps, 128 tokens each, \(256 * 32 * 2 + 256) trainable parameters")
    let line = try #require(events.first { if case .step = $0 { true } else { false } }).description
    #expect(line.hasPrefix("step 1/30  loss 5.") && line.contains("lr 0.00e+00  grad norm ") && line.contains(" tokens/s  ETA "))
}

@Test func progressDurationsReadLikeClocks() {
    #expect(TrainingProgress.duration(12.4) == "12s")
    #expect(TrainingProgress.duration(267) == "4m27s")
    #expect(TrainingProgress.duration(3780) == "1h03m")
}

@Test func gradientAccumulationAveragesMicroBatches() throws {
    // Without dropout, two micro-batches of 2 give the loss and the gradient of one batch of 4 (same
    // sequences, same order) up to float rounding: the step's loss is their mean and the gradient norm,
    // taken after averaging and before clipping, is the norm of the whole batch's gradient. (The weights
    // after the step are no test: the first step's learning rate is 0 in warmup, and an AdamW step moves
    // each weight by ±lr whatever the size of its gradient, so a near-zero gradient's sign decides it.)
    let scratch = try ScratchDirectory("trainer-accumulation")
    var records: [TrainingStepRecord] = []
    for (batch, accumulation) in [(4, 1), (2, 2)] {
        let model = try TrainerTestModel()
        let trainer = try makeTrainer(
            model, configuration(steps: 1, batch: batch, accumulation: accumulation, evaluationInterval: nil),
            directory: scratch.path("\(batch)x\(accumulation)"))
        records.append(try #require(try trainer.train().history.first))
    }
    #expect(abs(records[0].loss - records[1].loss) <= 1e-5 * records[0].loss, "\(records)")
    #expect(abs(records[0].gradientNorm - records[1].gradientNorm) <= 1e-5 * records[0].gradientNorm, "\(records)")
    #expect(records[0].gradientNorm > 0)
}

/// The run every resume test compares against: dropout 0.1, accumulation 2, more than two epochs.
private func uninterruptedRun(quantized: Bool, steps: Int) throws -> (TrainingResult, [[Float]]) {
    let scratch = try ScratchDirectory("trainer-uninterrupted")
    let model = try TrainerTestModel(dropout: 0.1, quantized: quantized)
    let result = try makeTrainer(model, configuration(steps: steps, checkpointInterval: 5), directory: scratch.url).train()
    return (result, try model.trainableValues())
}

@Test(arguments: [false, true])
func resumingReproducesTheUninterruptedRunBitForBit(quantized: Bool) throws {
    let steps = 16
    let (reference, referenceValues) = try uninterruptedRun(quantized: quantized, steps: steps)
    let scratch = try ScratchDirectory("trainer-resume")

    // First process: stopped by the cancellation hook before step 10 — it checkpoints step 9 and stops.
    let first = try TrainerTestModel(dropout: 0.1, quantized: quantized)
    let firstTrainer = try makeTrainer(first, configuration(steps: steps, checkpointInterval: 5), directory: scratch.url)
    #expect(firstTrainer.stepsPerEpoch < 9, "the run should cross epochs before it is stopped")
    #expect(throws: StopRequested.self) {
        try firstTrainer.train(checkCancellation: { if firstTrainer.step == 9 { throw StopRequested() } })
    }
    #expect(try CheckpointStore(directory: scratch.url).checkpoints().map(\.step) == [9])

    // Second process: a fresh model whose trainable tensors and dropout stream start elsewhere.
    let fresh = try TrainerTestModel(dropout: 0.1, quantized: quantized, trainableSeed: 99, dropoutSeed: 98)
    let resumed = try makeTrainer(fresh, configuration(steps: steps, checkpointInterval: 5), directory: scratch.url)
    #expect(try resumed.resumeFromLatestCheckpoint() == scratch.url.appendingPathComponent("checkpoint-00000009"))
    #expect(resumed.step == 9)
    var startStep = -1
    let result = try resumed.train(progress: { if case .started(let start) = $0 { startStep = start.startStep } })

    #expect(startStep == 9)
    #expect(result.history == reference.history)
    #expect(result.evaluations == reference.evaluations)
    #expect(try fresh.trainableValues() == referenceValues)
}

@Test func checkpointsHoldEverythingAndOnlyTheNewestAreKept() throws {
    let scratch = try ScratchDirectory("trainer-checkpoints")
    let model = try TrainerTestModel(dropout: 0.1)
    var config = configuration(steps: 9, checkpointInterval: 3)
    config.checkpointsToKeep = 2
    var written: [Int] = []
    try makeTrainer(model, config, directory: scratch.url).train(progress: {
        if case .checkpointed(let step, _) = $0 { written.append(step) }
    })
    #expect(written == [3, 6, 9])
    let store = CheckpointStore(directory: scratch.url)
    #expect(try store.checkpoints().map(\.step) == [6, 9])
    let latest = try #require(try store.latest())
    let files = try FileManager.default.contentsOfDirectory(atPath: latest.path).sorted()
    #expect(files == ["optimizer.json", "optimizer.safetensors", "trainable", "trainer_state.json"])
    #expect(FileManager.default.fileExists(atPath: latest.appendingPathComponent("trainable/model.safetensors").path))
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted() == ["checkpoint-00000006", "checkpoint-00000009"])

    let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: latest.appendingPathComponent("trainer_state.json"))) as? [String: Any])
    #expect(state["format"] as? String == "loom.trainer/1" && state["step"] as? Int == 9 && state["total_steps"] as? Int == 9)
    #expect((state["history"] as? [Any])?.count == 9 && state["tokens_trained"] as? Int == 9 * 4 * 32)
    let data = try #require(state["data"] as? [String: Any])
    #expect(data["epoch"] is Int && data["cursor"] is Int && (data["shuffle_state"] as? [String])?.count == 4)
    #expect((state["generators"] as? [String: String])?.keys.sorted() == ["dropout"])
}

/// A model whose trainable state cannot be written after the first time: a checkpoint write that fails
/// half-way.
private final class FailingSaveModel: TrainableLanguageModel {
    let inner: TrainerTestModel
    var saves = 0
    init() throws { inner = try TrainerTestModel() }
    func loss(tokens: Tensor) throws -> Tensor { try inner.loss(tokens: tokens) }
    var trainableParameters: [(name: String, tensor: Tensor)] { inner.trainableParameters }
    var isTraining: Bool {
        get { inner.isTraining }
        set { inner.isTraining = newValue }
    }
    func saveTrainableState(to directory: URL) throws {
        saves += 1
        try inner.saveTrainableState(to: directory)
        if saves > 1 { throw TrainingError.checkpointWrite(path: directory.path, reason: "disk full (simulated)") }
    }
    func loadTrainableState(from directory: URL) throws { try inner.loadTrainableState(from: directory) }
}

@Test func aFailedCheckpointWriteLeavesThePreviousOneIntact() throws {
    let scratch = try ScratchDirectory("trainer-failed-write")
    let model = try FailingSaveModel()
    let tokens = trainerTestTokens()
    let config = configuration(steps: 4, checkpointInterval: 2, evaluationInterval: nil)
    let trainer = try Trainer(
        model: model, configuration: config, training: PackedTokens(tokens: tokens.training, sequenceLength: 32),
        checkpointDirectory: scratch.url)
    let error = #expect(throws: TrainingError.self) { try trainer.train() }
    #expect(error?.description.contains("disk full (simulated)") == true)
    // The step-2 checkpoint is whole, and nothing of the failed step-4 write is left.
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["checkpoint-00000002"])
    let state = try JSONSerialization.jsonObject(with: Data(contentsOf: scratch.path("checkpoint-00000002/trainer_state.json"))) as? [String: Any]
    #expect(state?["step"] as? Int == 2)
}

@Test func leftoversOfAKilledWriteAreIgnoredAndRemoved() throws {
    let scratch = try ScratchDirectory("trainer-stale-temp")
    let stale = scratch.path(".checkpoint-00000004.tmp-12345")
    try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
    try Data("{}".utf8).write(to: stale.appendingPathComponent("trainer_state.json"))
    let half = scratch.path("checkpoint-00000003")  // a directory without its state file is not a checkpoint
    try FileManager.default.createDirectory(at: half, withIntermediateDirectories: true)
    let store = CheckpointStore(directory: scratch.url)
    #expect(try store.latest() == nil)

    let model = try TrainerTestModel()
    let trainer = try makeTrainer(model, configuration(steps: 2, evaluationInterval: nil), directory: scratch.url)
    #expect(try trainer.resumeFromLatestCheckpoint() == nil)
    try trainer.train()
    #expect(try store.checkpoints().map(\.step) == [2])
    #expect(!FileManager.default.fileExists(atPath: stale.path))
}

@Test func aNaNLossStopsTrainingAndKeepsTheLastGoodCheckpoint() throws {
    let scratch = try ScratchDirectory("trainer-nan")
    let model = try TrainerTestModel()
    let trainer = try makeTrainer(model, configuration(steps: 10, checkpointInterval: 3, evaluationInterval: nil), directory: scratch.url)
    model.nanFromCall = 2 * 4 + 2  // step 5's second micro-batch (two per step; steps 1–4 are 8 calls)
    let before = try model.trainableValues()
    let error = #expect(throws: TrainingError.self) { try trainer.train() }
    let good = scratch.url.appendingPathComponent("checkpoint-00000003")
    #expect(error?.description == "training stopped: the loss is nan at step 5 (micro-batch 2); the last good checkpoint is \(good.path)")
    #expect(try CheckpointStore(directory: scratch.url).checkpoints().map(\.step) == [3])
    let after = try model.trainableValues()
    #expect(trainer.step == 4 && before != after)
}

@Test func cancellationCheckpointsTheCurrentStepThenStops() throws {
    let scratch = try ScratchDirectory("trainer-cancel")
    let model = try TrainerTestModel()
    let trainer = try makeTrainer(model, configuration(steps: 10, evaluationInterval: nil), directory: scratch.url)
    #expect(throws: CancellationError.self) {
        try trainer.train(checkCancellation: { if trainer.step == 3 { throw CancellationError() } })
    }
    #expect(try CheckpointStore(directory: scratch.url).checkpoints().map(\.step) == [3])
    #expect(trainer.lastCheckpoint?.lastPathComponent == "checkpoint-00000003")
}

@Test func resumingWithOtherDataOrSettingsIsRefused() throws {
    let scratch = try ScratchDirectory("trainer-mismatch")
    let model = try TrainerTestModel()
    try makeTrainer(model, configuration(steps: 2, evaluationInterval: nil), directory: scratch.url).train()
    let checkpoint = scratch.url.appendingPathComponent("checkpoint-00000002")
    let stateFile = checkpoint.appendingPathComponent("trainer_state.json").path

    var otherSeed = configuration(steps: 2, evaluationInterval: nil)
    otherSeed.shuffleSeed = 8
    let seedError = #expect(throws: TrainingError.self) {
        try makeTrainer(TrainerTestModel(), otherSeed, directory: scratch.url).resume(from: checkpoint)
    }
    #expect(seedError?.description == "\(stateFile): the checkpoint was written with shuffle_seed = 7, this run has 8; resuming would not continue the same run")

    let tokens = trainerTestTokens()
    let otherData = try Trainer(
        model: TrainerTestModel(), configuration: configuration(steps: 2, evaluationInterval: nil),
        training: PackedTokens(tokens: tokens.training.reversed(), sequenceLength: 32), checkpointDirectory: scratch.url,
        generators: ["dropout": model.dropoutGenerator])
    let dataError = #expect(throws: TrainingError.self) { try otherData.resume(from: checkpoint) }
    #expect(dataError?.description.hasPrefix("\(stateFile): the checkpoint was written with training_digest = ") == true)

    let noGenerators = try Trainer(
        model: TrainerTestModel(), configuration: configuration(steps: 2, evaluationInterval: nil),
        training: PackedTokens(tokens: tokens.training, sequenceLength: 32), checkpointDirectory: scratch.url)
    let generatorError = #expect(throws: TrainingError.self) { try noGenerators.resume(from: checkpoint) }
    #expect(generatorError?.description == "\(stateFile): the checkpoint was written with generators = [\"dropout\"], this run has []; resuming would not continue the same run")

    // A checkpoint of a two-rank data-parallel run (its steps drew 2 × the sequences) resumed by one process.
    let stateURL = URL(fileURLWithPath: stateFile)
    var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: stateURL)) as? [String: Any])
    object["world_size"] = 2
    try JSONSerialization.data(withJSONObject: object).write(to: stateURL)
    let ranksError = #expect(throws: TrainingError.self) {
        try makeTrainer(TrainerTestModel(), configuration(steps: 2, evaluationInterval: nil), directory: scratch.url).resume(from: checkpoint)
    }
    #expect(ranksError?.description == "\(stateFile): the checkpoint was written with world_size = 2, this run has 1; resuming would not continue the same run")
}

@Test func damagedCheckpointStatesAreNamed() throws {
    let scratch = try ScratchDirectory("trainer-damaged")
    let model = try TrainerTestModel()
    try makeTrainer(model, configuration(steps: 2, evaluationInterval: nil), directory: scratch.url).train()
    let checkpoint = scratch.url.appendingPathComponent("checkpoint-00000002")
    let stateURL = checkpoint.appendingPathComponent("trainer_state.json")
    let original = try Data(contentsOf: stateURL)
    let object = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])

    func resumeError(_ edit: (inout [String: Any]) -> Void) throws -> String? {
        var copy = object
        edit(&copy)
        try JSONSerialization.data(withJSONObject: copy).write(to: stateURL)
        return #expect(throws: TrainingError.self) {
            try makeTrainer(TrainerTestModel(), configuration(steps: 2, evaluationInterval: nil), directory: scratch.url).resume(from: checkpoint)
        }?.description
    }
    #expect(try resumeError { $0["data"] = nil } == "\(stateURL.path): data must be present, found nothing")
    #expect(try resumeError { $0["format"] = "loom.trainer/0" } == "\(stateURL.path): format must be 'loom.trainer/1', found 'loom.trainer/0'")
    #expect(try resumeError {
        var data = $0["data"] as! [String: Any]
        data["shuffle_state"] = ["1", "2", "zz", "4"]
        $0["data"] = data
    } == "\(stateURL.path): data.shuffle_state must be four 64-bit words in hexadecimal, found [\"1\", \"2\", \"zz\", \"4\"]")
    #expect(try resumeError { $0["step"] = 5 }?.hasPrefix("\(stateURL.path): step must be within 0…total_steps") == true)
    try Data("not json".utf8).write(to: stateURL)
    let notJSON = #expect(throws: TrainingError.self) {
        try makeTrainer(TrainerTestModel(), configuration(steps: 2, evaluationInterval: nil), directory: scratch.url).resume(from: checkpoint)
    }
    #expect(notJSON?.description.hasPrefix("\(stateURL.path): file must be a JSON trainer state") == true)
}

@Test func badConfigurationsAndTooLittleDataAreRejected() throws {
    let scratch = try ScratchDirectory("trainer-config")
    var zeroBatch = configuration()
    zeroBatch.microBatchSize = 0
    let batchError = #expect(throws: TrainingError.self) { try makeTrainer(TrainerTestModel(), zeroBatch, directory: scratch.url) }
    #expect(batchError?.description == "training configuration: microBatchSize must be at least 1, got 0")

    var badRatio = configuration()
    badRatio.minimumLearningRateRatio = 2
    #expect(throws: TrainingError.invalidConfiguration(key: "minimumLearningRateRatio", expected: "between 0 and 1", found: "2.0")) {
        try makeTrainer(TrainerTestModel(), badRatio, directory: scratch.url)
    }

    let tooBig = configuration(batch: 64, accumulation: 4)
    let dataError = #expect(throws: TrainingError.self) { try makeTrainer(TrainerTestModel(), tooBig, directory: scratch.url) }
    #expect(dataError?.description.hasSuffix("sequences, but one step needs 256 (microBatchSize 64 × gradientAccumulationSteps 4)") == true)

    let mismatched = #expect(throws: TrainingError.self) {
        try Trainer(
            model: TrainerTestModel(), configuration: configuration(),
            training: PackedTokens(tokens: trainerTestTokens().training, sequenceLength: 16), checkpointDirectory: scratch.url)
    }
    #expect(mismatched?.description == "training configuration: sequenceLength must be the training tokens' packing length 16, got 32")
}

@Test func epochDurationCountsWholeStepsPerEpoch() throws {
    let scratch = try ScratchDirectory("trainer-epochs")
    var config = configuration(evaluationInterval: nil)
    config.duration = .epochs(2)
    let trainer = try makeTrainer(TrainerTestModel(), config, directory: scratch.url)
    let sequences = trainer.training.sequenceCount
    #expect(trainer.stepsPerEpoch == sequences / 4 && trainer.totalSteps == 2 * trainer.stepsPerEpoch)
    var epochs: [Double] = []
    try trainer.train(progress: { if case .step(let step) = $0 { epochs.append(step.epoch) } })
    #expect(epochs.count == trainer.totalSteps && epochs.allSatisfy { $0 > 0 && $0 <= 2 })
}

@Test func aCheckpointFromAnotherKindOfDeviceResumesAtTheSameStepWithAFreshGenerator() throws {
    // The CPU half of "checkpoints are device-agnostic": a checkpoint whose dropout generator was saved
    // on CUDA (Philox state, 16 bytes) resumes on the CPU at the same step, optimizer state and data
    // position; the generator, whose state cannot be carried over, is reseeded from the step and said so.
    let scratch = try ScratchDirectory("trainer-device")
    let first = try makeTrainer(TrainerTestModel(), configuration(steps: 6, checkpointInterval: 3, evaluationInterval: nil), directory: scratch.url)
    try first.train()
    let checkpoint = scratch.url.appendingPathComponent("checkpoint-00000006")
    #expect(FileManager.default.fileExists(atPath: checkpoint.path))
    let stateURL = checkpoint.appendingPathComponent("trainer_state.json")
    let original = try Data(contentsOf: stateURL)
    var object = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
    #expect((object["generator_devices"] as? [String: String]) == ["dropout": "cpu"])
    object["generator_devices"] = ["dropout": "cuda:0"]
    object["generators"] = ["dropout": Data(count: 16).base64EncodedString()]
    try JSONSerialization.data(withJSONObject: object).write(to: stateURL)

    let resumed = try makeTrainer(TrainerTestModel(), configuration(steps: 6, checkpointInterval: 3, evaluationInterval: nil), directory: scratch.url)
    try resumed.resume(from: checkpoint)
    #expect(resumed.step == 6 && resumed.history == first.history)
    #expect(resumed.resumeNotes == ["the dropout generator's state was saved on cuda:0 and cannot be restored on cpu: reseeded from step 6 (the run continues from the same step, optimizer state and data position, but not bit for bit)"])
    // Saved on the same kind of device, the state itself is restored, and nothing is said.
    try original.write(to: stateURL)
    let again = try makeTrainer(TrainerTestModel(), configuration(steps: 6, checkpointInterval: 3, evaluationInterval: nil), directory: scratch.url)
    try again.resume(from: checkpoint)
    #expect(again.step == 6 && again.resumeNotes.isEmpty)
    #expect(try again.generators["dropout"]!.stateBytes() == first.generators["dropout"]!.stateBytes())
}
