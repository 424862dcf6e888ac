// OptimGradients — operations on the gradients of a set of parameters: global norm clipping
// (torch.nn.utils.clip_grad_norm_), scaling (gradient accumulation), finiteness checks and clearing.
// Parameters without a gradient are skipped everywhere.
//
// Gradient accumulation: libtorch's backward adds into `grad`, so k micro-batches accumulate on their
// own; scale the sum (`scale(_, by: 1/k)`, or 1/total tokens for token-weighted means) before
// clipping and `AdamW.step()`, then `clear` for the next batch.

public enum Gradients {
    /// The `normType`-norm of all gradients taken together, as if concatenated (0 when none exist).
    public static func totalNorm(_ parameters: [Tensor], normType: Double = 2) throws -> Double {
        try withNoGrad { try totalNormTensor(parameters.compactMap(\.grad), normType: normType)?.scalar(Double.self) ?? 0 }
    }

    /// Scales every gradient so that their total norm is at most `maxNorm` — the same arithmetic as
    /// torch.nn.utils.clip_grad_norm_ (coefficient maxNorm / (norm + 1e-6), clamped at 1, applied to every
    /// gradient). Returns the norm before clipping (inf/NaN when a gradient is not finite; then the
    /// gradients are scaled by a non-finite coefficient, as in PyTorch — check `areFinite` first to skip).
    @discardableResult
    public static func clipNorm(_ parameters: [Tensor], maxNorm: Double, normType: Double = 2) throws -> Double {
        try withNoGrad {
            let grads = parameters.compactMap(\.grad)
            guard let total = try totalNormTensor(grads, normType: normType) else { return 0 }
            let coefficient = try (maxNorm / (total + 1e-6)).clamp(max: 1.0)  // PyTorch's order of roundings
            for grad in grads { try grad.mulInPlace(coefficient) }
            return try total.scalar(Double.self)
        }
    }

    /// Multiplies every gradient by `factor` in place.
    public static func scale(_ parameters: [Tensor], by factor: Double) throws {
        try withNoGrad {
            for grad in parameters.compactMap(\.grad) { try grad.mulInPlace(factor) }
        }
    }

    /// True when no gradient holds a NaN or an infinity.
    public static func areFinite(_ parameters: [Tensor]) throws -> Bool {
        try withNoGrad {
            for grad in parameters.compactMap(\.grad) where try !grad.isFinite().all().scalar(Bool.self) {
                return false
            }
            return true
        }
    }

    /// Drops every gradient (the next backward starts from nothing).
    public static func clear(_ parameters: [Tensor]) throws {
        for parameter in parameters { try parameter.clearGrad() }
    }

    private static func totalNormTensor(_ grads: [Tensor], normType: Double) throws -> Tensor? {
        guard !grads.isEmpty else { return nil }
        let norms = try grads.map { try $0.norm(normType) }
        return try Tensor.stack(norms).norm(normType)
    }
}
