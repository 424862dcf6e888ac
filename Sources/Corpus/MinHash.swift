// MinHash — near-duplicate fingerprints of scenes.
//   Words: runs of letters and digits (Unicode), with an inner hyphen or apostrophe kept ("кто-то",
//   "don't" are one word); case-folded for Latin, Latin-1 and Cyrillic. Shingles: every run of
//   `shingleWords` consecutive words (5 by default; a text with fewer words is one shingle).
//   Signature: one-permutation MinHash (Li, Owen & Zhang 2012) with 128 bins — a seeded 64-bit hash of
//   each shingle picks a bin by its top 7 bits and the bin keeps its smallest value — so a shingle costs
//   one hash instead of 128. An empty bin (short texts) is filled by optimal densification (Shrivastava
//   2017): it copies the first non-empty bin along a seeded probe sequence that depends only on the bin,
//   so two texts fill their empty bins from the same places and matching stays consistent.
//   LSH: 16 bands × 8 rows; two scenes become candidates when a whole band agrees — probability
//   1 − (1 − J^8)^16: 0.95 at Jaccard J = 0.8, 0.06 at J = 0.5. Candidates are confirmed on a
//   one-byte-per-bin fingerprint (b-bit MinHash, b = 8): the share m of equal bytes estimates J as
//   (m − 1/256) / (1 − 1/256).
import Foundation

struct MinHasher: Sendable {
    static let permutations = 128
    static let bands = 16
    static let rows = 8

    let shingleWords: Int
    private let seedKey: UInt64

    init(seed: UInt64, shingleWords: Int) {
        self.shingleWords = shingleWords
        var state = seed ^ 0x6a09_e667_f3bc_c909
        seedKey = splitMix64(&state)
    }

    struct Result: Sendable {
        var words: Int
        /// Band keys (one per band) — empty when the text has no word.
        var bandKeys: [UInt64]
        /// One byte per minimum, for estimating similarity.
        var fingerprint: [UInt8]
    }

    /// Counts words and, when `signature` is set, computes the LSH band keys and fingerprint.
    func analyse(_ bytes: UnsafeBufferPointer<UInt8>, signature: Bool) -> Result {
        var bins = [UInt64](repeating: .max, count: Self.permutations)
        let size = shingleWords
        let seedKey = seedKey
        // The shingle hash is a polynomial in the word hashes, Σ wᵢ·B^(k−1−i), rolled one word at a time:
        // multiply by B, add the new word, subtract the word that left (its coefficient is then B^k).
        let base: UInt64 = 0x9e37_79b9_7f4a_7c15
        var leavingFactor: UInt64 = 1
        for _ in 0..<size { leavingFactor = leavingFactor &* base }
        var ring = [UInt64](repeating: 0, count: 16)
        var rolling: UInt64 = 0
        var words = 0
        var shingles = 0
        bins.withUnsafeMutableBufferPointer { bins in
            ring.withUnsafeMutableBufferPointer { ring in
                func add(_ shingle: UInt64) {
                    let hash = mix64(shingle ^ seedKey)
                    let bin = Int(hash >> 57)
                    let value = hash & Self.valueMask
                    if value < bins[bin] { bins[bin] = value }
                    shingles += 1
                }
                WordScanner.forEachWord(bytes) { wordHash in
                    rolling = rolling &* base &+ wordHash
                    if words >= size { rolling = rolling &- ring[(words - size) & 15] &* leavingFactor }
                    ring[words & 15] = wordHash
                    words += 1
                    if signature && words >= size { add(rolling) }
                }
                if signature && shingles == 0 && words > 0 { add(rolling) }
            }
        }
        guard signature, shingles > 0 else { return Result(words: words, bandKeys: [], fingerprint: []) }
        let minima = densified(bins)
        var bandKeys = [UInt64]()
        bandKeys.reserveCapacity(Self.bands)
        for band in 0..<Self.bands {
            var key = UInt64(band) &* 0x9e37_79b9_7f4a_7c15
            for row in 0..<Self.rows { key = mix64(key ^ minima[band * Self.rows + row]) }
            bandKeys.append(key)
        }
        return Result(words: words, bandKeys: bandKeys, fingerprint: minima.map { UInt8(truncatingIfNeeded: mix64($0) >> 56) })
    }

