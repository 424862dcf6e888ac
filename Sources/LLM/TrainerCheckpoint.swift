// TrainerCheckpoint — the layout of one training checkpoint directory and its `trainer_state.json`:
//
//   checkpoint-00000120/
//     trainable/            the model's trainable state (`saveTrainableState`, e.g. a PEFT adapter)
//     optimizer.safetensors AdamW moments (exp_avg, exp_avg_sq per parameter)
//     optimizer.json        AdamW step counts and configuration
//     trainer_state.json    step, configuration, data position, RNG states, history — written last
//
// Everything a resumed run needs to continue exactly as the uninterrupted run would have.
import Foundation
import Torch

struct TrainerState: Codable, Equatable {
    static let currentFormat = "loom.trainer/1"
    static let trainableDirectory = "trainable"

    var format: String
    /// Optimizer steps completed.
    var step: Int
    var totalSteps: Int
    var configuration: TrainingConfiguration
    /// Identifies the training data: sequence count and SHA-256 of the packed tokens.
    var trainingSequences: Int
    var trainingDigest: String
    var data: TrainingDataOrder.Position
    /// Every torch generator the run draws from (dropout…), by name: libtorch's state bytes.
    var generators: [String: Data]
    /// The device of each generator (`cpu`, `cuda:0`): a CPU generator's state (Mersenne Twister) and a
    /// CUDA one's (Philox) are different things. nil in checkpoints written before devices (all CPU).
    var generatorDevices: [String: String]? = nil
    var tokensTrained: Int
    var history: [TrainingStepRecord]
    var evaluations: [EvaluationRecord]
    /// The number of data-parallel ranks that trained it (their steps draw N times the sequences). nil in
    /// checkpoints written before data parallelism (one process).
    var worldSize: Int? = nil

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// Reads and checks the state file of the checkpoint at `directory`.
    static func read(checkpoint directory: URL) throws -> TrainerState {
        let file = directory.appendingPathComponent(CheckpointStore.stateFile)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw TrainingError.invalidCheckpoint(file: file, key: "file", expected: "a readable trainer state", found: "no such file")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let state: TrainerState
        do {
            state = try decoder.decode(TrainerState.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw TrainingError.invalidCheckpoint(file: file, key: path, expected: "present", found: "nothing")
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw TrainingError.invalidCheckpoint(file: file, key: path, expected: "a \(type)", found: context.debugDescription)
        } catch {
            throw TrainingError.invalidCheckpoint(file: file, key: "file", expected: "a JSON trainer state", found: "\(error)")
        }
        guard state.format == currentFormat else {
            throw TrainingError.invalidCheckpoint(file: file, key: "format", expected: "'\(currentFormat)'", found: "'\(state.format)'")
        }
        guard (0...state.totalSteps).contains(state.step), state.history.count == state.step else {
            throw TrainingError.invalidCheckpoint(
                file: file, key: "step", expected: "within 0…total_steps with one history entry per step",
                found: "step \(state.step) of \(state.totalSteps), \(state.history.count) history entries")
        }
        try state.data.validate(file: file, sequenceCount: state.trainingSequences)
        return state
    }

    func write(checkpoint directory: URL) throws {
        try Self.encoder().encode(self).write(to: directory.appendingPathComponent(CheckpointStore.stateFile))
    }
}
