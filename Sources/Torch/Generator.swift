// Generator — a seeded random stream (libtorch's CPU Mersenne Twister, or the CUDA Philox generator)
// whose full state can be saved and restored, so that a resumed run draws exactly the numbers the
// uninterrupted run would have drawn.
import CTorch

/// A random stream for the random factories, in-place random fills, dropout masks and sampling.
///
/// Sendable because libtorch guards a generator's state with its own mutex on every draw and the
/// shim takes that mutex for `state()`/`setState(_:)`.
public final class Generator: @unchecked Sendable {
    let handle: OpaquePointer
    public let device: Device

    /// A new stream seeded with `seed`. The same seed gives the same numbers, call for call.
    public init(seed: UInt64, device: Device = .cpu) throws {
        try TorchRuntime.ensureConfigured()
        var out: OpaquePointer? = nil
        try check { ctorch_generator_new(device.ctorch, seed, &out, $0) }
        self.handle = out!
        self.device = device
    }

    deinit {
        ctorch_generator_free(handle)
    }

    /// The seed the stream was last (re)seeded with.
    public var seed: UInt64 {
        var seed: UInt64 = 0
        mustSucceed { ctorch_generator_seed(handle, &seed, $0) }
        return seed
    }

    /// Restarts the stream from `seed`.
    public func reseed(_ seed: UInt64) throws {
        try check { ctorch_generator_set_seed(handle, seed, $0) }
    }

    /// The stream's full state (a uint8 tensor) — what a checkpoint stores.
    public func state() throws -> Tensor {
        try makeTensor { ctorch_generator_get_state(handle, $0, $1) }
    }

    /// Continues the stream from a state returned by `state()`.
    public func setState(_ state: Tensor) throws {
        try check { ctorch_generator_set_state(handle, state.handle, $0) }
    }

    /// The state as bytes (for JSON or a safetensors entry).
    public func stateBytes() throws -> [UInt8] {
        try state().toArray(UInt8.self)
    }

    /// Continues the stream from bytes returned by `stateBytes()`.
    public func setState(bytes: [UInt8]) throws {
        try setState(Tensor(bytes))
    }
}
