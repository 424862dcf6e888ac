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
    /// The head GEMM and the cross-entropy together, by chunks of rows, both gradients made in forward
    /// (`Tensor.linearCrossEntropy`): no tokens × vocabulary logits are kept. Where the loss takes it: f32,
    /// no final soft-cap, no trainable token rows (the others keep `fusedCrossEntropy`).
    public var fusedLinearCrossEntropy: Bool
    /// Causal attention by blocks of queries, skipping the masked keys (`causalAttention`, a CPU kernel of
    /// Loom's, f32, flash-style: backward rebuilds the probabilities from each query's log-sum-exp). On by
    /// default where it applies (f32 on the CPU, no custom scale, soft-cap or document mask), SDPA elsewhere:
    /// on bench/lora-train's shape with the torch 2.13 wheel it trains faster than PyTorch's CPU SDPA
    /// (`loom-bench probe-lora-step --variants fused,sdpa-attention`; attention alone: `loom-bench torch-ops`).
    public var fusedAttention: Bool
    /// LoRA updates written into the projection's output in place (`Tensor.loraUpdateInPlace`): a fused
    /// projection's, each part over its own columns, and a single projection's (o_proj, down_proj).
    public var fusedLoRAUpdate: Bool
    /// Attention through PyTorch's scaled_dot_product_attention (flash / memory-efficient kernels on CUDA,
    /// a fused kernel on the CPU) wherever the block kernel does not run: the default.
    public var sdpaAttention: Bool

    public init(
        fusedProjections: Bool = true, fusedAttentionHeads: Bool = true, fusedSwiGLU: Bool = true, fusedCrossEntropy: Bool = true,
        fusedAttention: Bool = true, fusedLoRAUpdate: Bool = true, sdpaAttention: Bool = true,
        fusedLinearCrossEntropy: Bool = true
    ) {
        self.fusedProjections = fusedProjections
        self.fusedAttentionHeads = fusedAttentionHeads
        self.fusedSwiGLU = fusedSwiGLU
        self.fusedCrossEntropy = fusedCrossEntropy
        self.fusedAttention = fusedAttention
        self.fusedLoRAUpdate = fusedLoRAUpdate
        self.sdpaAttention = sdpaAttention
        self.fusedLinearCrossEntropy = fusedLinearCrossEntropy
    }

    /// The default: every fused path that is faster on; attention through the block kernel where it applies,
    /// else SDPA.
    public static let fused = ModelKernels()
    /// Every fused path off: tensor-op composites only.
    public static let composite = ModelKernels(
        fusedProjections: false, fusedAttentionHeads: false, fusedSwiGLU: false, fusedCrossEntropy: false, fusedAttention: false,
        fusedLoRAUpdate: false, sdpaAttention: false, fusedLinearCrossEntropy: false)

    /// The fused CPU kernels apply to CPU tensors; elsewhere the composites run.
    func onCPU(_ tensor: Tensor) -> ModelKernels {
        tensor.device == .cpu ? self : ModelKernels(fusedProjections: fusedProjections, fusedAttentionHeads: false, fusedSwiGLU: false,
                                                    fusedCrossEntropy: false, fusedAttention: false, fusedLoRAUpdate: false,
                                                    sdpaAttention: sdpaAttention, fusedLinearCrossEntropy: false)
    }
}

/// What every layer needs to know about the current forward pass.
struct ForwardContext {
    let batch: Int
    let length: Int
    /// Rotary tables (T, headDim) of the positions being processed.
    let cos: Tensor
    let sin: Tensor
    /// The windowed layers' own rotary tables (Gemma 3's local base), when the model has them.
    var local: (cos: Tensor, sin: Tensor)? = nil
    let cache: KVCache?
    let kernels: ModelKernels
    /// (B, 1, T, T) additive mask keeping attention inside each packed document (0 allowed, −∞ not), with
    /// the causal mask in it; nil for plain causal attention.
    var documentMask: Tensor? = nil
}

/// Rows that pack several documents: what the forward pass needs to keep them apart.
struct PackedDocuments {
    /// (B, T) int64: each token's position inside its document.
    let positions: Tensor
    /// (B, 1, T, T) f32 additive mask: a query sees the keys of its own document at or before it.
    let mask: Tensor
    /// (B, T) bool: the first token of every document after a row's first.
    let firstTokens: Tensor

    /// `starts[b]`: the positions of row b where a new document begins (0 implied), each in 1..<length.
    init(starts: [[Int]], length: Int, device: Device) throws {
        var positions: [Int64] = []
        var segments: [Int64] = []
        var first: [Bool] = []
        positions.reserveCapacity(starts.count * length)
        for (row, rowStarts) in starts.enumerated() {
            guard rowStarts.allSatisfy({ (1..<length).contains($0) }), rowStarts == rowStarts.sorted(), Set(rowStarts).count == rowStarts.count else {
                throw ModelError("document starts of row \(row) must be increasing positions in 1..<\(length), got \(rowStarts)")
            }
            var segment: Int64 = 0, start = 0, next = 0
            for t in 0..<length {
                let begins = next < rowStarts.count && rowStarts[next] == t
                if begins {
                    segment += 1
                    start = t
                    next += 1
                }
                positions.append(Int64(t - start))
                segments.append(segment)
                first.append(begins)
            }
        }
        let batch = starts.count
        self.positions = try Tensor(positions, shape: [batch, length]).to(device)
        firstTokens = try Tensor(first.map { $0 ? Int64(1) : 0 }, shape: [batch, length]).ne(0).to(device)
        self.mask = try withNoGrad {
            let segment = try Tensor(segments, shape: [batch, length]).to(device)
            let other = try segment.unsqueeze(2).ne(segment.unsqueeze(1))  // (B, T, T): another document
            let columns = try Tensor.arange(length, device: device)
            let future = try columns.reshape([1, length]).gt(columns.reshape([length, 1]))  // (T, T): k > q
            let blocked = try other.logicalOr(future.unsqueeze(0).expand([batch, length, length]))
            return try Tensor.zeros([batch, length, length], device: device).maskedFill(blocked, value: -Double.infinity).unsqueeze(1)
        }
    }
}
