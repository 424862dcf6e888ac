// HyperwordLearner — the second BPE stage (SuperBPE-style) on top of a base tokenizer's
// segmentation: over chunks of base ids, repeatedly merge the best adjacent pair into a new token.
//
// A pair counts toward its score only where the merged piece is whole words (its left part starts
// a word and its right part ends one) spanning at most `maxWordsPerPiece` words; with
// `wordCompletions`, two tokens making up one word also count. A merge is then applied to every
// place the pair occurs, as the finished tokenizer will apply it, so the counts the learner keeps
// are the counts of the finished tokenizer's output. A merge that would leave an earlier new token
// occurring fewer than `minCount` times (swallowed by longer ones) is refused: every new token
// stays reachable. Candidates live in a max-heap with lazy re-scoring; each pair keeps the
// positions where it occurs. The `surprisal` ranking sums, instead of occurrences, each occurrence's
// weight from the gains of the base positions its right part covers (HyperwordSurprisal): each live
// position keeps the summed gain and the number of base positions under it, and each pair's weight is
// kept from when it was counted, so removing an occurrence takes back exactly what adding it gave.
import Foundation

/// One merge the learner chose: `left` + `right` → `token`.
struct LearnedMerge: Equatable {
    let left: Int32
    let right: Int32
    let token: Int32
}

final class HyperwordLearner {
    private let options: HyperwordOptions
    private let firstNewId: Int32
    /// The bytes of a token as its model sees them (raw bytes for byte-level models).
    private var tokenBytes: [[UInt8]]
    /// Entries the base vocabulary already has, by model bytes: a merge may not recreate one.
    private let baseEntries: ByteStringMap
    private var newEntries = ByteStringMap(capacity: 1024)

    // Positions: a linked list per chunk; a dead position has token -1.
    private var token: [Int32]
    private var next: [Int32]
    private var previous: [Int32]
    private var weight: [Int32]
    private var startsWord: [Bool]
    private var endsWord: [Bool]
    private var words: [UInt8]
    /// Occurrences of each token in the current segmentation (weighted).
    private var liveCount: [Int64]
    /// `surprisal` ranking only (else empty): per position, the summed gain and the number of base
    /// positions of its token, and the weight its pair with the next position was counted with.
    private var gainSum: [Double] = []
    private var covered: [Int32] = []
    private var pairWeight: [Int64] = []

    // Pairs.
    private var pairIndex: [UInt64: Int32] = [:]
    private var pairKeys: [UInt64] = []
    private var qualified: [Int64] = []
    private var total: [Int64] = []
    /// `surprisal` ranking: Σ occurrence weights of the qualified occurrences.
    private var weighted: [Int64] = []
    private var occurrences: [[Int32]] = []
    private var banned: [Bool] = []
    private var dirty: [Int32] = []
    private var isDirty: [Bool] = []
    private var heap = BinaryHeap<ScoredPair>()

    init(corpus: HyperwordCorpus, options: HyperwordOptions, firstNewId: Int32, tokenBytes: [[UInt8]], baseEntries: ByteStringMap) {
        self.options = options
        self.firstNewId = firstNewId
        self.tokenBytes = tokenBytes
        self.baseEntries = baseEntries
        let count = corpus.tokens.count
        token = corpus.tokens
        next = [Int32](repeating: -1, count: count)
        previous = [Int32](repeating: -1, count: count)
        weight = [Int32](repeating: 0, count: count)
        startsWord = corpus.flags.map { $0 & HyperwordCorpus.startsWord != 0 }
        endsWord = corpus.flags.map { $0 & HyperwordCorpus.endsWord != 0 }
        words = corpus.flags.map { $0 & HyperwordCorpus.startsWord != 0 ? 1 : 0 }
        liveCount = [Int64](repeating: 0, count: Int(firstNewId) + options.targetCount + 1)
        if options.ranking == .surprisal {
            gainSum = corpus.gains
            covered = [Int32](repeating: 1, count: count)
            pairWeight = [Int64](repeating: 0, count: count)
        }
        for chunk in 0..<corpus.chunkCount {
            let start = Int(corpus.chunkStarts[chunk]), end = Int(corpus.chunkStarts[chunk + 1])
            for position in start..<end {
                weight[position] = corpus.weights[chunk]
                if position + 1 < end { next[position] = Int32(position + 1) }
                if position > start { previous[position] = Int32(position - 1) }
                liveCount[Int(token[position])] += Int64(corpus.weights[chunk])
            }
        }
        for position in 0..<count where next[position] >= 0 {
            addPair(Int32(position), next[position])
        }
        flushDirty()
    }

    /// Learns up to `options.targetCount` merges; `progress` gets (merges so far, the latest merge's
    /// qualified count).
    func learn(progress: (Int, Int64) -> Void) -> [LearnedMerge] {
        var merges: [LearnedMerge] = []
        while merges.count < options.targetCount, let candidate = heap.pop() {
            let score = candidate.score, pair = candidate.pair
            let index = Int(pair)
            if banned[index] { continue }
            let current = self.score(index)
            if current != score {
                if current > 0 && qualified[index] >= options.minCount { heap.push(ScoredPair(score: current, pair: pair)) }
                continue
            }
            guard qualified[index] >= options.minCount else { continue }
            let left = Int32(truncatingIfNeeded: pairKeys[index] >> 32), right = Int32(truncatingIfNeeded: pairKeys[index] & 0xFFFF_FFFF)
            let merged = tokenBytes[Int(left)] + tokenBytes[Int(right)]
            if baseEntries.find(merged) != nil || newEntries.find(merged) != nil || !keepsReachable(left, right, index) {
                banned[index] = true
                continue
            }
            let newToken = firstNewId + Int32(merges.count)
            tokenBytes.append(merged)
            newEntries.insert(merged, value: UInt64(newToken))
            apply(index, left: left, right: right, into: newToken)
            merges.append(LearnedMerge(left: left, right: right, token: newToken))
            if merges.count % 50 == 0 || merges.count == options.targetCount { progress(merges.count, qualified[index]) }
        }
        return merges
    }

