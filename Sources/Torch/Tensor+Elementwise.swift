// Tensor+Elementwise — elementwise math with broadcasting and PyTorch's type promotion: unary
// functions, binary ops with tensors or scalars (and the + − × ÷ operators), comparisons, bitwise
// ops (NF4 unpacking), clamp, where and masked_fill, and the matrix products.
import CTorch

/// A one-argument elementwise function, for `apply(_:)` and `applyInPlace(_:)`.
public enum UnaryFunction: Sendable, CaseIterable {
    case neg, abs, sqrt, rsqrt, exp, log, log1p, sin, cos, tanh, sigmoid, silu, gelu, geluTanh, relu
    case reciprocal, square, floor, ceil, round, sign, erf, logicalNot, bitwiseNot

    var ctorch: ctorch_unary_op {
        switch self {
        case .neg: CTORCH_NEG
        case .abs: CTORCH_ABS
        case .sqrt: CTORCH_SQRT
        case .rsqrt: CTORCH_RSQRT
        case .exp: CTORCH_EXP
        case .log: CTORCH_LOG
        case .log1p: CTORCH_LOG1P
        case .sin: CTORCH_SIN
        case .cos: CTORCH_COS
        case .tanh: CTORCH_TANH
        case .sigmoid: CTORCH_SIGMOID
        case .silu: CTORCH_SILU
        case .gelu: CTORCH_GELU
        case .geluTanh: CTORCH_GELU_TANH
        case .relu: CTORCH_RELU
        case .reciprocal: CTORCH_RECIPROCAL
        case .square: CTORCH_SQUARE
        case .floor: CTORCH_FLOOR
        case .ceil: CTORCH_CEIL
        case .round: CTORCH_ROUND
        case .sign: CTORCH_SIGN
        case .erf: CTORCH_ERF
        case .logicalNot: CTORCH_LOGICAL_NOT
        case .bitwiseNot: CTORCH_BITWISE_NOT
        }
    }
}

extension Tensor {
    // MARK: unary

    /// `f(self)` elementwise.
    public func apply(_ function: UnaryFunction) throws -> Tensor { try unary(function.ctorch) }

    public func neg() throws -> Tensor { try unary(CTORCH_NEG) }
    public func abs() throws -> Tensor { try unary(CTORCH_ABS) }
    public func sqrt() throws -> Tensor { try unary(CTORCH_SQRT) }
    public func rsqrt() throws -> Tensor { try unary(CTORCH_RSQRT) }
    public func exp() throws -> Tensor { try unary(CTORCH_EXP) }
    public func log() throws -> Tensor { try unary(CTORCH_LOG) }
    public func sin() throws -> Tensor { try unary(CTORCH_SIN) }
    public func cos() throws -> Tensor { try unary(CTORCH_COS) }
    public func tanh() throws -> Tensor { try unary(CTORCH_TANH) }
    public func sigmoid() throws -> Tensor { try unary(CTORCH_SIGMOID) }
    /// x · sigmoid(x) (SwiGLU's gate).
    public func silu() throws -> Tensor { try unary(CTORCH_SILU) }
    /// GELU, exact (erf) or with the tanh approximation.
    public func gelu(tanhApproximation: Bool = false) throws -> Tensor {
        try unary(tanhApproximation ? CTORCH_GELU_TANH : CTORCH_GELU)
    }
    public func relu() throws -> Tensor { try unary(CTORCH_RELU) }
    public func reciprocal() throws -> Tensor { try unary(CTORCH_RECIPROCAL) }
    public func square() throws -> Tensor { try unary(CTORCH_SQUARE) }
    public func isNaN() throws -> Tensor { try unary(CTORCH_ISNAN) }
    public func isInf() throws -> Tensor { try unary(CTORCH_ISINF) }
    public func isFinite() throws -> Tensor { try unary(CTORCH_ISFINITE) }
    public func logicalNot() throws -> Tensor { try unary(CTORCH_LOGICAL_NOT) }
    public func bitwiseNot() throws -> Tensor { try unary(CTORCH_BITWISE_NOT) }

    /// `self` when already contiguous, else a contiguous copy.
    public func contiguous() throws -> Tensor { try unary(CTORCH_CONTIGUOUS) }
    /// A copy with its own storage (recorded by autograd).
    public func clone() throws -> Tensor { try unary(CTORCH_CLONE) }
    /// The same storage, cut from the autograd graph (never requires grad).
    public func detach() throws -> Tensor { try unary(CTORCH_DETACH) }

