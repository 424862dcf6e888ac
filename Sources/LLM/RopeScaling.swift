// RopeScaling — the rotary-embedding scalings of config.json's `rope_scaling` / `rope_parameters`
// (`rope_type` linear, llama3, yarn, longrope): how each changes the inverse frequencies θ^(−2i/D), and the factor
// YaRN multiplies cos and sin by. The arithmetic follows transformers' modeling_rope_utils step by step
// (f32 where it uses tensors, f64 where it uses Python floats), so that the tables agree to an ulp.
import Foundation

public enum RopeScaling: Sendable, Equatable {
    /// Position interpolation: every inverse frequency divided by `factor`.
    case linear(factor: Double)
    /// Llama 3.1's: wavelengths above original/low_freq_factor divided by `factor`, below
    /// original/high_freq_factor kept, and a smooth blend between.
    case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalMaxPositions: Int)
    /// YaRN (Peng et al. 2023): a linear ramp between interpolated and extrapolated frequencies over the
    /// dimensions whose rotation counts lie between beta_slow and beta_fast, and cos/sin scaled by the
    /// attention factor.
    case yarn(factor: Double, originalMaxPositions: Int, betaFast: Double, betaSlow: Double,
              attentionFactor: Double?, mscale: Double?, mscaleAllDim: Double?, truncate: Bool)
    /// LongRoPE (Phi-3.5, Phi-4-mini): each inverse frequency divided by its own factor — `shortFactor`
    /// while a sequence stays within the original context, `longFactor` once it runs past — and cos/sin
    /// scaled by the attention factor (given, or √(1 + ln(max/original) / ln original)).
    case longrope(shortFactor: [Double], longFactor: [Double], originalMaxPositions: Int, attentionFactor: Double)

    /// The `rope_type` config.json names it by.
    public var ropeType: String {
        switch self {
        case .linear: "linear"
        case .llama3: "llama3"
        case .yarn: "yarn"
        case .longrope: "longrope"
        }
    }

    public static let supportedTypes = ["default", "linear", "llama3", "yarn", "longrope"]

    /// The context beyond which LongRoPE takes its long factors; nil for the other scalings (one table).
    var longContextThreshold: Int? {
        guard case .longrope(_, _, let original, _) = self else { return nil }
        return original
    }

    /// The scaled inverse frequencies, given θ^(2i/D) for i < D/2 as transformers computes them in f32;
    /// `long`: LongRoPE's table for sequences past the original context.
    func inverseFrequencies(powers: [Float], headDim: Int, theta: Double, long: Bool = false) -> [Float] {
        let unscaled = powers.map { 1 / $0 }
        switch self {
        case .longrope(let short, let longFactors, _, _):
            // transformers: 1 / (ext_factors · base^(2i/D)), in f32.
            return zip(long ? longFactors : short, powers).map { factor, power in 1 / (Float(factor) * power) }
        case .linear(let factor):
            return unscaled.map { $0 / Float(factor) }
        case .llama3(let factor, let low, let high, let original):
            let lowWavelength = Float(Double(original) / low)
            let highWavelength = Float(Double(original) / high)
            return unscaled.map { frequency in
                // transformers: 2π / inv_freq, a reciprocal times the scalar, in f32.
                let wavelength = (1 / frequency) * Float(2 * Double.pi)
                if wavelength < highWavelength { return frequency }
                if wavelength > lowWavelength { return frequency / Float(factor) }
                let smooth = ((1 / wavelength) * Float(original) - Float(low)) / Float(high - low)
                return (1 - smooth) * frequency / Float(factor) + smooth * frequency
            }
        case .yarn(let factor, let original, let betaFast, let betaSlow, _, _, _, let truncate):
            let dim = Double(headDim)
            func correctionDimension(_ rotations: Double) -> Double {
                dim * Foundation.log(Double(original) / (rotations * 2 * Double.pi)) / (2 * Foundation.log(theta))
            }
            var low = correctionDimension(betaFast), high = correctionDimension(betaSlow)
            if truncate { (low, high) = (low.rounded(.down), high.rounded(.up)) }
            low = max(low, 0)
            high = min(high, dim - 1)
            if low == high { high += 0.001 }
            return powers.enumerated().map { index, power in
                let ramp = min(max((Float(index) - Float(low)) / Float(high - low), 0), 1)
                let extrapolationWeight = 1 - ramp
                let extrapolated = 1 / power
                let interpolated = 1 / (Float(factor) * power)
                return interpolated * (1 - extrapolationWeight) + extrapolated * extrapolationWeight
            }
        }
    }

    /// What cos and sin are multiplied by (1 except for YaRN and LongRoPE).
    var attentionScaling: Double {
        if case .longrope(_, _, _, let attentionFactor) = self { return attentionFactor }
        guard case .yarn(let factor, _, _, _, let attentionFactor, let mscale, let mscaleAllDim, _) = self else { return 1 }
        if let attentionFactor { return attentionFactor }
        func magnitude(_ scale: Double, _ m: Double) -> Double { scale <= 1 ? 1 : 0.1 * m * Foundation.log(scale) + 1 }
        if let mscale, let mscaleAllDim, mscale != 0, mscaleAllDim != 0 {
            return magnitude(factor, mscale) / magnitude(factor, mscaleAllDim)
        }
        return magnitude(factor, 1)
    }
}