    /// Values live in the low 57 bits; `.max` marks an empty bin.
    private static let valueMask: UInt64 = (1 << 57) - 1

    /// Empty bins copy the first non-empty bin of their own seeded probe sequence. Each copy is tagged
    /// with the bin it fills, so a borrowed value never equals the source bin's own value by accident.
    private func densified(_ bins: [UInt64]) -> [UInt64] {
        var result = bins
        for bin in 0..<Self.permutations where bins[bin] == .max {
            var attempt: UInt64 = 0
            var source = bin
            repeat {
                attempt += 1
                source = Int(mix64(seedKey &+ UInt64(bin) << 32 &+ attempt) & UInt64(Self.permutations - 1))
            } while bins[source] == .max && attempt < 4096
            if bins[source] == .max { source = bins.firstIndex { $0 != .max }! }
            result[bin] = mix64(bins[source] ^ UInt64(bin) &* 0x9e37_79b9_7f4a_7c15) & Self.valueMask
        }
        return result
    }

    /// Estimated Jaccard similarity of two fingerprints.
    static func similarity(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Double {
        var equal = 0
        for index in 0..<permutations where a[index] == b[index] { equal += 1 }
        let share = Double(equal) / Double(permutations)
        return max(0, (share - 1.0 / 256) / (1 - 1.0 / 256))
    }
}

@inline(__always)
func mix64(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
}

func splitMix64(_ state: inout UInt64) -> UInt64 {
    state = state &+ 0x9e37_79b9_7f4a_7c15
    return mix64(state)
}

/// Finds words in UTF-8 text and hashes each case-folded.
enum WordScanner {
    /// Calls `body` with the hash of each word, in order. ASCII and basic Cyrillic (the bulk of the
    /// text) are classified and case-folded straight from their bytes; other scalars are decoded.
    @inline(__always)
    static func forEachWord(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (UInt64) -> Void) {
        var hash: UInt64 = 0
        var inWord = false
        var pendingJoiner = false
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            var folded: UInt32?
            var scalar: UInt32
            if byte < 0x80 {
                index += 1
                scalar = UInt32(byte)
                let lower = byte | 0x20
                if byte >= 0x30 && byte <= 0x39 {
                    folded = scalar
                } else if lower >= 0x61 && lower <= 0x7A {
                    folded = UInt32(lower)
                }
            } else if (byte == 0xD0 || byte == 0xD1) && index + 1 < count {
                // U+0400–U+047F: all letters.
                scalar = UInt32(byte & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F)
                index += 2
                folded = scalar < 0x0410 ? scalar + 0x50 : (scalar < 0x0430 ? scalar + 0x20 : scalar)
            } else {
                let (decoded, width) = TextCleanup.decodeScalar(bytes, index)
                index += width
                scalar = decoded
                folded = foldedWordScalar(decoded)
            }
            if let folded {
                if !inWord {
                    hash = 0xcbf2_9ce4_8422_2325
                    inWord = true
                } else if pendingJoiner {
                    hash = (hash ^ 0x2D) &* 0x100_0000_01b3
                }
                pendingJoiner = false
                hash = (hash ^ UInt64(folded)) &* 0x100_0000_01b3
            } else if inWord && !pendingJoiner && (scalar == 0x2D || scalar == 0x27 || scalar == 0x2019) {
                pendingJoiner = true
            } else if inWord {
                body(mix64(hash))
                inWord = false
                pendingJoiner = false
            }
        }
        if inWord { body(mix64(hash)) }
    }

    /// The case-folded scalar when `scalar` belongs to a word, else nil.
    @inline(__always)
    static func foldedWordScalar(_ scalar: UInt32) -> UInt32? {
        switch scalar {
        case 0x30...0x39, 0x61...0x7A: return scalar
        case 0x41...0x5A: return scalar + 0x20
        case 0..<0x80: return nil
        case 0x0430...0x045F: return scalar
        case 0x0410...0x042F: return scalar + 0x20
        case 0x0400...0x040F: return scalar + 0x50
        case 0xC0...0xDE where scalar != 0xD7: return scalar + 0x20
        case 0xDF...0xFF where scalar != 0xF7: return scalar
        default:
            guard let unicode = Unicode.Scalar(scalar) else { return nil }
            let properties = unicode.properties
            return properties.isAlphabetic || properties.numericType != nil ? scalar : nil
        }
    }
}