    func unary(_ op: ctorch_unary_op) throws -> Tensor {
        try makeTensor { ctorch_unary(op, handle, $0, $1) }
    }

    // MARK: binary with tensors and scalars

    public func add(_ other: Tensor) throws -> Tensor { try binary(CTORCH_ADD, other) }
    /// self + alpha · other.
    public func add(_ other: Tensor, alpha: some ScalarConvertible) throws -> Tensor {
        let alpha = alpha.scalar.ctorch
        return try makeTensor { ctorch_add_scaled(handle, other.handle, alpha, $0, $1) }
    }
    public func add(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_ADD, value) }
    public func sub(_ other: Tensor) throws -> Tensor { try binary(CTORCH_SUB, other) }
    public func sub(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_SUB, value) }
    public func mul(_ other: Tensor) throws -> Tensor { try binary(CTORCH_MUL, other) }
    public func mul(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_MUL, value) }
    /// True division (integers give floats).
    public func div(_ other: Tensor) throws -> Tensor { try binary(CTORCH_DIV, other) }
    public func div(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_DIV, value) }
    public func pow(_ exponent: Tensor) throws -> Tensor { try binary(CTORCH_POW, exponent) }
    public func pow(_ exponent: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_POW, exponent) }
    public func remainder(_ other: Tensor) throws -> Tensor { try binary(CTORCH_REMAINDER, other) }
    public func remainder(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_REMAINDER, value) }
    /// Division rounded toward −∞ (Python's //).
    public func floorDivide(_ other: Tensor) throws -> Tensor { try binary(CTORCH_FLOOR_DIVIDE, other) }
    public func floorDivide(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_FLOOR_DIVIDE, value) }
    public func maximum(_ other: Tensor) throws -> Tensor { try binary(CTORCH_MAXIMUM, other) }
    public func minimum(_ other: Tensor) throws -> Tensor { try binary(CTORCH_MINIMUM, other) }
    public func atan2(_ other: Tensor) throws -> Tensor { try binary(CTORCH_ATAN2, other) }

    // MARK: comparisons (bool tensors)

    public func eq(_ other: Tensor) throws -> Tensor { try binary(CTORCH_EQ, other) }
    public func eq(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_EQ, value) }
    public func ne(_ other: Tensor) throws -> Tensor { try binary(CTORCH_NE, other) }
    public func ne(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_NE, value) }
    public func lt(_ other: Tensor) throws -> Tensor { try binary(CTORCH_LT, other) }
    public func lt(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_LT, value) }
    public func le(_ other: Tensor) throws -> Tensor { try binary(CTORCH_LE, other) }
    public func le(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_LE, value) }
    public func gt(_ other: Tensor) throws -> Tensor { try binary(CTORCH_GT, other) }
    public func gt(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_GT, value) }
    public func ge(_ other: Tensor) throws -> Tensor { try binary(CTORCH_GE, other) }
    public func ge(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_GE, value) }

    // MARK: bitwise and logical (integer and bool tensors)

    public func bitwiseAnd(_ other: Tensor) throws -> Tensor { try binary(CTORCH_BITWISE_AND, other) }
    public func bitwiseAnd(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_BITWISE_AND, value) }
    public func bitwiseOr(_ other: Tensor) throws -> Tensor { try binary(CTORCH_BITWISE_OR, other) }
    public func bitwiseOr(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_BITWISE_OR, value) }
    public func bitwiseXor(_ other: Tensor) throws -> Tensor { try binary(CTORCH_BITWISE_XOR, other) }
    public func bitwiseXor(_ value: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_BITWISE_XOR, value) }
    public func shiftLeft(_ other: Tensor) throws -> Tensor { try binary(CTORCH_SHIFT_LEFT, other) }
    public func shiftLeft(_ bits: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_SHIFT_LEFT, bits) }
    public func shiftRight(_ other: Tensor) throws -> Tensor { try binary(CTORCH_SHIFT_RIGHT, other) }
    public func shiftRight(_ bits: some ScalarConvertible) throws -> Tensor { try binary(CTORCH_SHIFT_RIGHT, bits) }
    public func logicalAnd(_ other: Tensor) throws -> Tensor { try binary(CTORCH_LOGICAL_AND, other) }
    public func logicalOr(_ other: Tensor) throws -> Tensor { try binary(CTORCH_LOGICAL_OR, other) }

    // MARK: matrix products

    /// torch.matmul: 1-D/2-D products, batched and broadcast over leading dimensions.
    public func matmul(_ other: Tensor) throws -> Tensor { try binary(CTORCH_MATMUL, other) }
    /// [n, k] × [k, m].
    public func mm(_ other: Tensor) throws -> Tensor { try binary(CTORCH_MM, other) }
    /// [b, n, k] × [b, k, m].
    public func bmm(_ other: Tensor) throws -> Tensor { try binary(CTORCH_BMM, other) }

    // MARK: clamp, where, masked fill

    /// Elements limited to [min, max]; either bound may be omitted.
    public func clamp(min: Scalar? = nil, max: Scalar? = nil) throws -> Tensor {
        try withOptionalScalars(min, max) { low, high in
            try makeTensor { ctorch_clamp(handle, low, high, $0, $1) }
        }
    }

    /// `condition ? a : b` elementwise (broadcasting).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try makeTensor { ctorch_where(condition.handle, a.handle, b.handle, $0, $1) }
    }

    /// `self` with `value` wherever the bool `mask` (broadcast) is true — e.g. a causal mask of −∞.
    public func maskedFill(_ mask: Tensor, value: some ScalarConvertible) throws -> Tensor {
        let fill = value.scalar.ctorch
        return try makeTensor { ctorch_masked_fill(handle, mask.handle, fill, $0, $1) }
    }

    // MARK: plumbing

    func binary(_ op: ctorch_binary_op, _ other: Tensor) throws -> Tensor {
        try makeTensor { ctorch_binary(op, handle, other.handle, $0, $1) }
    }

    func binary(_ op: ctorch_binary_op, _ value: some ScalarConvertible, scalarFirst: Bool = false) throws -> Tensor {
        let scalar = value.scalar.ctorch
        return try makeTensor { ctorch_binary_scalar(op, handle, scalar, scalarFirst ? 1 : 0, $0, $1) }
    }
}

