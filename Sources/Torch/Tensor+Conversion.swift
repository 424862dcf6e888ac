// Tensor+Conversion — dtype casts (f32 ⇄ bf16/f16, integer ⇄ float, …) and moves between devices.
import CTorch

extension Tensor {
    /// This tensor as `dtype` (self when it already is; else a converted copy, recorded by autograd).
    public func to(_ dtype: DType) throws -> Tensor {
        try makeTensor { ctorch_to_dtype(handle, dtype.ctorch, $0, $1) }
    }

    /// This tensor on `device` (self when it already is there).
    public func to(_ device: Device) throws -> Tensor {
        try makeTensor { ctorch_to_device(handle, device.ctorch, $0, $1) }
    }
}
