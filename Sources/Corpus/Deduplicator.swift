// Deduplicator — decides, in input order, whether a scene is new. Exact: the first 128 bits of SHA-256
// of the normalised scene text. Near: MinHash LSH candidates (see MinHash) confirmed when the estimated
// Jaccard similarity reaches the threshold. Because the builder feeds tiers in priority order, text
// kept in core removes its copies from orbit and fractal, never the reverse. Memory grows with the
// number of kept scenes (about 0.5 KB each), not with the size of their text.
import Foundation

struct ExactKey: Hashable, Sendable {
    var high: UInt64
    var low: UInt64
}

struct Deduplicator {
    enum Verdict: Equatable {
        case kept
        case exactDuplicate
        case nearDuplicate
    }

    private let threshold: Double
    private var exact = Set<ExactKey>()
    private var bandHeads: [UInt64: UInt32] = [:]
    /// For kept scene s and band b: the previous kept scene with the same band key (or .max).
    private var chains: [UInt32] = []
    private var fingerprints: [UInt8] = []
    private var keptWithSignature: UInt32 = 0
    /// Candidates checked per band, so that a very common band key cannot make a lookup slow.
    private let chainLimit = 64

    init(threshold: Double) {
        self.threshold = threshold
    }

    /// Decides and, when the scene is kept, remembers it.
    mutating func admit(exactKey: ExactKey, bandKeys: [UInt64], fingerprint: [UInt8]) -> Verdict {
        guard !exact.contains(exactKey) else { return .exactDuplicate }
        if !bandKeys.isEmpty && threshold < 1 {
            if isNearDuplicate(bandKeys, fingerprint) { return .nearDuplicate }
            insert(bandKeys, fingerprint)
        }
        exact.insert(exactKey)
        return .kept
    }

    private func isNearDuplicate(_ bandKeys: [UInt64], _ fingerprint: [UInt8]) -> Bool {
        var checked = Set<UInt32>()
        return fingerprint.withUnsafeBufferPointer { candidateFingerprint in
            fingerprints.withUnsafeBufferPointer { all in
                for (band, key) in bandKeys.enumerated() {
                    var scene = bandHeads[key]
                    var steps = 0
                    while let current = scene, current != .max, steps < chainLimit {
                        steps += 1
                        if checked.insert(current).inserted {
                            let start = Int(current) * MinHasher.permutations
                            let stored = UnsafeBufferPointer(rebasing: all[start..<(start + MinHasher.permutations)])
                            if MinHasher.similarity(candidateFingerprint, stored) >= threshold { return true }
                        }
                        scene = chains[Int(current) * MinHasher.bands + band]
                    }
                }
                return false
            }
        }
    }

    private mutating func insert(_ bandKeys: [UInt64], _ fingerprint: [UInt8]) {
        let scene = keptWithSignature
        keptWithSignature += 1
        fingerprints.append(contentsOf: fingerprint)
        for key in bandKeys {
            chains.append(bandHeads[key] ?? .max)
            bandHeads[key] = scene
        }
    }
}
