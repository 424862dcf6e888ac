// CausalAttention — softmax(q·kᵀ/√D + causal mask)·v with grouped-query heads: as batched GEMMs whose
// scores GEMM adds the mask itself (baddbmm) and that never copy k and v for GQA (`compute`), or through
// PyTorch's scaled_dot_product_attention (`sdpa`: flash / memory-efficient kernels on CUDA).
import Foundation
import Torch

enum CausalAttention {
    /// q (B, H, T, D); k, v (B, KV, S, D) holding positions 0..<S, the T queries being the last T of
    /// them. Returns (B·T, H·D), token-major rows ready for o_proj.
    ///
    /// Query heads h = g·rep + j (rep = H/KV) share key/value head g, as in transformers' repeat_kv. Seen
    /// as (B·KV, rep·T, D), the rep query heads of a group are just more rows against the same keys, so
    /// the scores are one batched GEMM over B·KV batches, and k, v are never repeated.
    /// `scale` (nil: 1/√D) multiplies the scores; a `softcap` maps them to cap·tanh(s/cap) before the mask
    /// (Gemma 2).
    /// A `documentMask` (B, 1, T, S) — packed documents, the causal mask included — takes the place of the
    /// causal mask (the window still applies).
    static func compute(
        q: Tensor, k: Tensor, v: Tensor, slidingWindow: Int?, scale: Double? = nil, softcap: Double? = nil, documentMask: Tensor? = nil
    ) throws -> Tensor {
        let (batch, heads, length, headDim) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (kvHeads, keyLength) = (k.shape[1], k.shape[2])
        let group = heads / kvHeads
        let queries = try q.reshape([batch * kvHeads, group * length, headDim])
        let keysT = try k.reshape([batch * kvHeads, keyLength, headDim]).transpose(1, 2)
        let vals = try v.reshape([batch * kvHeads, keyLength, headDim])
        let scale = scale ?? 1 / Double(headDim).squareRoot()
        let mask: Tensor?
        if let documentMask {
            // (B, 1, T, S) → one (group·T, S) block per batch row and KV head; a window's mask added.
            var rows = try documentMask.reshape([batch, 1, 1, length, keyLength]).expand([batch, kvHeads, group, length, keyLength])
                .reshape([batch * kvHeads, group * length, keyLength])
            if slidingWindow != nil,
               let window = try Self.mask(queries: length, keys: keyLength, slidingWindow: slidingWindow, group: group, device: q.device) {
                rows = try rows + window
            }
            mask = rows
        } else {
            mask = try Self.mask(queries: length, keys: keyLength, slidingWindow: slidingWindow, group: group, device: q.device)
        }
        var scores: Tensor
        if let softcap {
            scores = try (queries.bmm(keysT) * (scale / softcap)).tanh() * softcap
            if let mask { scores = try scores + mask.to(scores.dtype) }
        } else if let mask {
            scores = try mask.expand([batch * kvHeads, group * length, keyLength]).baddbmm(queries, keysT, alpha: scale)
        } else {
            scores = try queries.bmm(keysT) * scale
        }
        let context = try scores.softmax(dim: -1).bmm(vals)
        return try context.reshape([batch, heads, length, headDim]).transpose(1, 2).reshape([batch * length, heads * headDim])
    }

    /// The same attention through PyTorch's SDPA (flash / memory-efficient kernels on CUDA): the plain
    /// causal mask when the queries are the whole sequence, else the additive mask of `mask` (a KV cache
    /// or a sliding window). Returns (B·T, H·D) like `compute`.
    static func sdpa(q: Tensor, k: Tensor, v: Tensor, slidingWindow: Int?, scale: Double? = nil, documentMask: Tensor? = nil) throws -> Tensor {
        let (batch, heads, length, headDim) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let keyLength = k.shape[2]
        let windowCuts = slidingWindow.map { keyLength > $0 } ?? false
        let attended: Tensor
        if let documentMask {
            var mask = documentMask
            if windowCuts, let window = try Self.mask(queries: length, keys: keyLength, slidingWindow: slidingWindow, group: 1, device: q.device) {
                mask = try mask + window
            }
            attended = try scaledDotProductAttention(q: q, k: k, v: v, mask: mask.to(q.dtype), scale: scale)
        } else if length == keyLength && !windowCuts {
            attended = try scaledDotProductAttention(q: q, k: k, v: v, isCausal: length > 1, scale: scale)
        } else {
            let mask = try mask(queries: length, keys: keyLength, slidingWindow: slidingWindow, group: 1, device: q.device)
            attended = try scaledDotProductAttention(q: q, k: k, v: v, mask: mask?.to(q.dtype), scale: scale)
        }
        return try attended.transpose(1, 2).reshape([batch * length, heads * headDim])
    }

    /// (group·T, S) additive mask, 0 where query t (position S−T+t) may attend to key s and −∞ elsewhere;
    /// nil when nothing is masked (one query at the end of the sequence, no window cutting in).
    static func mask(queries length: Int, keys keyLength: Int, slidingWindow: Int?, group: Int, device: Device) throws -> Tensor? {
        let offset = keyLength - length
        let windowCuts = slidingWindow.map { keyLength > $0 } ?? false
        if length == 1 && !windowCuts { return nil }
        return try withNoGrad {
            let positions = try (Tensor.arange(length, device: device) + offset).reshape([length, 1])
            let keys = try Tensor.arange(keyLength, device: device).reshape([1, keyLength])
            var blocked = try keys.gt(positions)
            if let window = slidingWindow {
                blocked = try blocked.logicalOr(keys.le(positions - window))
            }
            let mask = try Tensor.zeros([length, keyLength], device: device).maskedFill(blocked, value: -Double.infinity)
            return group == 1 ? mask : try mask.repeat([group, 1])
        }
    }
}
