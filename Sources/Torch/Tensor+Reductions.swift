// Tensor+Reductions — sums, means, extremes, norms over dimensions; max/min with indices, top-k and
// sorting; multinomial sampling and bucketize.
import CTorch

extension Tensor {
    /// Sum over `dims` (empty: every element).
    public func sum(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CTORCH_SUM, dims, keepDim) }
    /// Mean over `dims` (empty: every element).
    public func mean(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CTORCH_MEAN, dims, keepDim) }
    /// Largest value over `dims` (empty: every element).
    public func amax(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CTORCH_AMAX, dims, keepDim) }
    /// Smallest value over `dims` (empty: every element).
    public func amin(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CTORCH_AMIN, dims, keepDim) }
    /// Product over `dim` (nil: every element).
    public func prod(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
        try reduce(CTORCH_PROD, dim.map { [$0] } ?? [], keepDim)
    }
    /// log Σ exp over `dims` (empty: every element), computed stably.
    public func logsumexp(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
        try reduce(CTORCH_LOGSUMEXP, dims, keepDim)
    }
    /// True when every element (over `dim`, or all) is nonzero.
    public func all(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
        try reduce(CTORCH_ALL, dim.map { [$0] } ?? [], keepDim)
    }
    /// True when any element (over `dim`, or all) is nonzero.
    public func any(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
        try reduce(CTORCH_ANY, dim.map { [$0] } ?? [], keepDim)
    }
    /// Index of the largest value along `dim` (nil: in the flattened tensor).
    public func argmax(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
        try reduce(CTORCH_ARGMAX, dim.map { [$0] } ?? [], keepDim)
    }
    /// Index of the smallest value along `dim` (nil: in the flattened tensor).
    public func argmin(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
        try reduce(CTORCH_ARGMIN, dim.map { [$0] } ?? [], keepDim)
    }
    /// Unbiased variance over `dims` (empty: every element).
    public func variance(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CTORCH_VAR, dims, keepDim) }
    /// Unbiased standard deviation over `dims` (empty: every element).
    public func standardDeviation(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
        try reduce(CTORCH_STD, dims, keepDim)
    }

    /// The `ord`-norm (2: Euclidean, .infinity: max-abs) over `dims` (empty: every element).
    public func norm(_ ord: Double = 2, dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
        let list = dims.map(Int64.init)
        return try makeTensor { ctorch_vector_norm(handle, ord, list, Int32(list.count), keepDim ? 1 : 0, $0, $1) }
    }

    /// Largest values along `dim` and their int64 indices.
    public func max(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try valuesIndices(CTORCH_MAX_DIM, k: 0, dim: dim, descending: true, keepDim: keepDim)
    }

    /// Smallest values along `dim` and their int64 indices.
    public func min(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try valuesIndices(CTORCH_MIN_DIM, k: 0, dim: dim, descending: false, keepDim: keepDim)
    }

    /// The `k` largest (or smallest) values along `dim`, sorted, with their indices (top-k sampling).
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) throws -> (values: Tensor, indices: Tensor) {
        try valuesIndices(CTORCH_TOPK, k: k, dim: dim, descending: largest, keepDim: false)
    }

    /// Values sorted along `dim` (stable) with the permutation that sorts them (top-p sampling).
    public func sort(dim: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try valuesIndices(CTORCH_SORT, k: 0, dim: dim, descending: descending, keepDim: false)
    }

    /// Running sum along `dim`.
    public func cumsum(dim: Int) throws -> Tensor { try shapeOp(CTORCH_CUMSUM, [dim]) }

    /// For each row of these non-negative weights (1-D or 2-D), `samples` int64 indices drawn from
    /// `generator` in proportion to the weights.
    public func multinomial(samples: Int, replacement: Bool = false, generator: Generator? = nil) throws -> Tensor {
        try makeTensor { ctorch_multinomial(handle, Int64(samples), replacement ? 1 : 0, generator?.handle, $0, $1) }
    }

    /// For each element, the index of its bucket among the sorted 1-D `boundaries`
    /// (i such that boundaries[i−1] < x ≤ boundaries[i]) — nearest-level quantisation.
    public func bucketize(_ boundaries: Tensor) throws -> Tensor {
        try makeTensor { ctorch_bucketize(handle, boundaries.handle, $0, $1) }
    }

    private func reduce(_ op: ctorch_reduce_op, _ dims: [Int], _ keepDim: Bool) throws -> Tensor {
        let list = dims.map(Int64.init)
        return try makeTensor { ctorch_reduce(op, handle, list, Int32(list.count), keepDim ? 1 : 0, $0, $1) }
    }

    private func valuesIndices(
        _ op: ctorch_values_indices_op, k: Int, dim: Int, descending: Bool, keepDim: Bool
    ) throws -> (values: Tensor, indices: Tensor) {
        var values: OpaquePointer? = nil
        var indices: OpaquePointer? = nil
        try check {
            ctorch_values_indices(op, handle, Int64(k), Int64(dim), descending ? 1 : 0, keepDim ? 1 : 0, &values, &indices, $0)
        }
        return (Tensor(owning: values!), Tensor(owning: indices!))
    }
}
