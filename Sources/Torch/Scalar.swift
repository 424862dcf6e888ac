// Scalar — a number passed to an op (`x * 2`, `x.clamp(min: 0)`), typed like a Python number so that
// it promotes the same way: an integer scalar keeps an integer tensor integral, a real one does not.
import CTorch

public struct Scalar: Sendable, Equatable, CustomStringConvertible {
    public enum Value: Sendable, Equatable {
        case real(Double)
        case integer(Int64)
        case bool(Bool)
    }

    public let value: Value

    public init(_ value: Value) { self.value = value }
    public init(_ value: Double) { self.value = .real(value) }
    public init(_ value: Float) { self.value = .real(Double(value)) }
    public init(_ value: Int) { self.value = .integer(Int64(value)) }
    public init(_ value: Int64) { self.value = .integer(value) }
    public init(_ value: Bool) { self.value = .bool(value) }

    /// The value as a Double (exact for integers up to 2⁵³).
    public var doubleValue: Double {
        switch value {
        case .real(let x): x
        case .integer(let x): Double(x)
        case .bool(let x): x ? 1 : 0
        }
    }

    /// The value as an integer (reals truncated toward zero).
    public var intValue: Int64 {
        switch value {
        case .real(let x): Int64(x)
        case .integer(let x): x
        case .bool(let x): x ? 1 : 0
        }
    }

    public var description: String {
        switch value {
        case .real(let x): "\(x)"
        case .integer(let x): "\(x)"
        case .bool(let x): "\(x)"
        }
    }

    var ctorch: ctorch_scalar {
        switch value {
        case .real(let x): ctorch_scalar(kind: Int32(CTORCH_SCALAR_REAL.rawValue), real: x, integer: 0)
        case .integer(let x): ctorch_scalar(kind: Int32(CTORCH_SCALAR_INT.rawValue), real: 0, integer: x)
        case .bool(let x): ctorch_scalar(kind: Int32(CTORCH_SCALAR_BOOL.rawValue), real: 0, integer: x ? 1 : 0)
        }
    }

    init(ctorch: ctorch_scalar) {
        switch ctorch.kind {
        case Int32(CTORCH_SCALAR_REAL.rawValue): value = .real(ctorch.real)
        case Int32(CTORCH_SCALAR_BOOL.rawValue): value = .bool(ctorch.integer != 0)
        default: value = .integer(ctorch.integer)
        }
    }
}

extension Scalar: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral {
    public init(integerLiteral value: Int64) { self.value = .integer(value) }
    public init(floatLiteral value: Double) { self.value = .real(value) }
    public init(booleanLiteral value: Bool) { self.value = .bool(value) }
}

/// Swift numbers that can stand where an op takes a scalar: `x * 2`, `x / scale`, `x.clamp(min: 0.0)`.
public protocol ScalarConvertible {
    var scalar: Scalar { get }
}

extension Scalar: ScalarConvertible { public var scalar: Scalar { self } }
extension Double: ScalarConvertible { public var scalar: Scalar { Scalar(self) } }
extension Float: ScalarConvertible { public var scalar: Scalar { Scalar(self) } }
extension Int: ScalarConvertible { public var scalar: Scalar { Scalar(self) } }
extension Int64: ScalarConvertible { public var scalar: Scalar { Scalar(self) } }
extension Int32: ScalarConvertible { public var scalar: Scalar { Scalar(Int64(self)) } }
extension UInt8: ScalarConvertible { public var scalar: Scalar { Scalar(Int64(self)) } }
extension Bool: ScalarConvertible { public var scalar: Scalar { Scalar(self) } }
