// FeedForward — Llama's SwiGLU MLP: down(silu(gate(x)) · up(x)), gate and up in one fused GEMM while
// their bases are dense.
import Torch

final class FeedForward {
    /// gate_proj, up_proj.
    let inputProjections: ProjectionGroup
    /// down_proj.
    let outputProjection: ProjectionGroup

    init(inputProjections: ProjectionGroup, outputProjection: ProjectionGroup) {
        self.inputProjections = inputProjections
        self.outputProjection = outputProjection
    }

    /// x (N, C) → (N, C).
    func callAsFunction(_ x: Tensor, _ context: ForwardContext) throws -> Tensor {
        let activated: Tensor  // (N, I)
        if context.kernels.fusedSwiGLU {
            activated = try inputProjections.joined(x, kernels: context.kernels).swiGLU()  // [gate | up] (N, 2I) → (N, I)
        } else {
            let projected = try inputProjections(x, kernels: context.kernels)  // gate (N, I), up (N, I)
            activated = try projected[0].silu() * projected[1]
        }
        return try outputProjection(activated, kernels: context.kernels)[0]
    }
}