extension RopeScaling {
    enum Keys: String, CodingKey {
        case ropeType = "rope_type", type, factor
        case lowFreqFactor = "low_freq_factor", highFreqFactor = "high_freq_factor"
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        case betaFast = "beta_fast", betaSlow = "beta_slow", attentionFactor = "attention_factor"
        case shortFactor = "short_factor", longFactor = "long_factor"
        case mscale, mscaleAllDim = "mscale_all_dim", truncate, ropeTheta = "rope_theta", partialRotaryFactor = "partial_rotary_factor"
    }

    /// Reads one `rope_scaling` / `rope_parameters` object; nil for the default rotation. A missing
    /// or wrong key is a DecodingError naming it; `maxPositions` is what transformers falls back to
    /// for `original_max_position_embeddings`.
    /// `originalMaxPositions`: the model's own `original_max_position_embeddings` (Phi-3 keeps it at the top
    /// level), used when the object has none.
    static func decode(from c: KeyedDecodingContainer<Keys>, maxPositions: Int, originalMaxPositions: Int? = nil) throws -> RopeScaling? {
        let kind = try c.decodeIfPresent(String.self, forKey: .ropeType) ?? c.decodeIfPresent(String.self, forKey: .type) ?? "default"
        func factor() throws -> Double {
            guard let value = try c.decodeIfPresent(Double.self, forKey: .factor) else {
                throw DecodingError.keyNotFound(Keys.factor, .init(codingPath: c.codingPath, debugDescription: "rope_type \"\(kind)\" needs a factor"))
            }
            guard value > 0 else {
                throw DecodingError.dataCorruptedError(forKey: .factor, in: c, debugDescription: "must be positive, got \(value)")
            }
            return value
        }
        let original = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings) ?? originalMaxPositions ?? maxPositions
        switch kind {
        case "default":
            return nil
        case "linear":
            return .linear(factor: try factor())
        case "llama3":
            let low = try c.decode(Double.self, forKey: .lowFreqFactor)
            let high = try c.decode(Double.self, forKey: .highFreqFactor)
            guard high > low else {
                throw DecodingError.dataCorruptedError(forKey: .highFreqFactor, in: c,
                                                       debugDescription: "must exceed low_freq_factor (\(low)), got \(high)")
            }
            return .llama3(factor: try factor(), lowFrequencyFactor: low, highFrequencyFactor: high, originalMaxPositions: original)
        case "yarn":
            // transformers: a missing factor is max_position_embeddings / original; a 0 beta means the default.
            let yarnFactor = try c.decodeIfPresent(Double.self, forKey: .factor) ?? Double(maxPositions) / Double(original)
            let fast = try c.decodeIfPresent(Double.self, forKey: .betaFast).flatMap { $0 == 0 ? nil : $0 } ?? 32
            let slow = try c.decodeIfPresent(Double.self, forKey: .betaSlow).flatMap { $0 == 0 ? nil : $0 } ?? 1
            return .yarn(factor: yarnFactor, originalMaxPositions: original, betaFast: fast, betaSlow: slow,
                         attentionFactor: try c.decodeIfPresent(Double.self, forKey: .attentionFactor),
                         mscale: try c.decodeIfPresent(Double.self, forKey: .mscale),
                         mscaleAllDim: try c.decodeIfPresent(Double.self, forKey: .mscaleAllDim),
                         truncate: try c.decodeIfPresent(Bool.self, forKey: .truncate) ?? true)
        case "longrope":
            let short = try c.decode([Double].self, forKey: .shortFactor)
            let long = try c.decode([Double].self, forKey: .longFactor)
            guard short.count == long.count, short.allSatisfy({ $0 > 0 }), long.allSatisfy({ $0 > 0 }) else {
                throw DecodingError.dataCorruptedError(forKey: .longFactor, in: c,
                                                       debugDescription: "must hold as many positive factors as short_factor (\(short.count)), got \(long.count)")
            }
            // transformers: a missing factor is max_position_embeddings / original; the attention factor follows it.
            let factor = try c.decodeIfPresent(Double.self, forKey: .factor) ?? Double(maxPositions) / Double(original)
            let attention = try c.decodeIfPresent(Double.self, forKey: .attentionFactor)
                ?? (factor <= 1 ? 1 : (1 + Foundation.log(factor) / Foundation.log(Double(original))).squareRoot())
            return .longrope(shortFactor: short, longFactor: long, originalMaxPositions: original, attentionFactor: attention)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .ropeType, in: c,
                debugDescription: "rope_type \"\(kind)\" is not supported (supported: \(supportedTypes.joined(separator: ", ")))")
        }
    }

    /// Writes the object back as config.json holds it (`rope_type` and its keys, with `rope_theta`).
    func encode(to c: inout KeyedEncodingContainer<Keys>, theta: Double) throws {
        try c.encode(ropeType, forKey: .ropeType)
        try c.encode(theta, forKey: .ropeTheta)
        switch self {
        case .linear(let factor):
            try c.encode(factor, forKey: .factor)
        case .llama3(let factor, let low, let high, let original):
            try c.encode(factor, forKey: .factor)
            try c.encode(low, forKey: .lowFreqFactor)
            try c.encode(high, forKey: .highFreqFactor)
            try c.encode(original, forKey: .originalMaxPositionEmbeddings)
        case .yarn(let factor, let original, let betaFast, let betaSlow, let attentionFactor, let mscale, let mscaleAllDim, let truncate):
            try c.encode(factor, forKey: .factor)
            try c.encode(original, forKey: .originalMaxPositionEmbeddings)
            try c.encode(betaFast, forKey: .betaFast)
            try c.encode(betaSlow, forKey: .betaSlow)
            try c.encodeIfPresent(attentionFactor, forKey: .attentionFactor)
            try c.encodeIfPresent(mscale, forKey: .mscale)
            try c.encodeIfPresent(mscaleAllDim, forKey: .mscaleAllDim)
            try c.encode(truncate, forKey: .truncate)
        case .longrope(let short, let long, let original, let attentionFactor):
            try c.encode(short, forKey: .shortFactor)
            try c.encode(long, forKey: .longFactor)
            try c.encode(original, forKey: .originalMaxPositionEmbeddings)
            try c.encode(attentionFactor, forKey: .attentionFactor)
        }
    }
}
