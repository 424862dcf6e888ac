// TrainingSummary — `training.json` beside what a training kind writes: what was trained on and how it
// went, for people and for the kinds downstream (`eval` reads `method` to rebuild a QLoRA model's NF4
// base the adapter was trained on).
import Foundation
import LLM
import LoomCore

struct TrainingSummary: Codable, Equatable {
    static let fileName = "training.json"

    struct Evaluation: Codable, Equatable {
        var step: Int
        var loss: Double
    }

    var steps: Int
    var finalLoss: Double?
    var validation: [Evaluation]
    /// Tokens of the packed training split (the x axis of the saturation curve).
    var corpusTokens: Int
    /// Tokens processed: steps × tokens per step.
    var tokensSeen: Int
    var medianTokensPerSecond: Double?
    var tiers: [String]
    /// `lora` or `qlora` for adapters; nil for a pretrained base.
    var method: String?
    var trainableParameters: Int
    /// The device the model trained on (`cpu`, `cuda:0`); nil in summaries written before devices.
    var device: String?
    /// Data-parallel ranks (nil in summaries written before data parallelism: one).
    var processes: Int?

    init(result: TrainingResult, configuration: TrainingConfiguration, corpusTokens: Int, tiers: [String], method: String? = nil,
         trainableParameters: Int, device: String? = nil) {
        steps = result.history.last?.step ?? 0
        finalLoss = result.history.last?.loss
        validation = result.evaluations.map { Evaluation(step: $0.step, loss: $0.loss) }
        self.corpusTokens = corpusTokens
        tokensSeen = steps * configuration.tokensPerStep * result.worldSize
        processes = result.worldSize
        medianTokensPerSecond = result.medianTokensPerSecond
        self.tiers = tiers
        self.method = method
        self.trainableParameters = trainableParameters
        self.device = device
    }

    enum CodingKeys: String, CodingKey {
        case steps, validation, tiers, method, device, processes
        case finalLoss = "final_loss"
        case corpusTokens = "corpus_tokens"
        case tokensSeen = "tokens_seen"
        case medianTokensPerSecond = "median_tokens_per_second"
        case trainableParameters = "trainable_parameters"
    }

    func write(to url: URL) throws {
        try AtomicFile.writeJSON(self, to: url)
    }

    /// The summary in `directory`, or nil when there is none.
    static func read(from directory: URL) throws -> TrainingSummary? {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(TrainingSummary.self, from: Data(contentsOf: url))
        } catch {
            throw ModelFileError(file: url.path, problem: "not a training summary (\(error))")
        }
    }
}
