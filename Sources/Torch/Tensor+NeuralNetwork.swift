// Tensor+NeuralNetwork — the layers' building blocks: linear (fused matmul + bias), batched
// multiply-add for attention scores, RMSNorm, softmax, cross-entropy with ignore_index, dropout.
import CTorch

/// How a loss over many targets is reduced.
public enum LossReduction: Sendable {
    /// One loss per target (0 for ignored ones).
    case none
    /// Mean over the targets that are not ignored.
    case mean
    case sum

    var ctorch: ctorch_reduction {
        switch self {
        case .none: CTORCH_REDUCTION_NONE
        case .mean: CTORCH_REDUCTION_MEAN
        case .sum: CTORCH_REDUCTION_SUM
        }
    }
}

extension Tensor {
    /// self · weightᵀ + bias for self [..., in], weight [out, in], bias [out] — one GEMM (addmm).
    /// No gradient work is done for a weight that does not require grad.
    public func linear(weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        try makeTensor { ctorch_linear(handle, weight.handle, bias?.handle, $0, $1) }
    }

    /// beta · self + alpha · (mat1 @ mat2) for 2-D mats, in one GEMM — e.g. a LoRA update
    /// `base.addmm(xA, Bᵀ, alpha: scale)` without separate scale and add passes.
    public func addmm(_ mat1: Tensor, _ mat2: Tensor, beta: Double = 1, alpha: Double = 1) throws -> Tensor {
        let (b, a) = (Scalar(beta).ctorch, Scalar(alpha).ctorch)
        return try makeTensor { ctorch_addmm(handle, mat1.handle, mat2.handle, b, a, $0, $1) }
    }

    /// beta · self + alpha · (batch1 @ batch2) for [b, n, k] × [b, k, m] — scaled attention scores plus a
    /// mask in one op.
    public func baddbmm(_ batch1: Tensor, _ batch2: Tensor, beta: Double = 1, alpha: Double = 1) throws -> Tensor {
        let (b, a) = (Scalar(beta).ctorch, Scalar(alpha).ctorch)
        return try makeTensor { ctorch_baddbmm(handle, batch1.handle, batch2.handle, b, a, $0, $1) }
    }

    /// RMSNorm over the last dimension: weight · x / sqrt(mean(x²) + eps), Llama's (statistics in f32,
    /// result in x's dtype), differentiable in x and weight. A fused kernel on the CPU: one pass forward
    /// and one backward, keeping only x and one f32 per row for backward (bench/torch-ops compares it with
    /// the composite of tensor ops).
    public func rmsNorm(weight: Tensor, eps: Double) throws -> Tensor {
        try makeTensor { ctorch_rms_norm(handle, weight.handle, eps, $0, $1) }
    }

    /// exp(x) / Σ exp(x) along `dim`.
    public func softmax(dim: Int) throws -> Tensor { try shapeOp(CTORCH_SOFTMAX, [dim]) }
    /// log(softmax(x)) along `dim`, computed stably.
    public func logSoftmax(dim: Int) throws -> Tensor { try shapeOp(CTORCH_LOG_SOFTMAX, [dim]) }

    /// Cross-entropy of these logits [N, C] (or [N, C, d…]) against int64 class `targets` [N] (or [N, d…]).
    /// Targets equal to `ignoreIndex` add nothing and are not counted by `.mean` (Hugging Face's −100).
    public func crossEntropy(
        targets: Tensor, reduction: LossReduction = .mean, ignoreIndex: Int = -100, labelSmoothing: Double = 0
    ) throws -> Tensor {
        try makeTensor {
            ctorch_cross_entropy(handle, targets.handle, reduction.ctorch, Int64(ignoreIndex), labelSmoothing, $0, $1)
        }
    }

    /// Inverted dropout: each element zeroed with probability p (drawn from `generator`), the rest scaled
    /// by 1/(1−p). Identity when p is 0 or `training` is false.
    public func dropout(_ p: Double, training: Bool = true, generator: Generator? = nil) throws -> Tensor {
        guard training, p > 0 else { return self }
        guard p < 1 else { return try zerosLike() }
        let keep = try emptyLike()
        try keep.bernoulliInPlace(probability: 1 - p, generator: generator)
        try keep.divInPlace(1 - p)
        return try mul(keep)
    }
}
