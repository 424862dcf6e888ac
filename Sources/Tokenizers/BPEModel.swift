// BPEModel — tokenizer.json's `model` of type BPE: the vocabulary, merges with integer ranks, and
// the merge loop, exactly as Hugging Face `tokenizers` applies them (lowest rank first, leftmost
// on ties; unknown characters → byte fallback `<0xXX>` → `unk_token`, fused if `fuse_unk`;
// `ignore_merges` takes a whole piece found in the vocabulary as one token).
//
// Units: a byte-level model (ByteLevel pre-tokenizer) starts from the piece's raw bytes, each the
// single-character entry GPT-2's alphabet gives it; any other model starts from Unicode scalars.
import Foundation

struct BPEModel: Sendable {
    enum Units: Sendable { case bytes, characters }

    let units: Units
    /// Model vocabulary entries by id (nil where no entry has the id).
    let pieces: [String?]
    /// Entry text (UTF-8) → id.
    let idsByText: ByteStringMap
    /// For byte-level models: the raw bytes an entry stands for → id (entries outside the alphabet are absent).
    let idsByBytes: ByteStringMap
    /// Byte-level: id of each byte's single-character entry (-1 if missing).
    let byteIds: [Int32]
    /// Character models: id of each single-scalar entry.
    let scalarIds: [UInt32: Int32]
    /// `<0xXX>` entries when `byteFallback` (-1 if missing).
    let fallbackIds: [Int32]
    let merges: PairRankTable
    /// The merges in rank order, as ids.
    let mergeList: [(left: Int32, right: Int32, merged: Int32)]
    let unkId: Int32?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    /// Whether the file wrote merges as `"a b"` strings (Loom writes extended files in the same form).
    let legacyMerges: Bool

    /// Distinct entries in the vocabulary (Hugging Face's `get_vocab_size` of the model).
    var entryCount: Int { idsByText.count }

    /// Pieces up to this many units merge with a rank array scan; longer ones use a heap.
    static let smallPieceLimit = 48

    // MARK: encoding

    /// Appends the ids of one pre-token (and, if `lengths` is given, how many bytes of the
    /// pre-token each covers).
    func encode(_ piece: UnsafeBufferPointer<UInt8>, ids: inout [Int32], lengths: inout [Int32], scratch: inout BPEWorkspace) {
        if piece.isEmpty { return }
        if ignoreMerges {
            let whole = units == .bytes ? idsByBytes.find(UnsafeRawBufferPointer(piece)) : idsByText.find(UnsafeRawBufferPointer(piece))
            if let whole {
                ids.append(Int32(truncatingIfNeeded: whole))
                lengths.append(Int32(piece.count))
                return
            }
        }
        scratch.symbols.removeAll(keepingCapacity: true)
        scratch.lengths.removeAll(keepingCapacity: true)
        initialSymbols(piece, &scratch)
        if scratch.symbols.count <= BPEModel.smallPieceLimit {
            mergeSmall(&scratch)
        } else {
            mergeWithHeap(&scratch)
        }
        ids.append(contentsOf: scratch.symbols)
        lengths.append(contentsOf: scratch.lengths)
    }

    /// Hugging Face's `merge_word` start: one symbol per unit, unknown units by byte fallback or unk.
    private func initialSymbols(_ piece: UnsafeBufferPointer<UInt8>, _ scratch: inout BPEWorkspace) {
        var pendingUnk: (id: Int32, length: Int32)? = nil
        func add(_ id: Int32, _ length: Int32) {
            scratch.symbols.append(id)
            scratch.lengths.append(length)
        }
        var index = 0
        while index < piece.count {
            let length: Int
            var id: Int32 = -1
            switch units {
            case .bytes:
                length = 1
                id = byteIds[Int(piece[index])]
            case .characters:
                let (value, scalarLength) = decodeScalar(piece, index)
                length = scalarLength
                id = scalarIds[value] ?? -1
            }
            defer { index += length }
            if id >= 0 {
                if let unk = pendingUnk {
                    add(unk.id, unk.length)
                    pendingUnk = nil
                }
                add(id, Int32(length))
                continue
            }
            if byteFallback {
                let bytes = piece[index..<index + length]
                if bytes.allSatisfy({ fallbackIds[Int($0)] >= 0 }) {
                    for byte in bytes { add(fallbackIds[Int(byte)], 1) }
                    continue
                }
            }
            guard let unkId else { continue }
            if let unk = pendingUnk {
                if fuseUnk {
                    pendingUnk = (unk.id, unk.length + Int32(length))
                } else {
                    add(unk.id, unk.length)
                    pendingUnk = (unkId, Int32(length))
                }
            } else {
                pendingUnk = (unkId, Int32(length))
            }
        }
        if let unk = pendingUnk { add(unk.id, unk.length) }
    }

    private static let noMerge = UInt64.max

