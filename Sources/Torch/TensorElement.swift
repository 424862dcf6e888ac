// TensorElement — the Swift types whose arrays convert to and from tensors without reinterpretation
// (bf16 has no Swift type: move it as raw bytes, or convert to f32).

/// A Swift number type with the same memory layout as one element of `dtype`.
public protocol TensorElement: Sendable {
    static var dtype: DType { get }
    /// The value of a one-element tensor, converted to this type.
    init(converting scalar: Scalar)
}

extension Float: TensorElement {
    public static var dtype: DType { .float32 }
    public init(converting scalar: Scalar) { self = Float(scalar.doubleValue) }
}

extension Double: TensorElement {
    public static var dtype: DType { .float64 }
    public init(converting scalar: Scalar) { self = scalar.doubleValue }
}

extension Int64: TensorElement {
    public static var dtype: DType { .int64 }
    public init(converting scalar: Scalar) { self = scalar.intValue }
}

/// `Int` is 64-bit on every platform Loom runs on, so it maps to int64.
extension Int: TensorElement {
    public static var dtype: DType { .int64 }
    public init(converting scalar: Scalar) { self = Int(scalar.intValue) }
}

extension Int32: TensorElement {
    public static var dtype: DType { .int32 }
    public init(converting scalar: Scalar) { self = Int32(truncatingIfNeeded: scalar.intValue) }
}

extension Int8: TensorElement {
    public static var dtype: DType { .int8 }
    public init(converting scalar: Scalar) { self = Int8(truncatingIfNeeded: scalar.intValue) }
}

extension UInt8: TensorElement {
    public static var dtype: DType { .uint8 }
    public init(converting scalar: Scalar) { self = UInt8(truncatingIfNeeded: scalar.intValue) }
}

extension Bool: TensorElement {
    public static var dtype: DType { .bool }
    public init(converting scalar: Scalar) { self = scalar.doubleValue != 0 }
}

#if !(os(macOS) && arch(x86_64))
extension Float16: TensorElement {
    public static var dtype: DType { .float16 }
    public init(converting scalar: Scalar) { self = Float16(scalar.doubleValue) }
}
#endif
