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
    private var bandHeads = BandTable()
    /// For kept scene s and band b: the previous kept scene with the same band key (or .max). Scene
    /// numbers are UInt32: four billion kept scenes is beyond any corpus this runs on.
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
                    var current = bandHeads[key]
                    var steps = 0
                    while current != .max && steps < chainLimit {
                        steps += 1
                        if checked.insert(current).inserted {
                            let start = Int(current) * MinHasher.permutations
                            let stored = UnsafeBufferPointer(rebasing: all[start..<(start + MinHasher.permutations)])
                            if MinHasher.similarity(candidateFingerprint, stored) >= threshold { return true }
                        }
                        current = chains[Int(current) * MinHasher.bands + band]
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
            chains.append(bandHeads.replace(key, with: scene))
        }
    }
}

/// The LSH buckets: band key → the last kept scene with that key (.max when none). Open addressing
/// with linear probing over two flat arrays — a fifth of the memory of a Dictionary and no hashing of
/// keys that are already uniformly random.
struct BandTable {
    private var keys: [UInt64]
    private var values: [UInt32]
    private var used = 0
    private var mask: Int

    init(capacity: Int = 1 << 16) {
        keys = [UInt64](repeating: 0, count: capacity)
        values = [UInt32](repeating: .max, count: capacity)
        mask = capacity - 1
    }

    /// `.max` when the key was never stored.
    subscript(key: UInt64) -> UInt32 {
        var slot = Int(truncatingIfNeeded: key) & mask
        while values[slot] != .max {
            if keys[slot] == key { return values[slot] }
            slot = (slot + 1) & mask
        }
        return .max
    }

    /// Stores `value` under `key` and returns what was there (.max when nothing).
    mutating func replace(_ key: UInt64, with value: UInt32) -> UInt32 {
        if (used + 1) * 4 > keys.count * 3 { grow() }
        var slot = Int(truncatingIfNeeded: key) & mask
        while values[slot] != .max {
            if keys[slot] == key {
                defer { values[slot] = value }
                return values[slot]
            }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        values[slot] = value
        used += 1
        return .max
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt64](repeating: 0, count: oldKeys.count * 2)
        values = [UInt32](repeating: .max, count: oldKeys.count * 2)
        mask = keys.count - 1
        used = 0
        for index in oldKeys.indices where oldValues[index] != .max { _ = replace(oldKeys[index], with: oldValues[index]) }
    }
}