    /// Lowest rank first, leftmost on ties, by scanning an array of pair ranks.
    private func mergeSmall(_ scratch: inout BPEWorkspace) {
        let count = scratch.symbols.count
        if count < 2 { return }
        scratch.ranks.removeAll(keepingCapacity: true)
        for index in 0..<count - 1 {
            scratch.ranks.append(merges.lookup(scratch.symbols[index], scratch.symbols[index + 1]) ?? BPEModel.noMerge)
        }
        var live = count
        scratch.symbols.withUnsafeMutableBufferPointer { symbols in
            scratch.lengths.withUnsafeMutableBufferPointer { lengths in
                scratch.ranks.withUnsafeMutableBufferPointer { ranks in
                    while live > 1 {
                        var best = 0
                        var bestRank = ranks[0]
                        for index in 1..<live - 1 where ranks[index] < bestRank {
                            best = index
                            bestRank = ranks[index]
                        }
                        if bestRank == BPEModel.noMerge { break }
                        symbols[best] = Int32(truncatingIfNeeded: bestRank & 0xFFFF_FFFF)
                        lengths[best] += lengths[best + 1]
                        // Close the gap left by the right symbol.
                        for index in best + 1..<live - 1 {
                            symbols[index] = symbols[index + 1]
                            lengths[index] = lengths[index + 1]
                        }
                        for index in best + 1..<max(best + 1, live - 2) { ranks[index] = ranks[index + 1] }
                        live -= 1
                        if best > 0 { ranks[best - 1] = merges.lookup(symbols[best - 1], symbols[best]) ?? BPEModel.noMerge }
                        if best < live - 1 { ranks[best] = merges.lookup(symbols[best], symbols[best + 1]) ?? BPEModel.noMerge }
                    }
                }
            }
        }
        scratch.symbols.removeLast(count - live)
        scratch.lengths.removeLast(count - live)
    }

