// FeedForward — the gated MLP: down(act(gate(x)) · up(x)), SiLU (SwiGLU: Llama, Qwen, Mistral, Phi-3) or
// tanh-approximated GELU (GeGLU: Gemma); gate and up in one GEMM while their bases are dense (or Phi-3's
// single gate_up_proj).
import Torch

final class FeedForward {
    /// gate_proj, up_proj (or gate_up_proj).
    let inputProjections: ProjectionGroup
    /// down_proj.
    let outputProjection: ProjectionGroup
    let activation: ModelConfig.Activation

    init(inputProjections: ProjectionGroup, outputProjection: ProjectionGroup, activation: ModelConfig.Activation = .silu) {
        self.inputProjections = inputProjections
        self.outputProjection = outputProjection
        self.activation = activation
    }

    /// x (N, C) → (N, C).
    func callAsFunction(_ x: Tensor, _ context: ForwardContext) throws -> Tensor {
        let activated: Tensor  // (N, I)
        if context.kernels.fusedSwiGLU && activation == .silu {
            activated = try inputProjections.joined(x, kernels: context.kernels).swiGLU()  // [gate | up] (N, 2I) → (N, I)
        } else {
            var projected = try inputProjections(x, kernels: context.kernels)  // gate (N, I), up (N, I)
            if projected.count == 1 {
                let width = projected[0].shape[1] / 2
                projected = try projected[0].split(sizes: [width, width], dim: 1)
            }
            let gate = try activation == .silu ? projected[0].silu() : projected[0].gelu(tanhApproximation: true)
            activated = try gate * projected[1]
        }
        return try outputProjection(activated, kernels: context.kernels)[0]
    }
}
