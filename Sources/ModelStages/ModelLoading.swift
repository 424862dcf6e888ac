// ModelLoading — how `train` and `eval` read the model an adapter belongs to: dense (LoRA) or with the
// targeted projections as NF4 (QLoRA, quantised as each is read), on the device the recipe names, the
// compute dtype a recipe may ask for, and the ids of the new-token rows of an extended model.
import Foundation
import LLM
import Pipeline
import Stages
import Tokenizers
import Torch

enum ModelLoading {
    /// The dtype of `dtype` (a recipe value): how the frozen base computes — LoRA's dense matrices stored
    /// and multiplied in it, QLoRA's NF4 weights dequantised to it. Adapters, optimizer state, norms and
    /// the loss stay float32 either way.
    static func computeDType(_ dtype: String, method: TrainKind.Method) throws -> DType {
        switch dtype {
        case "float32": return .float32
        case "bfloat16": return .bfloat16
        case "float16": return .float16
        default: throw ParameterConstraintError("dtype", "expected float32, bfloat16 or float16, got \(dtype)")
        }
    }

    /// The model in `directory` as a method trains it — dense, or `targets` (nil: the adapter's) as NF4 —
    /// through LLM's one loading function; with `adapter`, that adapter attached.
    static func load(
        _ directory: URL, method: TrainKind.Method, targets: [LoRATarget]?, adapter: URL? = nil, computeDType: DType, device: Device = .cpu
    ) throws -> any CausalLanguageModel {
        try loadCausalLM(from: directory, adapter: adapter, baseWeights: method == .lora ? .dense : .nf4(targets: targets),
                         dtype: computeDType, device: device)
    }

    /// The device a model kind's `device` value names, checked against what the linked libtorch sees on
    /// this machine (an unavailable one is an error naming the key), and logged.
    static func device(_ value: String, log: StageLog) throws -> Device {
        let device: Device
        do {
            device = try Device.resolve(value)
        } catch let error as TorchError {
            throw ParameterConstraintError("device", error.message)
        }
        log.info("device: \(device)\(value == "auto" ? " (auto)" : "")")
        return device
    }

    /// The ids an extended model added (hyperwords.json beside its tokenizer.json); none for a model
    /// that was not extended.
    static func newTokenIds(in directory: URL) throws -> [Int] {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(ExtendedTokenizer.hyperwordsFile).path) else { return [] }
        return try ExtendedTokenizer(contentsOf: directory).newTokens.map(\.id).sorted()
    }
}
