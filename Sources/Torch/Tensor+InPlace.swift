// Tensor+InPlace — ops that overwrite `self` instead of allocating: what optimizers, gradient
// clipping/accumulation and weight initialisation use. On a parameter that requires grad they must
// run with grad mode off (`withNoGrad { … }`), as in PyTorch.
import CTorch

extension Tensor {
    /// self ← f(self).
    public func applyInPlace(_ function: UnaryFunction) throws {
        let op = function.ctorch
        try check { ctorch_unary_inplace(op, handle, $0) }
    }

    /// self += other (broadcast to self's shape).
    public func addInPlace(_ other: Tensor) throws { try binaryInPlace(CTORCH_ADD, other) }
    /// self += alpha · other.
    public func addInPlace(_ other: Tensor, alpha: some ScalarConvertible) throws {
        let alpha = alpha.scalar.ctorch
        try check { ctorch_add_scaled_inplace(handle, other.handle, alpha, $0) }
    }
    public func addInPlace(_ value: some ScalarConvertible) throws { try binaryInPlace(CTORCH_ADD, value) }
    public func subInPlace(_ other: Tensor) throws { try binaryInPlace(CTORCH_SUB, other) }
    public func subInPlace(_ value: some ScalarConvertible) throws { try binaryInPlace(CTORCH_SUB, value) }
    public func mulInPlace(_ other: Tensor) throws { try binaryInPlace(CTORCH_MUL, other) }
    public func mulInPlace(_ value: some ScalarConvertible) throws { try binaryInPlace(CTORCH_MUL, value) }
    public func divInPlace(_ other: Tensor) throws { try binaryInPlace(CTORCH_DIV, other) }
    public func divInPlace(_ value: some ScalarConvertible) throws { try binaryInPlace(CTORCH_DIV, value) }
    public func powInPlace(_ exponent: some ScalarConvertible) throws { try binaryInPlace(CTORCH_POW, exponent) }

    /// self += value · t1 · t2 (Adam's second moment).
    public func addcmulInPlace(_ t1: Tensor, _ t2: Tensor, value: Double = 1) throws {
        let value = Scalar(value).ctorch
        try check { ctorch_addcmul_inplace(handle, t1.handle, t2.handle, value, $0) }
    }

    /// self += value · t1 / t2 (Adam's update).
    public func addcdivInPlace(_ t1: Tensor, _ t2: Tensor, value: Double = 1) throws {
        let value = Scalar(value).ctorch
        try check { ctorch_addcdiv_inplace(handle, t1.handle, t2.handle, value, $0) }
    }

    /// self += weight · (end − self) (Adam's first moment).
    public func lerpInPlace(_ end: Tensor, weight: some ScalarConvertible) throws {
        let weight = weight.scalar.ctorch
        try check { ctorch_lerp_inplace(handle, end.handle, weight, $0) }
    }

    /// self ← source (broadcast, converted to self's dtype and device).
    public func copy(from source: Tensor) throws {
        try check { ctorch_copy_inplace(handle, source.handle, $0) }
    }

    /// Every element ← value.
    public func fill(_ value: some ScalarConvertible) throws {
        let fill = value.scalar.ctorch
        try check { ctorch_fill_inplace(handle, fill, $0) }
    }

    /// Every element ← 0.
    public func zero() throws { try fill(0) }

    /// Elements limited to [min, max] in place.
    public func clampInPlace(min: Scalar? = nil, max: Scalar? = nil) throws {
        try withOptionalScalars(min, max) { low, high in
            try check { ctorch_clamp_inplace(handle, low, high, $0) }
        }
    }

    public func maskedFillInPlace(_ mask: Tensor, value: some ScalarConvertible) throws {
        let fill = value.scalar.ctorch
        try check { ctorch_masked_fill_inplace(handle, mask.handle, fill, $0) }
    }

    /// Every element ← uniform on [low, high) from `generator` (kaiming-uniform init of an existing weight).
    public func uniformInPlace(low: Double, high: Double, generator: Generator? = nil) throws {
        try check { ctorch_random_inplace(handle, CTORCH_RANDOM_UNIFORM, low, high, generator?.handle, $0) }
    }

    /// Every element ← normal(mean, std) from `generator`.
    public func normalInPlace(mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws {
        try check { ctorch_random_inplace(handle, CTORCH_RANDOM_NORMAL, mean, std, generator?.handle, $0) }
    }

    /// Every element ← 1 with probability p, else 0 (dropout masks).
    public func bernoulliInPlace(probability p: Double, generator: Generator? = nil) throws {
        try check { ctorch_bernoulli_inplace(handle, p, generator?.handle, $0) }
    }

    func binaryInPlace(_ op: ctorch_binary_op, _ other: Tensor) throws {
        try check { ctorch_binary_inplace(op, handle, other.handle, $0) }
    }

    func binaryInPlace(_ op: ctorch_binary_op, _ value: some ScalarConvertible) throws {
        let scalar = value.scalar.ctorch
        try check { ctorch_binary_scalar_inplace(op, handle, scalar, $0) }
    }
}
