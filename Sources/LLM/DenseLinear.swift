// DenseLinear — a frozen projection y = x·Wᵀ + b, the default BaseLinear of a model. Stored in f32, or in
// bf16/f16 (a model loaded with `dtype:`): then the GEMM runs in that dtype and its output comes back in
// the input's (the residual stream, norms, LoRA and the loss stay f32).
import Torch

public final class DenseLinear: BaseLinear {
    /// (outFeatures, inFeatures). Frozen: it never requires grad, so backward computes only the input's
    /// gradient through it (no weight-gradient GEMM).
    public let weight: Tensor
    public let bias: Tensor?

    public init(weight: Tensor, bias: Tensor? = nil) throws {
        guard weight.rank == 2 else { throw ModelError("a linear weight must be 2-D (out, in), got \(weight.shape)") }
        if let bias, bias.shape != [weight.shape[0]] {
            throw ModelError("a linear bias must be [\(weight.shape[0])], got \(bias.shape)")
        }
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard input.dtype != weight.dtype else { return try input.linear(weight: weight, bias: bias) }
        return try input.to(weight.dtype).linear(weight: weight, bias: bias).to(input.dtype)
    }

    public func denseWeight(dtype: DType) throws -> Tensor {
        try weight.detach().to(dtype)
    }

    /// The weight's (and bias's) bytes. Projections fused inside a model are views of one shared
    /// weight, so summing over them counts that storage once in total.
    public var residentBytes: Int { weight.byteCount + (bias?.byteCount ?? 0) }
}
