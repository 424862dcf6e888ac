// NF4DoubleQuantization — QLoRA's "double quantisation" of the per-block absmax of an NF4 weight
// (Dettmers et al. 2023, §3; bitsandbytes' `quantize_4bit(compress_statistics=True)`): the f32 absmax of
// each 64-element block are centred on their mean, then quantised to 8 bits in blocks of 256 with
// bitsandbytes' signed dynamic (tree) code and one f32 scale per 256-block. That brings the statistics
// from 32/64 = 0.5 bits per weight down to 8/64 + 32/(64·256) ≈ 0.127.
import Foundation
import Torch

/// The 256 values of bitsandbytes' signed 8-bit dynamic code (`create_dynamic_map(signed=True,
/// max_exponent_bits=7, total_bits=8)`): for decade i = 0…6, 2ⁱ fractions (the midpoints of
/// linspace(0.1, 1, 2ⁱ + 1)) times 10^(i−6), both signs, plus 0 and 1, ascending. Dense near 0 and
/// coarse near ±1, so small centred absmax values keep their relative precision.
enum DynamicCode8Bit {
    static let values: [Float] = {
        var values: [Float] = [0, 1]
        for decade in 0..<7 {
            let boundaries = linspace32(0.1, 1, count: (1 << decade) + 1)
            let magnitude = Float(Foundation.pow(10.0, Double(decade - 6)))
            for k in 0..<(boundaries.count - 1) {
                let mean = (boundaries[k] + boundaries[k + 1]) / 2
                values.append(magnitude * mean)
                values.append(-(magnitude * mean))
            }
        }
        return values.sorted()
    }()

    /// Midpoints between neighbouring values: a value's code is the number of midpoints below it.
    static let midpoints: [Float] = zip(values, values.dropFirst()).map { ($0 + $1) / 2 }

    /// The code of the value nearest to `x` (binary search over the midpoints).
    static func nearestCode(_ x: Float) -> UInt8 {
        var low = 0
        var high = midpoints.count
        while low < high {
            let middle = (low + high) / 2
            if midpoints[middle] < x { low = middle + 1 } else { high = middle }
        }
        return UInt8(low)
    }

    /// torch.linspace's float32 arithmetic (the first half counted up from `start`, the second half
    /// down from `end`), so the code matches the one bitsandbytes builds.
    private static func linspace32(_ start: Float, _ end: Float, count: Int) -> [Float] {
        let step = (end - start) / Float(count - 1)
        let halfway = count / 2
        return (0..<count).map { index in
            index < halfway ? start + step * Float(index) : end - step * Float(count - index - 1)
        }
    }
}

/// The absmax of an NF4 weight's 64-blocks, double-quantised: `absmax ≈ code[c] · scale[block of 256] +
/// offset`, dequantised on demand (a few small tensor ops over n/64 values).
struct DoubleQuantizedAbsmax {
    static let blockSize = 256

    /// One 8-bit code per absmax (u8).
    let codes: Tensor
    /// The absmax of each 256-block of centred values (f32).
    let scales: Tensor
    /// The mean of all absmax, subtracted before quantising.
    let offset: Float
    /// How many absmax values (the NF4 weight's 64-block count).
    let count: Int

    init(absmax: [Float]) throws {
        let count = absmax.count
        self.count = count
        let blocks = (count + Self.blockSize - 1) / Self.blockSize
        let offset = Float(absmax.reduce(0.0) { $0 + Double($1) } / Double(max(1, absmax.count)))
        self.offset = offset
        var codes = [UInt8](repeating: 0, count: count)
        var scales = [Float](repeating: 0, count: blocks)
        for block in 0..<blocks {
            let range = (block * Self.blockSize)..<min(count, (block + 1) * Self.blockSize)
            let scale = range.reduce(Float(0)) { Swift.max($0, Swift.abs(absmax[$1] - offset)) }
            scales[block] = scale
            let inverse = scale > 0 ? 1 / scale : 0
            for index in range { codes[index] = DynamicCode8Bit.nearestCode((absmax[index] - offset) * inverse) }
        }
        self.codes = try Tensor(codes)
        self.scales = try Tensor(scales)
    }

    /// The absmax values (f32, `count`): code value × block scale + offset.
    func dequantize(code: Tensor) throws -> Tensor {
        let levels = try code.indexSelect(dim: 0, index: codes.to(.int64))
        let blockScales = try scales.repeatInterleave(Self.blockSize, dim: 0).narrow(dim: 0, start: 0, length: count)
        return try levels * blockScales + Double(offset)
    }

    var residentBytes: Int { codes.byteCount + scales.byteCount + MemoryLayout<Float>.size }
}