    /// Occurrences of each new token in the learner's final segmentation.
    func finalCounts(of merges: [LearnedMerge]) -> [Int64] {
        merges.map { liveCount[Int($0.token)] }
    }

    private func score(_ index: Int) -> Int64 {
        switch options.ranking {
        case .tokensSaved: return qualified[index]
        case .surprisal: return weighted[index]
        case .bytes:
            let key = pairKeys[index]
            let length = tokenBytes[Int(key >> 32)].count + tokenBytes[Int(key & 0xFFFF_FFFF)].count
            return qualified[index] * Int64(length)
        }
    }

    /// Whether merging would leave each new token among the pair at least `minCount` occurrences.
    private func keepsReachable(_ left: Int32, _ right: Int32, _ index: Int) -> Bool {
        let consumed = total[index] * (left == right ? 2 : 1)
        for part in Set([left, right]) where part >= firstNewId {
            if liveCount[Int(part)] - consumed < Int64(options.minCount) { return false }
        }
        return true
    }

    // MARK: pair bookkeeping

    @inline(__always)
    private func qualifies(_ left: Int32, _ right: Int32) -> Bool {
        let l = Int(left), r = Int(right)
        guard startsWord[l] && endsWord[r] && Int(words[l]) + Int(words[r]) <= options.maxWordsPerPiece else { return false }
        return options.wordCompletions || startsWord[r]
    }

    private func pairSlot(_ left: Int32, _ right: Int32) -> Int {
        let key = UInt64(UInt32(bitPattern: token[Int(left)])) << 32 | UInt64(UInt32(bitPattern: token[Int(right)]))
        if let found = pairIndex[key] { return Int(found) }
        let index = pairKeys.count
        pairIndex[key] = Int32(index)
        pairKeys.append(key)
        qualified.append(0)
        total.append(0)
        weighted.append(0)
        occurrences.append([])
        banned.append(false)
        isDirty.append(false)
        return index
    }

    private func addPair(_ left: Int32, _ right: Int32) {
        let index = pairSlot(left, right)
        let w = Int64(weight[Int(left)])
        total[index] += w
        occurrences[index].append(left)
        if !pairWeight.isEmpty {
            let r = Int(right)
            pairWeight[Int(left)] = w * HyperwordSurprisal.occurrenceWeight(meanGain: gainSum[r] / Double(covered[r]))
        }
        if qualifies(left, right) {
            qualified[index] += w
            if !pairWeight.isEmpty { weighted[index] += pairWeight[Int(left)] }
            if !isDirty[index] {
                isDirty[index] = true
                dirty.append(Int32(index))
            }
        }
    }

    private func removePair(_ left: Int32, _ right: Int32) {
        let index = pairSlot(left, right)
        let w = Int64(weight[Int(left)])
        total[index] -= w
        if qualifies(left, right) {
            qualified[index] -= w
            if !pairWeight.isEmpty { weighted[index] -= pairWeight[Int(left)] }
        }
    }

    /// Re-queues pairs whose qualified count grew.
    private func flushDirty() {
        for pair in dirty {
            isDirty[Int(pair)] = false
            if !banned[Int(pair)] && qualified[Int(pair)] >= options.minCount { heap.push(ScoredPair(score: score(Int(pair)), pair: pair)) }
        }
        dirty.removeAll(keepingCapacity: true)
    }

    /// Merges every current occurrence of the pair, left to right.
    private func apply(_ index: Int, left: Int32, right: Int32, into newToken: Int32) {
        let positions = occurrences[index].sorted()
        occurrences[index] = []
        var lastMerged: Int32 = -1
        for position in positions where position != lastMerged {
            lastMerged = position
            let p = Int(position)
            guard token[p] == left else { continue }
            let rightPosition = next[p]
            guard rightPosition >= 0, token[Int(rightPosition)] == right else { continue }
            let before = previous[p], after = next[Int(rightPosition)]
            if before >= 0 { removePair(before, position) }
            removePair(position, rightPosition)
            if after >= 0 { removePair(rightPosition, after) }

            let w = Int64(weight[p])
            liveCount[Int(left)] -= w
            liveCount[Int(right)] -= w
            liveCount[Int(newToken)] += w
            token[p] = newToken
            if !gainSum.isEmpty {
                gainSum[p] += gainSum[Int(rightPosition)]
                covered[p] += covered[Int(rightPosition)]
            }
            endsWord[p] = endsWord[Int(rightPosition)]
            words[p] += words[Int(rightPosition)]
            next[p] = after
            if after >= 0 { previous[Int(after)] = position }
            token[Int(rightPosition)] = -1

            if before >= 0 { addPair(before, position) }
            if after >= 0 { addPair(position, after) }
        }
        flushDirty()
    }
}

/// A candidate pair in the learner's queue: highest score first, ties to the pair seen first.
struct ScoredPair: HeapOrdered {
    let score: Int64
    let pair: Int32

    static func precedes(_ a: ScoredPair, _ b: ScoredPair) -> Bool {
        a.score > b.score || (a.score == b.score && a.pair < b.pair)
    }
}
