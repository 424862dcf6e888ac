// Tensor — a Swift owner of one libtorch tensor handle: facts (shape, dtype, device), construction
// from Swift arrays and bytes, readback. The ops live in the Tensor+*.swift files beside it.
import CTorch
import Foundation

/// An n-dimensional array in libtorch, owned by this object and released in `deinit`.
///
/// Every op returns a new `Tensor` (a new handle; views such as `reshape`, `narrow` or `transpose`
/// share storage with their source, exactly as in PyTorch), except the `…InPlace` methods, which
/// modify `self`. Ops that can fail in libtorch throw `TorchError` with libtorch's message and the
/// operands' shapes. Ops on tensors that require grad are recorded for autograd unless grad mode is
/// off (`withNoGrad { … }`).
///
/// Sendable because the handle is immutable and libtorch's reference counts are atomic; like any
/// shared mutable buffer, a tensor must not be modified in place by one task while another uses it.
public final class Tensor: @unchecked Sendable {
    let handle: OpaquePointer

    /// Adopts a handle returned by the shim (this object becomes its one owner).
    init(owning handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        ctorch_tensor_free(handle)
    }

    // MARK: facts

    /// Sizes of every dimension (`[]` for a scalar tensor).
    public var shape: [Int] {
        var ndim: Int32 = 0
        mustSucceed { ctorch_tensor_ndim(handle, &ndim, $0) }
        if ndim == 0 { return [] }
        var sizes = [Int64](repeating: 0, count: Int(ndim))
        mustSucceed { ctorch_tensor_shape(handle, &sizes, ndim, $0) }
        return sizes.map { Int($0) }
    }

    /// Number of dimensions.
    public var rank: Int {
        var ndim: Int32 = 0
        mustSucceed { ctorch_tensor_ndim(handle, &ndim, $0) }
        return Int(ndim)
    }

    /// Size of dimension `dim` (negative counts from the end).
    public func size(_ dim: Int) throws -> Int {
        let sizes = shape
        let index = dim < 0 ? dim + sizes.count : dim
        guard sizes.indices.contains(index) else {
            throw TorchError("dimension \(dim) is out of range for a tensor of shape \(sizes)")
        }
        return sizes[index]
    }

    /// Number of elements.
    public var count: Int {
        var numel: Int64 = 0
        mustSucceed { ctorch_tensor_numel(handle, &numel, $0) }
        return Int(numel)
    }

    public var dtype: DType {
        var dtype = CTORCH_F32
        mustSucceed { ctorch_tensor_dtype(handle, &dtype, $0) }
        return DType(ctorch: dtype)
    }

    public var device: Device {
        var device = ctorch_device()
        mustSucceed { ctorch_tensor_device(handle, &device, $0) }
        return Device(ctorch: device)
    }

    public var isContiguous: Bool {
        var contiguous: Int32 = 0
        mustSucceed { ctorch_tensor_is_contiguous(handle, &contiguous, $0) }
        return contiguous != 0
    }

    /// Bytes the elements take (count × element size), not counting views' shared storage twice.
    public var byteCount: Int { count * dtype.elementSize }

    /// A second `Tensor` for the same libtorch tensor (same storage, same autograd identity).
    public func shared() throws -> Tensor {
        try makeTensor { ctorch_tensor_share(handle, $0, $1) }
    }

    // MARK: construction from Swift values

    /// A CPU tensor holding a copy of `values` in the given shape (default: 1-D).
    public convenience init<T: TensorElement>(_ values: [T], shape: [Int]? = nil) throws {
        let shape = shape ?? [values.count]
        let handle = try values.withUnsafeBytes { bytes in
            try Tensor.handle(fromBytes: bytes, shape: shape, dtype: T.dtype, as: T.dtype, device: .cpu)
        }
        self.init(owning: handle)
    }

    /// A tensor of `dtype` on `device` from raw little-endian element bytes (row-major), converted
    /// from `sourceDType` on the way when given (e.g. bf16 bytes → f32 tensor).
    public convenience init(
        bytes: UnsafeRawBufferPointer, shape: [Int], dtype sourceDType: DType, as dtype: DType? = nil,
        device: Device = .cpu
    ) throws {
        let handle = try Tensor.handle(fromBytes: bytes, shape: shape, dtype: sourceDType, as: dtype ?? sourceDType, device: device)
        self.init(owning: handle)
    }

    /// A one-element, zero-dimensional tensor.
    public convenience init<T: TensorElement>(scalar value: T) throws {
        try self.init([value], shape: [])
    }

    private static func handle(
        fromBytes bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType, as target: DType, device: Device
    ) throws -> OpaquePointer {
        try TorchRuntime.ensureConfigured()
        let sizes = shape.map { Int64($0) }
        var out: OpaquePointer? = nil
        try check {
            ctorch_tensor_from_bytes_as(
                bytes.baseAddress, bytes.count, sizes, Int32(sizes.count), dtype.ctorch, target.ctorch, device.ctorch,
                &out, $0)
        }
        return out!
    }

    // MARK: readback

    /// The elements in row-major order, converted to `T` (a float tensor read as `Int` truncates).
    public func toArray<T: TensorElement>(_ type: T.Type = T.self) throws -> [T] {
        let n = count
        return try [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            try check {
                ctorch_tensor_copy_to_bytes(handle, T.dtype.ctorch, buffer.baseAddress, n * MemoryLayout<T>.stride, $0)
            }
            initialized = n
        }
    }

    /// The value of a one-element tensor, converted to `T`.
    public func scalar<T: TensorElement>(_ type: T.Type = T.self) throws -> T {
        T(converting: try item())
    }

    /// The value of a one-element tensor, typed by the tensor's dtype.
    public func item() throws -> Scalar {
        var value = ctorch_scalar()
        try check { ctorch_tensor_item(handle, &value, $0) }
        return Scalar(ctorch: value)
    }

    /// The raw element bytes (row-major, this tensor's dtype) — e.g. to inspect bf16 bits.
    public func bytes() throws -> [UInt8] {
        let n = byteCount
        let dtype = self.dtype
        return try [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            try check { ctorch_tensor_copy_to_bytes(handle, dtype.ctorch, buffer.baseAddress, n, $0) }
            initialized = n
        }
    }

    /// Calls `body` with this tensor's element bytes without copying when the tensor is a contiguous
    /// CPU tensor (else with a contiguous CPU copy). The pointer is valid only inside `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let source = device == .cpu && isContiguous ? self : try to(.cpu).contiguous()
        var data: UnsafeMutableRawPointer? = nil
        try check { ctorch_tensor_data(source.handle, &data, $0) }
        return try withExtendedLifetime(source) {
            try body(UnsafeRawBufferPointer(start: data, count: source.byteCount))
        }
    }

    /// True when both tensors have the same shape, dtype and element values (torch.equal).
    public func equal(_ other: Tensor) throws -> Bool {
        var equal: Int32 = 0
        try check { ctorch_tensor_equal(handle, other.handle, &equal, $0) }
        return equal != 0
    }
}

extension Tensor: CustomStringConvertible {
    /// "Tensor([2, 3], f32, cpu)".
    public var description: String { "Tensor(\(shape), \(dtype), \(device))" }

    /// libtorch's printout, values included.
    public func contentDescription() throws -> String {
        var text: UnsafeMutablePointer<CChar>? = nil
        try check { ctorch_tensor_to_string(handle, &text, $0) }
        defer { ctorch_free_string(text) }
        return String(cString: text!)
    }
}
