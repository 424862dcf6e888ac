// Checkpoint — activation recomputation ("gradient checkpointing", torch.utils.checkpoint's reentrant
// form) through the shim's ctorch_checkpoint: `body` runs once without a graph, and once more in
// backward with one, so that between forward and backward only its input is kept instead of every
// activation inside it. Trades one more forward of `body` for its activations' memory.
import CTorch
import Foundation

extension Tensor {
    /// `body(self)`, recorded by autograd as one node that keeps only `self`: backward runs `body` again
    /// with grad mode on and back-propagates through it (gradients reach `self` and every parameter
    /// `body` uses). `body` must compute the same thing both times — restore any generator it draws
    /// from. Gradients flow only when `self` requires grad (make it a leaf that does when needed).
    public func checkpointed(_ body: @escaping (Tensor) throws -> Tensor) throws -> Tensor {
        let context = Unmanaged.passRetained(CheckpointBody(body)).toOpaque()
        return try makeTensor { out, error in
            ctorch_checkpoint(handle, { context, input, output, message in
                let body = Unmanaged<CheckpointBody>.fromOpaque(context!).takeUnretainedValue()
                do {
                    let result = try body.function(Tensor(owning: input!))
                    try check { ctorch_tensor_share(result.handle, output, $0) }
                    return CTORCH_OK
                } catch {
                    message?.pointee = strdup("\(error)")
                    return CTORCH_ERROR
                }
            }, context, { context in
                Unmanaged<CheckpointBody>.fromOpaque(context!).release()
            }, out, error)
        }
    }
}

/// The Swift closure a checkpoint node holds until it dies.
private final class CheckpointBody {
    let function: (Tensor) throws -> Tensor
    init(_ function: @escaping (Tensor) throws -> Tensor) { self.function = function }
}
