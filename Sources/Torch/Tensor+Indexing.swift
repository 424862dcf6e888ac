// Tensor+Indexing — picking and updating entries by index tensors: index_select, gather, embedding
// lookups, and index_copy/index_add/scatter (e.g. training only the rows of new tokens).
import CTorch

/// How `indexUpdate` combines `source` into the selected entries.
public enum IndexUpdate: Sendable {
    /// self[index along dim] = source
    case copy
    /// self[index along dim] += source
    case add
    /// torch.scatter: self[index[i][j]][j] = source[i][j] (for dim 0)
    case scatter
    /// torch.scatter_add
    case scatterAdd

    var ctorch: ctorch_index_update_op {
        switch self {
        case .copy: CTORCH_INDEX_COPY
        case .add: CTORCH_INDEX_ADD
        case .scatter: CTORCH_SCATTER
        case .scatterAdd: CTORCH_SCATTER_ADD
        }
    }
}

extension Tensor {
    /// The entries at `index` (1-D int64) along `dim`.
    public func indexSelect(dim: Int, index: Tensor) throws -> Tensor {
        try makeTensor { ctorch_index(CTORCH_INDEX_SELECT, handle, Int64(dim), index.handle, $0, $1) }
    }

    /// torch.gather: out[i][j] = self[i][index[i][j]] for dim 1 (e.g. the log-probability of each target).
    public func gather(dim: Int, index: Tensor) throws -> Tensor {
        try makeTensor { ctorch_index(CTORCH_GATHER, handle, Int64(dim), index.handle, $0, $1) }
    }

    /// A new tensor equal to `self` with the entries at `index` along `dim` updated from `source`
    /// (differentiable with respect to both).
    public func indexUpdate(_ kind: IndexUpdate, dim: Int, index: Tensor, source: Tensor) throws -> Tensor {
        try makeTensor { ctorch_index_update(kind.ctorch, handle, Int64(dim), index.handle, source.handle, $0, $1) }
    }

    /// The same update written into `self`.
    public func indexUpdateInPlace(_ kind: IndexUpdate, dim: Int, index: Tensor, source: Tensor) throws {
        try check { ctorch_index_update_inplace(kind.ctorch, handle, Int64(dim), index.handle, source.handle, $0) }
    }

    /// Rows of this [vocabulary, dim] weight at `indices` (int64, any shape) → [..., dim].
    /// Rows at `paddingIndex` get no gradient.
    public func embedding(_ indices: Tensor, paddingIndex: Int? = nil) throws -> Tensor {
        let padding = Int64(paddingIndex ?? -1)
        return try makeTensor { ctorch_embedding(handle, indices.handle, padding, $0, $1) }
    }
}
