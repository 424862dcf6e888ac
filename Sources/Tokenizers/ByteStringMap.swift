// ByteStringMap and PairRankTable — the two hash tables on the encoder's hot path, in flat arrays:
// byte strings → a 64-bit value (vocabulary lookups, the word → ids cache) and an id pair → its
// merge (rank, new id). Open addressing, linear probing, no per-lookup allocation.
#if canImport(Glibc)
import Glibc
#endif

/// A fast, non-cryptographic hash of a byte string (8 bytes at a time).
@inline(__always)
func hashBytes(_ base: UnsafeRawPointer, _ count: Int) -> UInt64 {
    var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: count)
    var offset = 0
    while offset + 8 <= count {
        let word = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        hash = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 31
        offset += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while offset < count {
        tail |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) << shift
        shift += 8
        offset += 1
    }
    hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
    hash ^= hash >> 29
    return hash
}

/// Byte strings → UInt64 values. Keys are copied into one arena; each slot holds its entry
/// inline (hash, value, key position), so a lookup touches one slot and the key bytes.
struct ByteStringMap: Sendable {
    private struct Slot: Sendable {
        var hash: UInt64 = 0
        var value: UInt64 = 0
        var keyStart: Int32 = 0
        var keyLength: Int32 = -1  // -1: empty
    }

    private var slots: [Slot]
    private var arena: [UInt8] = []
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(), count: size)
        mask = size - 1
    }

    /// Stands in for the base address of an empty buffer (never read: lengths are 0).
    private static var emptyKey: UnsafeRawPointer { UnsafeRawPointer(bitPattern: 0x10)! }

    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer) -> UInt64? {
        let base = key.baseAddress ?? ByteStringMap.emptyKey
        let hash = hashBytes(base, key.count)
        return slots.withUnsafeBufferPointer { slots -> UInt64? in
            arena.withUnsafeBytes { arena -> UInt64? in
                let arenaBase = arena.baseAddress ?? ByteStringMap.emptyKey
                var index = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let slot = slots[index]
                    if slot.keyLength < 0 { return nil }
                    if slot.hash == hash, Int(slot.keyLength) == key.count,
                        memcmp(arenaBase + Int(slot.keyStart), base, key.count) == 0
                    {
                        return slot.value
                    }
                    index = (index + 1) & mask
                }
            }
        }
    }

    func find(_ bytes: [UInt8]) -> UInt64? {
        bytes.withUnsafeBytes { find($0) }
    }

    /// Inserts or (when `replace`) overwrites; returns whether the key was new.
    @discardableResult
    mutating func insert(_ key: UnsafeRawBufferPointer, value: UInt64, replace: Bool = true) -> Bool {
        if (count + 1) * 2 > slots.count { grow() }
        let base = key.baseAddress ?? ByteStringMap.emptyKey
        let hash = hashBytes(base, key.count)
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index].keyLength >= 0 {
            let slot = slots[index]
            if slot.hash == hash, Int(slot.keyLength) == key.count,
                arena.withUnsafeBytes({ memcmp(($0.baseAddress ?? ByteStringMap.emptyKey) + Int(slot.keyStart), base, key.count) == 0 })
            {
                if replace { slots[index].value = value }
                return false
            }
            index = (index + 1) & mask
        }
        slots[index] = Slot(hash: hash, value: value, keyStart: Int32(arena.count), keyLength: Int32(key.count))
        arena.append(contentsOf: key)
        count += 1
        return true
    }

    @discardableResult
    mutating func insert(_ bytes: [UInt8], value: UInt64, replace: Bool = true) -> Bool {
        bytes.withUnsafeBytes { insert($0, value: value, replace: replace) }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        mask = slots.count - 1
        for slot in old where slot.keyLength >= 0 {
            var index = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[index].keyLength >= 0 { index = (index + 1) & mask }
            slots[index] = slot
        }
    }
}

/// (left id, right id) → (rank, merged id): the merges of a BPE model.
struct PairRankTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    static let empty = UInt64.max

    /// `merges` in rank order; a pair listed twice keeps its later rank (as Hugging Face's map does).
    init(merges: [(left: Int32, right: Int32, merged: Int32)]) {
        var size = 16
        while size < merges.count * 2 { size <<= 1 }
        keys = [UInt64](repeating: PairRankTable.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
        for (rank, merge) in merges.enumerated() {
            let key = PairRankTable.key(merge.left, merge.right)
            var slot = PairRankTable.slot(key, mask)
            while keys[slot] != PairRankTable.empty && keys[slot] != key { slot = (slot + 1) & mask }
            keys[slot] = key
            values[slot] = UInt64(UInt32(rank)) << 32 | UInt64(UInt32(bitPattern: merge.merged))
        }
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The merge of (left, right) packed as rank << 32 | merged id, or nil.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> UInt64? {
        let key = PairRankTable.key(left, right)
        var slot = PairRankTable.slot(key, mask)
        return keys.withUnsafeBufferPointer { keys in
            while true {
                let found = keys[slot]
                if found == key { return values[slot] }
                if found == PairRankTable.empty { return nil }
                slot = (slot + 1) & mask
            }
        }
    }
}
