// ModelKernels — which fused paths the forward pass takes. Every fused path computes what its
// composite of tensor ops computes (tests compare them); the switches exist so that the timing probe
// can measure what each one gives, and so that a suspected kernel can be ruled out.
import Torch

public struct ModelKernels: Sendable, Equatable {
    /// One GEMM for q/k/v and one for gate/up while the bases are dense (and one for the LoRA A's).
    public var fusedProjections: Bool

    public init(fusedProjections: Bool = true) {
        self.fusedProjections = fusedProjections
    }

    /// Every fused path on (the default).
    public static let fused = ModelKernels()
    /// Every fused path off: tensor-op composites only.
    public static let composite = ModelKernels(fusedProjections: false)
}

/// What every layer needs to know about the current forward pass.
struct ForwardContext {
    let batch: Int
    let length: Int
    /// Rotary tables (T, headDim) of the positions being processed.
    let cos: Tensor
    let sin: Tensor
    let cache: KVCache?
    let kernels: ModelKernels
}
