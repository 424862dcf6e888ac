// ModelKernels — which fused paths the forward pass takes. Every fused path computes what its
// composite of tensor ops computes (tests compare them); the switches exist so that the timing probe
// can measure what each one gives, and so that a suspected kernel can be ruled out.
import Torch

public struct ModelKernels: Sendable, Equatable {
    /// One GEMM for q/k/v and one for gate/up while the bases are dense (and one for the LoRA A's).
    public var fusedProjections: Bool
    /// q/k/v → rotated head-major q, k and v in one pass (`Tensor.attentionHeads`).
    public var fusedAttentionHeads: Bool
    /// silu(gate)·up in one pass (`Tensor.swiGLU`).
    public var fusedSwiGLU: Bool
    /// Cross-entropy whose gradient is computed in the forward pass (`Tensor.fusedCrossEntropy`).
    public var fusedCrossEntropy: Bool
    /// Causal attention by blocks of queries, skipping the masked keys (`causalAttention`).
    public var fusedAttention: Bool
    /// LoRA updates of a fused projection written into its output in place (`Tensor.loraUpdateInPlace`).
    public var fusedLoRAUpdate: Bool

    public init(
        fusedProjections: Bool = true, fusedAttentionHeads: Bool = true, fusedSwiGLU: Bool = true, fusedCrossEntropy: Bool = true,
        fusedAttention: Bool = true, fusedLoRAUpdate: Bool = true
    ) {
        self.fusedProjections = fusedProjections
        self.fusedAttentionHeads = fusedAttentionHeads
        self.fusedSwiGLU = fusedSwiGLU
        self.fusedCrossEntropy = fusedCrossEntropy
        self.fusedAttention = fusedAttention
        self.fusedLoRAUpdate = fusedLoRAUpdate
    }

    /// Every fused path on (the default).
    public static let fused = ModelKernels()
    /// Every fused path off: tensor-op composites only.
    public static let composite = ModelKernels(
        fusedProjections: false, fusedAttentionHeads: false, fusedSwiGLU: false, fusedCrossEntropy: false, fusedAttention: false,
        fusedLoRAUpdate: false)

    /// The fused CPU kernels apply to CPU tensors; elsewhere the composites run.
    func onCPU(_ tensor: Tensor) -> ModelKernels {
        tensor.device == .cpu ? self : ModelKernels(fusedProjections: fusedProjections, fusedAttentionHeads: false, fusedSwiGLU: false,
                                                    fusedCrossEntropy: false, fusedAttention: false, fusedLoRAUpdate: false)
    }
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
