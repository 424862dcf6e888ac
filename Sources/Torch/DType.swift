// DType — the element types Loom's tensors use, and their sizes and names.
import CTorch

/// An element type. `description` is the short name used in messages ("f32", "bf16", …).
public enum DType: Sendable, CaseIterable, Hashable, CustomStringConvertible {
    case float32, bfloat16, float16, float64
    case int64, int32, int8, uint8
    case bool

    /// Bytes per element.
    public var elementSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .bfloat16, .float16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .bfloat16, .float16, .float64: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .float32: "f32"
        case .bfloat16: "bf16"
        case .float16: "f16"
        case .float64: "f64"
        case .int64: "i64"
        case .int32: "i32"
        case .int8: "i8"
        case .uint8: "u8"
        case .bool: "bool"
        }
    }

    var ctorch: ctorch_dtype {
        switch self {
        case .float32: CTORCH_F32
        case .bfloat16: CTORCH_BF16
        case .float16: CTORCH_F16
        case .float64: CTORCH_F64
        case .int64: CTORCH_I64
        case .int32: CTORCH_I32
        case .int8: CTORCH_I8
        case .uint8: CTORCH_U8
        case .bool: CTORCH_BOOL
        }
    }

    init(ctorch: ctorch_dtype) {
        switch ctorch {
        case CTORCH_F32: self = .float32
        case CTORCH_BF16: self = .bfloat16
        case CTORCH_F16: self = .float16
        case CTORCH_F64: self = .float64
        case CTORCH_I64: self = .int64
        case CTORCH_I32: self = .int32
        case CTORCH_I8: self = .int8
        case CTORCH_U8: self = .uint8
        case CTORCH_BOOL: self = .bool
        default: fatalError("the shim returned an unknown dtype \(ctorch.rawValue)")
        }
    }
}