    /// Hugging Face's `Word::merge_all`: a min-heap of (rank, position) over a linked list.
    private func mergeWithHeap(_ scratch: inout BPEWorkspace) {
        let count = scratch.symbols.count
        var next = [Int32](0..<Int32(count)).map { $0 + 1 }
        var previous = [Int32](0..<Int32(count)).map { $0 - 1 }
        next[count - 1] = -1
        var heap = BinaryHeap<PendingMerge>()
        for index in 0..<count - 1 {
            if let merge = merges.lookup(scratch.symbols[index], scratch.symbols[index + 1]) {
                heap.push(PendingMerge(rank: UInt32(merge >> 32), position: Int32(index), merged: Int32(truncatingIfNeeded: merge & 0xFFFF_FFFF)))
            }
        }
        while let top = heap.pop() {
            let position = Int(top.position)
            if scratch.lengths[position] == 0 { continue }
            let right = Int(next[position])
            if right < 0 { continue }
            guard let merge = merges.lookup(scratch.symbols[position], scratch.symbols[right]),
                Int32(truncatingIfNeeded: merge & 0xFFFF_FFFF) == top.merged
            else { continue }
            scratch.symbols[position] = top.merged
            scratch.lengths[position] += scratch.lengths[right]
            scratch.lengths[right] = 0
            next[position] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(position) }
            let before = Int(previous[position])
            if before >= 0, let merge = merges.lookup(scratch.symbols[before], top.merged) {
                heap.push(PendingMerge(rank: UInt32(merge >> 32), position: Int32(before), merged: Int32(truncatingIfNeeded: merge & 0xFFFF_FFFF)))
            }
            let after = Int(next[position])
            if after >= 0, let merge = merges.lookup(top.merged, scratch.symbols[after]) {
                heap.push(PendingMerge(rank: UInt32(merge >> 32), position: Int32(position), merged: Int32(truncatingIfNeeded: merge & 0xFFFF_FFFF)))
            }
        }
        var write = 0
        for index in 0..<count where scratch.lengths[index] != 0 {
            scratch.symbols[write] = scratch.symbols[index]
            scratch.lengths[write] = scratch.lengths[index]
            write += 1
        }
        scratch.symbols.removeLast(count - write)
        scratch.lengths.removeLast(count - write)
    }

    // MARK: parsing

    /// Parses a tokenizer.json `model` (BPE only). `byteLevel`: the pre-tokenizer ends with ByteLevel.
    static func parse(_ field: JSONField, byteLevel: Bool) throws -> BPEModel {
        if let type = try field.string("type"), type != "BPE" {
            throw try field.member("type").failure("\"\(type)\" is not supported (expected BPE)")
        }
        if let dropout = try field.optional("dropout") {
            let value: Double
            switch dropout.value {
            case .int(let number): value = Double(number)
            case .double(let number): value = number
            default: throw dropout.failure("expected a number or null, found \(dropout.value.kindDescription)")
            }
            if value != 0 { throw dropout.failure("BPE dropout is not supported (use null)") }
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try field.optional(key), try !affix.string().isEmpty {
                throw affix.failure("is not supported (expected null)")
            }
        }

        let vocabField = try field.required("vocab")
        var idsByText = ByteStringMap(capacity: 1024)
        var maxId = -1
        var entries: [(String, Int)] = []
        for (piece, value) in try vocabField.members() {
            let id = try value.int()
            guard id >= 0 && id < Int(Int32.max) else { throw value.failure("ids must be between 0 and \(Int32.max), found \(id)") }
            entries.append((piece, id))
            idsByText.insert(Array(piece.utf8), value: UInt64(id))
            maxId = max(maxId, id)
        }
        var pieces = [String?](repeating: nil, count: maxId + 1)
        for (piece, id) in entries { pieces[id] = piece }

        var idsByBytes = ByteStringMap(capacity: byteLevel ? entries.count : 16)
        var byteIds = [Int32](repeating: -1, count: 256)
        var scalarIds: [UInt32: Int32] = [:]
        if byteLevel {
            for (piece, id) in entries {
                guard let bytes = ByteLevelAlphabet.bytes(of: piece) else { continue }
                idsByBytes.insert(bytes, value: UInt64(id))
            }
            for byte in 0..<256 {
                if let id = idsByBytes.find([UInt8(byte)]) { byteIds[byte] = Int32(id) }
            }
        } else {
            for (piece, _) in entries {
                let scalars = piece.unicodeScalars
                if scalars.count == 1, let id = idsByText.find(Array(piece.utf8)) {
                    scalarIds[scalars.first!.value] = Int32(id)
                }
            }
        }

        let byteFallback = try field.bool("byte_fallback", default: false)
        var fallbackIds = [Int32](repeating: -1, count: 256)
        if byteFallback {
            for byte in 0..<256 {
                let name = "<0x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2) + ">"
                if let id = idsByText.find(Array(name.utf8)) { fallbackIds[byte] = Int32(id) }
            }
        }

        var unkId: Int32? = nil
        if let unkField = try field.optional("unk_token") {
            let unk = try unkField.string()
            guard let id = idsByText.find(Array(unk.utf8)) else { throw unkField.failure("\"\(unk)\" is not in model.vocab") }
            unkId = Int32(id)
        }

        let mergesField = try field.required("merges")
        var mergeList: [(left: Int32, right: Int32, merged: Int32)] = []
        var legacy = false
        let mergeItems = try mergesField.items()
        mergeList.reserveCapacity(mergeItems.count)
        for item in mergeItems {
            let left: String, right: String
            switch item.value {
            case .string(let text):
                legacy = true
                let parts = text.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw item.failure("expected \"a b\" (two tokens and one space), found \(item.value.kindDescription)") }
                left = String(parts[0])
                right = String(parts[1])
            case .array(let pair):
                guard pair.count == 2, case .string(let first) = pair[0], case .string(let second) = pair[1] else {
                    throw item.failure("expected [\"a\", \"b\"], found an array of \(pair.count) items")
                }
                left = first
                right = second
            default:
                throw item.failure("expected \"a b\" or [\"a\", \"b\"], found \(item.value.kindDescription)")
            }
            guard let leftId = idsByText.find(Array(left.utf8)) else { throw item.failure("token \"\(left)\" is not in model.vocab") }
            guard let rightId = idsByText.find(Array(right.utf8)) else { throw item.failure("token \"\(right)\" is not in model.vocab") }
            guard let mergedId = idsByText.find(Array((left + right).utf8)) else {
                throw item.failure("merged token \"\(left + right)\" is not in model.vocab")
            }
            mergeList.append((Int32(leftId), Int32(rightId), Int32(mergedId)))
        }

        return BPEModel(
            units: byteLevel ? .bytes : .characters, pieces: pieces, idsByText: idsByText, idsByBytes: idsByBytes,
            byteIds: byteIds, scalarIds: scalarIds, fallbackIds: fallbackIds, merges: PairRankTable(merges: mergeList),
            mergeList: mergeList, unkId: unkId, fuseUnk: try field.bool("fuse_unk", default: false), byteFallback: byteFallback,
            ignoreMerges: try field.bool("ignore_merges", default: false), legacyMerges: legacy)
    }
}

/// Working memory of the merge loop, reused across pieces.
struct BPEWorkspace: Sendable {
    var symbols: [Int32] = []
    var lengths: [Int32] = []
    var ranks: [UInt64] = []
}

/// A pending merge in Hugging Face's queue: ordered by (rank, position).
struct PendingMerge: HeapOrdered {
    let key: UInt64  // rank << 32 | position
    let merged: Int32

    var position: Int32 { Int32(truncatingIfNeeded: key & 0xFFFF_FFFF) }

    init(rank: UInt32, position: Int32, merged: Int32) {
        key = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: position))
        self.merged = merged
    }

    static func precedes(_ a: PendingMerge, _ b: PendingMerge) -> Bool { a.key < b.key }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
