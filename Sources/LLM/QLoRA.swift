// QLoRA — turning a model's projections into NF4 bases: as the model is built (`DecoderModel.load` /
// `random` with `baseLinear:`, so that only one dense projection exists at a time), or afterwards
// (`quantizeBaseLinears(make:)`). LoRA adapters then wrap the NF4 bases; embeddings and head stay dense.
import Torch

extension NF4Linear {
    /// The NF4 form of a dense projection (its bias kept dense).
    public convenience init(dense: DenseLinear, computeDType: DType = .float32) throws {
        try self.init(weight: dense.weight, bias: dense.bias, computeDType: computeDType)
    }

    /// A `baseLinear:` builder for `DecoderModel.load(from:baseLinear:)` and `DecoderModel.random`: every
    /// projection in `targets` quantised to NF4 as soon as its dense weight is read.
    ///
    ///     let model = try DecoderModel.load(from: directory, baseLinear: NF4Linear.quantizing())
    public static func quantizing(
        targets: Set<LoRATarget> = Set(LoRATarget.allCases), computeDType: DType = .float32
    ) -> (LoRATarget, DenseLinear) throws -> any BaseLinear {
        { target, dense in
            targets.contains(target) ? try NF4Linear(dense: dense, computeDType: computeDType) : dense
        }
    }
}