/// Passes optional scalars to C as pointers (NULL for nil) valid during `body`.
func withOptionalScalars<R>(
    _ first: Scalar?, _ second: Scalar?,
    _ body: (UnsafePointer<ctorch_scalar>?, UnsafePointer<ctorch_scalar>?) throws -> R
) rethrows -> R {
    var a = first?.ctorch ?? ctorch_scalar()
    var b = second?.ctorch ?? ctorch_scalar()
    return try withUnsafePointer(to: &a) { pa in
        try withUnsafePointer(to: &b) { pb in
            try body(first == nil ? nil : pa, second == nil ? nil : pb)
        }
    }
}

// MARK: operators — each throws (shape mismatches are libtorch errors): `let y = try a * b + 1`

extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.add(rhs) }
    public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.sub(rhs) }
    public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.mul(rhs) }
    public static func / (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.div(rhs) }

    public static func + (lhs: Tensor, rhs: some ScalarConvertible) throws -> Tensor { try lhs.add(rhs) }
    public static func - (lhs: Tensor, rhs: some ScalarConvertible) throws -> Tensor { try lhs.sub(rhs) }
    public static func * (lhs: Tensor, rhs: some ScalarConvertible) throws -> Tensor { try lhs.mul(rhs) }
    public static func / (lhs: Tensor, rhs: some ScalarConvertible) throws -> Tensor { try lhs.div(rhs) }

    public static func + (lhs: some ScalarConvertible, rhs: Tensor) throws -> Tensor {
        try rhs.binary(CTORCH_ADD, lhs, scalarFirst: true)
    }
    public static func - (lhs: some ScalarConvertible, rhs: Tensor) throws -> Tensor {
        try rhs.binary(CTORCH_SUB, lhs, scalarFirst: true)
    }
    public static func * (lhs: some ScalarConvertible, rhs: Tensor) throws -> Tensor {
        try rhs.binary(CTORCH_MUL, lhs, scalarFirst: true)
    }
    public static func / (lhs: some ScalarConvertible, rhs: Tensor) throws -> Tensor {
        try rhs.binary(CTORCH_DIV, lhs, scalarFirst: true)
    }

    public static prefix func - (operand: Tensor) throws -> Tensor { try operand.neg() }
}

extension Tensor {
    /// base ** exponent elementwise for a scalar base (e.g. RoPE's `theta ** (2i / d)`).
    public static func pow(_ base: some ScalarConvertible, _ exponent: Tensor) throws -> Tensor {
        try exponent.binary(CTORCH_POW, base, scalarFirst: true)
    }
}
