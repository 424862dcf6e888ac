// LoRAConfiguration — what an adapter is: rank, alpha, dropout, which projections it targets, rsLoRA,
// and the token rows trained on their own (PEFT's LoraConfig fields of the same meaning).
import Foundation

public struct LoRAConfiguration: Sendable, Equatable {
    public var rank: Int
    public var alpha: Double
    public var dropout: Double
    public var targets: [LoRATarget]
    /// Scale alpha/√rank instead of alpha/rank (Kalajdzievski 2023).
    public var useRSLoRA: Bool
    /// Token ids whose embedding rows (and head rows when the head is untied) are trained on their own
    /// while the rest stays frozen — PEFT's `trainable_token_indices`, e.g. the ids of new hyperwords.
    public var trainableTokenIndices: [Int]
    /// Written into adapter_config.json so that `PeftModel.from_pretrained` finds the base.
    public var baseModelNameOrPath: String?

    /// PEFT's defaults: rank 8, alpha 8, no dropout, q_proj and v_proj.
    public init(
        rank: Int = 8, alpha: Double = 8, dropout: Double = 0, targets: [LoRATarget] = [.query, .value],
        useRSLoRA: Bool = false, trainableTokenIndices: [Int] = [], baseModelNameOrPath: String? = nil
    ) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
        self.useRSLoRA = useRSLoRA
        self.trainableTokenIndices = trainableTokenIndices
        self.baseModelNameOrPath = baseModelNameOrPath
    }

    /// The factor of B·A: alpha/rank, or alpha/√rank with rsLoRA.
    public var scale: Double { useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank) }

    func validate() throws {
        guard rank > 0 else { throw ModelError("LoRA rank must be positive, got \(rank)") }
        guard alpha > 0 else { throw ModelError("LoRA alpha must be positive, got \(alpha)") }
        guard (0.0..<1.0).contains(dropout) else { throw ModelError("LoRA dropout must be in [0, 1), got \(dropout)") }
        guard !targets.isEmpty || !trainableTokenIndices.isEmpty else {
            throw ModelError("a LoRA adapter needs at least one target projection or trainable token")
        }
        guard Set(targets).count == targets.count else { throw ModelError("LoRA targets repeat a projection: \(targets.map(\.rawValue))") }
    }
}
