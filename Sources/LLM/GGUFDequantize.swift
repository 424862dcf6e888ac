// GGUFDequantize — llama.cpp's tensor encodings, decoded to f32: the plain F32, F16 and BF16; the 32-value
// blocks Q8_0, Q4_0 and Q4_1; and the 256-value K-quant super-blocks Q4_K, Q5_K (an f16 scale and min per
// super-block, a 6-bit scale and min per 32-value sub-block, 4-bit quants plus Q5_K's plane of fifth bits)
// and Q6_K (4 low bits and 2 high bits per quant, an int8 scale per 16 values, an f16 scale). Each decoder
// reads raw bytes through pointers and writes straight into the output buffer (no per-value allocation);
// the arithmetic is ggml's, in its order, so the values are bit-for-bit those of llama.cpp's and gguf-py's
// dequantisers. Rows are whole blocks (GGML's rule), checked with the tensor named.
import Foundation
import LoomCore
import Torch

public enum GGUFDequantize {
    /// One GGML encoding: `elements` values stored in `bytes` bytes, decoded `count` blocks at a time.
    struct Encoding: Sendable {
        let name: String
        let elements: Int
        let bytes: Int
        let decode: @Sendable (_ blocks: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<Float>) -> Void
    }

    /// The GGML type codes Loom decodes.
    static let encodings: [UInt32: Encoding] = [
        0: Encoding(name: "F32", elements: 1, bytes: 4, decode: f32),
        1: Encoding(name: "F16", elements: 1, bytes: 2, decode: f16),
        30: Encoding(name: "BF16", elements: 1, bytes: 2, decode: bf16),
        8: Encoding(name: "Q8_0", elements: 32, bytes: 34, decode: q8_0),
        2: Encoding(name: "Q4_0", elements: 32, bytes: 18, decode: q4_0),
        3: Encoding(name: "Q4_1", elements: 32, bytes: 20, decode: q4_1),
        12: Encoding(name: "Q4_K", elements: 256, bytes: 144, decode: q4K),
        13: Encoding(name: "Q5_K", elements: 256, bytes: 176, decode: q5K),
        14: Encoding(name: "Q6_K", elements: 256, bytes: 210, decode: q6K),
    ]
    /// Names of the GGML types Loom does not decode, for the error that refuses them.
    static let otherTypeNames: [UInt32: String] = [
        6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS",
        19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 29: "IQ1_M",
    ]
    /// "F32, F16, …": what the refusal lists as supported.
    static var supportedNames: String {
        encodings.sorted { ($0.value.elements, $0.key) < ($1.value.elements, $1.key) }.map(\.value.name).joined(separator: ", ")
    }

