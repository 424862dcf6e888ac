// Tensor+Factories — tensors made from nothing: constants, ranges and random draws. Random factories
// take an explicit `Generator` (nil: libtorch's global one) so that a run's randomness can be seeded,
// checkpointed and restored. None of them require grad: call `setRequiresGrad()` on parameters.
import CTorch

extension Tensor {
    /// Uninitialised memory (fast; fill it before reading).
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try TorchRuntime.ensureConfigured()
        let sizes = shape.map(Int64.init)
        return try makeTensor { ctorch_empty(sizes, Int32(sizes.count), dtype.ctorch, device.ctorch, $0, $1) }
    }

    /// Every element equal to `value`.
    public static func full(
        _ shape: [Int], value: some ScalarConvertible, dtype: DType = .float32, device: Device = .cpu
    ) throws -> Tensor {
        try TorchRuntime.ensureConfigured()
        let sizes = shape.map(Int64.init)
        let fill = value.scalar.ctorch
        return try makeTensor { ctorch_full(sizes, Int32(sizes.count), fill, dtype.ctorch, device.ctorch, $0, $1) }
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try full(shape, value: 0, dtype: dtype, device: device)
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try full(shape, value: 1, dtype: dtype, device: device)
    }

    /// Same shape, dtype and device as `self`, every element `value`.
    public func fullLike(_ value: some ScalarConvertible) throws -> Tensor {
        let fill = value.scalar.ctorch
        return try makeTensor { ctorch_full_like(handle, fill, 0, $0, $1) }
    }

    public func zerosLike() throws -> Tensor { try fullLike(0) }
    public func onesLike() throws -> Tensor { try fullLike(1) }

    /// Same shape, dtype and device as `self`, uninitialised.
    public func emptyLike() throws -> Tensor {
        try makeTensor { ctorch_full_like(handle, Scalar(0).ctorch, 1, $0, $1) }
    }

    /// `start, start + step, …` up to but excluding `end`, as `dtype`.
    public static func arange(
        _ start: some ScalarConvertible, _ end: some ScalarConvertible, step: Scalar = 1,
        dtype: DType = .int64, device: Device = .cpu
    ) throws -> Tensor {
        try TorchRuntime.ensureConfigured()
        let (a, b, s) = (start.scalar.ctorch, end.scalar.ctorch, step.ctorch)
        return try makeTensor { ctorch_arange(a, b, s, dtype.ctorch, device.ctorch, $0, $1) }
    }

    /// `0, 1, …, end − 1`.
    public static func arange(_ end: Int, dtype: DType = .int64, device: Device = .cpu) throws -> Tensor {
        try arange(0, end, step: 1, dtype: dtype, device: device)
    }

    /// Uniform on [low, high) — e.g. kaiming-uniform init is `uniform(shape, low: -b, high: b, generator: g)`.
    public static func uniform(
        _ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32, device: Device = .cpu,
        generator: Generator? = nil
    ) throws -> Tensor {
        try random(CTORCH_RANDOM_UNIFORM, low, high, shape, dtype, device, generator)
    }

    /// Uniform on [0, 1) (torch.rand).
    public static func rand(
        _ shape: [Int], dtype: DType = .float32, device: Device = .cpu, generator: Generator? = nil
    ) throws -> Tensor {
        try uniform(shape, low: 0, high: 1, dtype: dtype, device: device, generator: generator)
    }

    /// Normal with the given mean and standard deviation.
    public static func normal(
        _ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32, device: Device = .cpu,
        generator: Generator? = nil
    ) throws -> Tensor {
        try random(CTORCH_RANDOM_NORMAL, mean, std, shape, dtype, device, generator)
    }

    /// Standard normal (torch.randn).
    public static func randn(
        _ shape: [Int], dtype: DType = .float32, device: Device = .cpu, generator: Generator? = nil
    ) throws -> Tensor {
        try normal(shape, mean: 0, std: 1, dtype: dtype, device: device, generator: generator)
    }

    /// Integers uniform on [low, high).
    public static func randint(
        _ low: Int, _ high: Int, shape: [Int], dtype: DType = .int64, device: Device = .cpu,
        generator: Generator? = nil
    ) throws -> Tensor {
        try TorchRuntime.ensureConfigured()
        let sizes = shape.map(Int64.init)
        return try makeTensor {
            ctorch_randint(Int64(low), Int64(high), sizes, Int32(sizes.count), dtype.ctorch, device.ctorch,
                           generator?.handle, $0, $1)
        }
    }

    /// A random permutation of `0..<n` (int64) — data shuffling.
    public static func randperm(_ n: Int, device: Device = .cpu, generator: Generator? = nil) throws -> Tensor {
        try TorchRuntime.ensureConfigured()
        return try makeTensor { ctorch_randperm(Int64(n), device.ctorch, generator?.handle, $0, $1) }
    }

    private static func random(
        _ kind: ctorch_random_kind, _ a: Double, _ b: Double, _ shape: [Int], _ dtype: DType, _ device: Device,
        _ generator: Generator?
    ) throws -> Tensor {
        try TorchRuntime.ensureConfigured()
        let sizes = shape.map(Int64.init)
        return try makeTensor {
            ctorch_random(kind, a, b, sizes, Int32(sizes.count), dtype.ctorch, device.ctorch, generator?.handle, $0, $1)
        }
    }
}
