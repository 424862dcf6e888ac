// Tensor+Shape — reshaping, views, dimension shuffles, joining and splitting. Views share storage with
// their source (no copy); `reshape` copies only when a view is impossible, as in PyTorch.
import CTorch

extension Tensor {
    /// The same elements in a new shape (one size may be −1); a view when possible.
    public func reshape(_ shape: [Int]) throws -> Tensor { try shapeOp(CTORCH_RESHAPE, shape) }
    /// A view in a new shape; fails when the layout does not allow one.
    public func view(_ shape: [Int]) throws -> Tensor { try shapeOp(CTORCH_VIEW, shape) }
    /// A broadcast view to `shape` (−1 keeps a size) — no copy.
    public func expand(_ shape: [Int]) throws -> Tensor { try shapeOp(CTORCH_EXPAND, shape) }
    /// Dimensions reordered: `x.permute([0, 2, 1, 3])`.
    public func permute(_ dims: [Int]) throws -> Tensor { try shapeOp(CTORCH_PERMUTE, dims) }
    /// Dimensions `dim0` and `dim1` swapped (a view).
    public func transpose(_ dim0: Int, _ dim1: Int) throws -> Tensor { try shapeOp(CTORCH_TRANSPOSE, [dim0, dim1]) }
    /// Tiled copies: `repeat([2, 1])` stacks two copies along dim 0.
    public func `repeat`(_ repeats: [Int]) throws -> Tensor { try shapeOp(CTORCH_REPEAT, repeats) }
    /// Each slice along `dim` repeated `repeats` times in place (GQA's repeat_kv).
    public func repeatInterleave(_ repeats: Int, dim: Int) throws -> Tensor {
        try shapeOp(CTORCH_REPEAT_INTERLEAVE, [repeats, dim])
    }
    /// `length` entries along `dim` starting at `start` (a view).
    public func narrow(dim: Int, start: Int, length: Int) throws -> Tensor {
        try shapeOp(CTORCH_NARROW, [dim, start, length])
    }
    /// Entries `start..<end` (clamped) every `step` along `dim` (a view). Negative indices count from the end.
    public func slice(dim: Int, start: Int = 0, end: Int = Int.max, step: Int = 1) throws -> Tensor {
        try shapeOp(CTORCH_SLICE, [dim, start, end, step])
    }
    /// The entry `index` along `dim`, with that dimension removed (a view).
    public func select(dim: Int, index: Int) throws -> Tensor { try shapeOp(CTORCH_SELECT, [dim, index]) }
    /// Every size-1 dimension removed, or only `dim` when given (and of size 1).
    public func squeeze(dim: Int? = nil) throws -> Tensor { try shapeOp(CTORCH_SQUEEZE, dim.map { [$0] } ?? []) }
    /// A size-1 dimension inserted at `dim`.
    public func unsqueeze(_ dim: Int) throws -> Tensor { try shapeOp(CTORCH_UNSQUEEZE, [dim]) }
    /// Dimensions `startDim...endDim` merged into one.
    public func flatten(startDim: Int = 0, endDim: Int = -1) throws -> Tensor {
        try shapeOp(CTORCH_FLATTEN, [startDim, endDim])
    }
    /// Elements cyclically shifted by `shift` along `dim`.
    public func roll(_ shift: Int, dim: Int) throws -> Tensor { try shapeOp(CTORCH_ROLL, [shift, dim]) }
    /// Upper triangle (elements below diagonal `diagonal` zeroed) of the last two dimensions.
    public func triu(_ diagonal: Int = 0) throws -> Tensor { try shapeOp(CTORCH_TRIU, [diagonal]) }
    /// Lower triangle (elements above diagonal `diagonal` zeroed) of the last two dimensions.
    public func tril(_ diagonal: Int = 0) throws -> Tensor { try shapeOp(CTORCH_TRIL, [diagonal]) }

    /// `tensors` joined along an existing dimension.
    public static func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor { try join(tensors, dim: dim, stack: false) }
    /// `tensors` (all the same shape) joined along a new dimension.
    public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor { try join(tensors, dim: dim, stack: true) }

    /// Views of `size` entries each along `dim` (the last may be shorter).
    public func split(size: Int, dim: Int = 0) throws -> [Tensor] { try splitOp(CTORCH_SPLIT_SIZE, [size], dim) }
    /// Views with the given sizes along `dim` (they must add up to the dimension's size) — e.g. a fused
    /// QKV projection split into q, k, v.
    public func split(sizes: [Int], dim: Int = 0) throws -> [Tensor] { try splitOp(CTORCH_SPLIT_SIZES, sizes, dim) }
    /// `chunks` nearly equal views along `dim`.
    public func chunk(_ chunks: Int, dim: Int = 0) throws -> [Tensor] { try splitOp(CTORCH_CHUNK, [chunks], dim) }
    /// One view per entry along `dim`, with that dimension removed.
    public func unbind(dim: Int = 0) throws -> [Tensor] { try splitOp(CTORCH_UNBIND, [], dim) }

    func shapeOp(_ op: ctorch_shape_op, _ arguments: [Int]) throws -> Tensor {
        let args = arguments.map { Int64(clamping: $0) }
        return try makeTensor { ctorch_shape_apply(op, handle, args, Int32(args.count), $0, $1) }
    }

    private static func join(_ tensors: [Tensor], dim: Int, stack: Bool) throws -> Tensor {
        let handles: [OpaquePointer?] = tensors.map { $0.handle }
        return try withExtendedLifetime(tensors) {
            try makeTensor { ctorch_cat(handles, Int32(handles.count), Int64(dim), stack ? 1 : 0, $0, $1) }
        }
    }

    private func splitOp(_ op: ctorch_split_op, _ arguments: [Int], _ dim: Int) throws -> [Tensor] {
        let args = arguments.map { Int64(clamping: $0) }
        var pieces: UnsafeMutablePointer<OpaquePointer?>? = nil
        var count: Int32 = 0
        try check { ctorch_split(op, handle, args, Int32(args.count), Int64(dim), &pieces, &count, $0) }
        defer { ctorch_free_tensor_array(pieces) }
        return (0..<Int(count)).map { Tensor(owning: pieces![$0]!) }
    }
}