    /// One tensor of `reader`'s file as f32 in its PyTorch shape. Errors name the file and the tensor: an
    /// encoding Loom does not decode, rows that are not whole blocks, bytes past the end of the file.
    public static func tensor(_ info: GGUFTensorInfo, from reader: GGUFReader) throws -> Tensor {
        let path = reader.file.path
        guard let encoding = encodings[info.type] else {
            let name = otherTypeNames[info.type].map { "\($0) (type \(info.type))" } ?? "type \(info.type)"
            throw GGUFFileError(file: path, problem: "tensor \(info.name): \(name) is not supported (\(supportedNames))")
        }
        let count = info.elementCount
        let row = info.dimensions.first ?? 1
        guard row % encoding.elements == 0 else {
            throw GGUFFileError(
                file: path,
                problem: "tensor \(info.name): \(encoding.name) stores each row as whole blocks of \(encoding.elements) values, "
                    + "but its rows (the innermost dimension of shape \(info.shape)) hold \(row)")
        }
        let blocks = count / encoding.elements
        let bytes = try reader.bytes(of: info, byteCount: blocks * encoding.bytes,
                                     layout: encoding.elements == 1 ? nil : "\(blocks) \(encoding.name) blocks of \(encoding.bytes)")
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            values.withUnsafeMutableBufferPointer { out in
                guard let source = raw.baseAddress?.assumingMemoryBound(to: UInt8.self), let target = out.baseAddress else { return }
                encoding.decode(source, blocks, target)
            }
        }
        return try Tensor(values, shape: info.shape)
    }

    /// The little-endian f16 at `at`, widened.
    @inline(__always) static func half(_ at: UnsafePointer<UInt8>) -> Float {
        Float(Float16(bitPattern: UInt16(at[0]) | UInt16(at[1]) << 8))
    }

    static func f32(_ source: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: 4 * count)  // little-endian hosts only, as GGUF
    }

    static func f16(_ source: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        for i in 0..<count { out[i] = half(source + 2 * i) }
    }

    static func bf16(_ source: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        for i in 0..<count { out[i] = Float(bitPattern: (UInt32(source[2 * i]) | UInt32(source[2 * i + 1]) << 8) << 16) }
    }

    /// d (f16), 32 × int8: x = q · d.
    static func q8_0(_ source: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        for block in 0..<count {
            let at = source + block * 34, o = out + block * 32, d = half(at)
            for i in 0..<32 { o[i] = Float(Int8(bitPattern: at[2 + i])) * d }
        }
    }

    /// d (f16), 16 bytes: value j from the low nibble of byte j, j + 16 from its high nibble; x = (q − 8) · d.
    static func q4_0(_ source: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        for block in 0..<count {
            let at = source + block * 18, o = out + block * 32, d = half(at)
            for j in 0..<16 {
                let byte = at[2 + j]
                o[j] = Float(Int(byte & 0x0F) - 8) * d
                o[j + 16] = Float(Int(byte >> 4) - 8) * d
            }
        }
    }

    /// d (f16), m (f16), 16 bytes as Q4_0's; x = q · d + m.
    static func q4_1(_ source: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        for block in 0..<count {
            let at = source + block * 20, o = out + block * 32, d = half(at), m = half(at + 2)
            for j in 0..<16 {
                let byte = at[4 + j]
                o[j] = Float(byte & 0x0F) * d + m
                o[j + 16] = Float(byte >> 4) * d + m
            }
        }
    }

    /// Sub-block `j`'s 6-bit scale and min from Q4_K's / Q5_K's 12 packed bytes: for j < 4 the low 6 bits of
    /// bytes j and j + 4; for j ≥ 4 the two nibbles of byte j + 4 below the top 2 bits of bytes j − 4 and j.
    @inline(__always) static func scaleAndMin(_ packed: UnsafePointer<UInt8>, _ j: Int) -> (scale: Float, min: Float) {
        if j < 4 { return (Float(packed[j] & 63), Float(packed[j + 4] & 63)) }
        let low = packed[j + 4]
        return (Float((low & 0x0F) | (packed[j - 4] >> 6) << 4), Float((low >> 4) | (packed[j] >> 6) << 4))
    }

    /// 144 bytes: d, dmin (f16), 12 bytes of scales/mins, 128 bytes of quants. Sub-blocks 2p and 2p + 1 are
    /// the low and high nibbles of bytes 32p…32p + 31; x = (d · scale) · q − dmin · min.
    static func q4K(_ source: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        for block in 0..<count {
            let at = source + block * 144, d = half(at), dmin = half(at + 2)
            for pair in 0..<4 {
                let low = scaleAndMin(at + 4, 2 * pair), high = scaleAndMin(at + 4, 2 * pair + 1)
                let lowScale = d * low.scale, lowOffset = dmin * low.min, highScale = d * high.scale, highOffset = dmin * high.min
                let q = at + 16 + 32 * pair, o = out + block * 256 + 64 * pair
                for i in 0..<32 {
                    o[i] = lowScale * Float(q[i] & 0x0F) - lowOffset
                    o[32 + i] = highScale * Float(q[i] >> 4) - highOffset
                }
            }
        }
    }

    /// 176 bytes: d, dmin, scales/mins as Q4_K's, 32 bytes of fifth bits (bit j of byte i for value i of
    /// sub-block j), 128 bytes of low nibbles as Q4_K's quants; x = (d · scale) · (q + 16 · bit) − dmin · min.
    static func q5K(_ source: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        for block in 0..<count {
            let at = source + block * 176, d = half(at), dmin = half(at + 2), fifth = at + 16
            for sub in 0..<8 {
                let (scale, minimum) = scaleAndMin(at + 4, sub)
                let multiplier = d * scale, offset = dmin * minimum
                let q = at + 48 + 32 * (sub / 2), shift = UInt8(4 * (sub % 2)), o = out + block * 256 + 32 * sub
                for i in 0..<32 {
                    let value = (q[i] >> shift) & 0x0F | ((fifth[i] >> UInt8(sub)) & 1) << 4
                    o[i] = multiplier * Float(value) - offset
                }
            }
        }
    }

    /// 210 bytes: 128 bytes of low nibbles, 64 bytes of high bit pairs, 16 int8 scales, d (f16). Each half h
    /// of 128 values: value e takes the low (e < 64) or high nibble of byte 64h + e mod 64, and bits
    /// 2⌊e/32⌋… of byte 32h + e mod 32; its scale is number ⌊(128h + e)/16⌋; x = (d · scale) · (q − 32).
    static func q6K(_ source: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        for block in 0..<count {
            let at = source + block * 210, d = half(at + 208)
            for group in 0..<16 {
                let multiplier = d * Float(Int8(bitPattern: at[192 + group]))
                let part = group / 8, e0 = 16 * (group % 8)
                let low = at + 64 * part, high = at + 128 + 32 * part, o = out + block * 256 + 16 * group
                let lowShift = UInt8(e0 / 64 * 4), highShift = UInt8(e0 / 32 * 2)
                for k in 0..<16 {
                    let e = e0 + k
                    let q = (low[e % 64] >> lowShift) & 0x0F | ((high[e % 32] >> highShift) & 3) << 4
                    o[k] = multiplier * Float(Int(q) - 32)
                }
            }
        }
    }
}
