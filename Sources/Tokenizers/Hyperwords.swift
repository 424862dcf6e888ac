// Hyperwords — learn multi-word tokens on a corpus and build the extended tokenizer: segment the
// text with the base tokenizer (HyperwordCorpus, with each position's gain under the base model for
// the `surprisal` ranking: HyperwordSurprisal), run the second BPE stage (HyperwordLearner),
// write the new entries and merges into a copy of the base tokenizer.json, then encode the training
// text with the result and drop any new token it uses fewer than `minCount` times (with the tokens
// built on it), so that every token that ships is reachable.
import Foundation
import LoomCore

/// Where learning is, for progress lines.
public enum HyperwordProgress: Sendable {
    /// Segmenting the training texts with the base tokenizer.
    case segmenting(texts: Int, of: Int)
    /// Merges learned so far, and the qualified count of the latest.
    case learning(tokens: Int, of: Int, latestCount: Int64)
    /// Encoding the training texts with the extended tokenizer to count and check every new token.
    case verifying(round: Int)
}

public enum Hyperwords {
    /// Learns hyperwords on `texts` on top of `base` and returns the extended tokenizer. The `surprisal`
    /// ranking needs `surprisal`: the base model's surprisal of every text, in the order of `texts`.
    public static func learn(
        base: HFTokenizer, texts: [String], options: HyperwordOptions, surprisal: HyperwordSurprisal? = nil,
        progress: (HyperwordProgress) -> Void = { _ in }
    ) throws -> ExtendedTokenizer {
        try options.validate()
        let layout = try ExtensionLayout.of(base)
        let started = Date()
        var textGains: [HyperwordCorpus.TextGains]? = nil
        if options.ranking == .surprisal {
            guard let surprisal else {
                throw HyperwordError("ranking surprisal: give the base model's surprisal of the training texts (HyperwordSurprisal)")
            }
            textGains = zip(surprisal.texts, try surprisal.gains(vocabularySize: base.vocabularySize)).map {
                HyperwordCorpus.TextGains(ids: $0.ids, gains: $1)
            }
        }
        let corpus = try HyperwordCorpus.build(base: base, layout: layout, texts: texts, textGains: textGains) {
            progress(.segmenting(texts: $0, of: texts.count))
        }

        let model = base.model
        let firstNewId = Int32(base.vocabularySize)
        var tokenBytes = [[UInt8]](repeating: [], count: Int(firstNewId))
        for (id, piece) in model.pieces.enumerated() {
            guard let piece else { continue }
            tokenBytes[id] = model.units == .bytes ? (ByteLevelAlphabet.bytes(of: piece) ?? Array(piece.utf8)) : Array(piece.utf8)
        }
        let learner = HyperwordLearner(
            corpus: corpus, options: options, firstNewId: firstNewId, tokenBytes: tokenBytes,
            baseEntries: model.units == .bytes ? model.idsByBytes : model.idsByText)
        var merges = learner.learn { progress(.learning(tokens: $0, of: options.targetCount, latestCount: $1)) }

        var pruned = 0
        var round = 0
        while true {
            round += 1
            progress(.verifying(round: round))
            let built = try build(base: base, layout: layout, merges: merges)
            let (counts, extendedTokens) = try countNewTokens(built, texts: texts, firstNewId: Int(firstNewId))
            let dropped = Set(merges.indices.filter { counts[$0] < options.minCount })
            if dropped.isEmpty || round == 8 {
                let baseTokens = try parallelSum(texts) { text in base.encode(text).count }
                let tokens = zip(built.newTokens, counts).map { token, count in
                    var counted = token
                    counted.count = count
                    return counted
                }
                let training = HyperwordTraining(
                    options: options, texts: texts.count, bytes: texts.reduce(0) { $0 + $1.utf8.count }, baseTokens: baseTokens,
                    extendedTokens: extendedTokens, pruned: pruned, learningSeconds: Date().timeIntervalSince(started))
                return ExtendedTokenizer(runtime: built.runtime, baseVocabularySize: Int(firstNewId), newTokens: tokens, training: training)
            }
            let before = merges.count
            merges = removing(dropped, from: merges, firstNewId: firstNewId)
            pruned += before - merges.count
        }
    }

    /// Learns on the texts of files (see `TextCorpus`).
    public static func learn(
        base: HFTokenizer, files: [URL], unit: TextCorpus.Unit = .paragraph, options: HyperwordOptions,
        progress: (HyperwordProgress) -> Void = { _ in }
    ) throws -> ExtendedTokenizer {
        try learn(base: base, texts: try TextCorpus.texts(of: files, unit: unit), options: options, progress: progress)
    }

    // MARK: building

    /// The extended tokenizer for `merges` (token ids firstNewId, firstNewId + 1, … in order).
    static func build(base: HFTokenizer, layout: ExtensionLayout, merges: [LearnedMerge]) throws -> ExtendedTokenizer {
        let firstNewId = base.vocabularySize
        var pieces: [Int: String] = [:]
        var decompositions: [Int: [Int]] = [:]
        var wordCounts: [Int: Int] = [:]
        func piece(_ id: Int) -> String { pieces[id] ?? base.model.pieces[id] ?? "" }
        func decomposition(_ id: Int) -> [Int] { decompositions[id] ?? [id] }
        func text(_ piece: String) -> String {
            switch layout {
            case .byteLevel: return String(decoding: ByteLevelAlphabet.bytes(of: piece) ?? [], as: UTF8.self)
            case .spaceMarker(let separator): return piece.replacingOccurrences(of: String(decoding: separator, as: UTF8.self), with: " ")
            }
        }
        func words(_ id: Int) -> Int { wordCounts[id] ?? 1 }

        var tokens: [HyperwordToken] = []
        var vocabulary: [JSONMember] = []
        var newMerges: [(String, String)] = []
        for merge in merges {
            let id = Int(merge.token), left = Int(merge.left), right = Int(merge.right)
            let joined = piece(left) + piece(right)
            pieces[id] = joined
            decompositions[id] = decomposition(left) + decomposition(right)
            // A right part that starts a word adds its words; one inside the same word adds none.
            let rightStartsWord = startsWord(piece(right), layout: layout)
            wordCounts[id] = words(left) + (rightStartsWord ? words(right) : 0)
            tokens.append(
                HyperwordToken(
                    id: id, piece: joined, text: text(joined), left: left, right: right, decomposition: decompositions[id]!,
                    words: wordCounts[id]!, count: 0))
            vocabulary.append(JSONMember(joined, .int(id)))
            newMerges.append((piece(left), piece(right)))
        }
        let document = try extendedDocument(base: base, layout: layout, vocabulary: vocabulary, merges: newMerges)
        let runtime = try HFTokenizer(document: document, source: base.source + " + hyperwords", specialTokens: base.specialTokens)
        return ExtendedTokenizer(runtime: runtime, baseVocabularySize: firstNewId, newTokens: tokens, training: nil)
    }

    /// Whether a piece begins a new word (a space or "▁" then a letter, in the model's spelling).
    private static func startsWord(_ piece: String, layout: ExtensionLayout) -> Bool {
        switch layout {
        case .byteLevel: return piece.unicodeScalars.first == ByteLevelAlphabet.characterForByte[Int(UInt8(ascii: " "))]
        case .spaceMarker(let separator): return piece.utf8.starts(with: separator)
        }
    }

    /// A copy of the base document with the new entries, merges ranked after every base merge, and
    /// (byte-level) the split pattern that keeps words joined by single spaces together.
    private static func extendedDocument(
        base: HFTokenizer, layout: ExtensionLayout, vocabulary: [JSONMember], merges: [(String, String)]
    ) throws -> OrderedJSON {
        guard case .object(var root) = base.document,
            let modelIndex = root.firstIndex(where: { $0.key == "model" }), case .object(var model) = root[modelIndex].value,
            let vocabIndex = model.firstIndex(where: { $0.key == "vocab" }), case .object(let vocab) = model[vocabIndex].value,
            let mergesIndex = model.firstIndex(where: { $0.key == "merges" }), case .array(let baseMerges) = model[mergesIndex].value
        else { throw HyperwordError("\(base.source): the tokenizer.json has no model.vocab / model.merges to extend") }
        // Added tokens outside model.vocab get their ids from its size when Hugging Face loads the
        // file; listing them there keeps Llama-3-style specials (after the vocabulary) where they are.
        let missingAdded = base.addedTokens.filter { base.model.idsByText.find(Array($0.content.utf8)) == nil }
            .map { JSONMember($0.content, .int($0.id)) }
        model[vocabIndex].value = .object(vocab + missingAdded + vocabulary)
        let legacy = base.model.legacyMerges && merges.allSatisfy { !$0.0.contains(" ") && !$0.1.contains(" ") }
        let written: [OrderedJSON] = merges.map { legacy ? .string("\($0.0) \($0.1)") : .array([.string($0.0), .string($0.1)]) }
        model[mergesIndex].value = .array((legacy ? baseMerges : baseMerges.map(pairForm)) + written)
        root[modelIndex].value = .object(model)
        if case .byteLevel(let scanner) = layout, let index = root.firstIndex(where: { $0.key == "pre_tokenizer" }) {
            root[index].value = joiningWords(root[index].value, chunkPattern: scanner.joiningWords().pattern)
        }
        return .object(root)
    }

    /// A merge written as a pair, whatever form the base used.
    private static func pairForm(_ merge: OrderedJSON) -> OrderedJSON {
        guard case .string(let text) = merge else { return merge }
        let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        return .array(parts.map { .string(String($0)) })
    }

    /// The pre-tokenizer with its split pattern replaced by the word-joining one; a ByteLevel that
    /// splits with GPT-2's regex itself becomes an explicit Split followed by a plain ByteLevel.
    private static func joiningWords(_ node: OrderedJSON, chunkPattern: String) -> OrderedJSON {
        guard case .object(var members) = node, case .string(let type)? = node["type"] else { return node }
        switch type {
        case "Sequence":
            if let index = members.firstIndex(where: { $0.key == "pretokenizers" }), case .array(let steps) = members[index].value {
                members[index].value = .array(steps.flatMap { step -> [OrderedJSON] in
                    let rewritten = joiningWords(step, chunkPattern: chunkPattern)
                    if case .array(let expanded)? = rewritten["pretokenizers"], step["type"] != .string("Sequence") { return expanded }
                    return [rewritten]
                })
            }
        case "Split":
            if let index = members.firstIndex(where: { $0.key == "pattern" }) {
                members[index].value = .object([JSONMember("Regex", .string(chunkPattern))])
            }
        case "ByteLevel" where node["use_regex"] != .bool(false):
            var plain = members.filter { $0.key != "use_regex" }
            plain.append(JSONMember("use_regex", .bool(false)))
            let split = OrderedJSON.object([
                JSONMember("type", .string("Split")), JSONMember("pattern", .object([JSONMember("Regex", .string(chunkPattern))])),
                JSONMember("behavior", .string("Isolated")), JSONMember("invert", .bool(false)),
            ])
            return .object([JSONMember("type", .string("Sequence")), JSONMember("pretokenizers", .array([split, .object(plain)]))])
        default: break
        }
        return .object(members)
    }

    // MARK: checking

    /// How often each new token occurs when `tokenizer` encodes `texts`, and the tokens in all: the texts
    /// in chunks on every core (OrderedWorkPool), the counts summed in chunk order.
    private static func countNewTokens(_ tokenizer: ExtendedTokenizer, texts: [String], firstNewId: Int) throws -> (counts: [Int], tokens: Int) {
        let newTokens = tokenizer.newTokens.count
        var counts = [Int](repeating: 0, count: newTokens)
        var tokens = 0
        try forEachChunk(of: texts, work: { chunk in
            var chunkCounts = [Int](repeating: 0, count: newTokens)
            var ids: [Int32] = []
            var chunkTokens = 0
            for text in chunk {
                ids.removeAll(keepingCapacity: true)
                tokenizer.runtime.encode(text, into: &ids)
                chunkTokens += ids.count
                for id in ids where Int(id) >= firstNewId { chunkCounts[Int(id) - firstNewId] += 1 }
            }
            return (chunkCounts, chunkTokens)
        }, consume: { (chunkCounts: [Int], chunkTokens: Int) in
            for index in counts.indices { counts[index] += chunkCounts[index] }
            tokens += chunkTokens
        })
        return (counts, tokens)
    }

    /// Σ `measure(text)` over `texts`, on every core.
    static func parallelSum(_ texts: [String], _ measure: @escaping @Sendable (String) -> Int) throws -> Int {
        var total = 0
        try forEachChunk(of: texts, work: { chunk in chunk.reduce(0) { $0 + measure($1) } }, consume: { total += $0 })
        return total
    }

    /// `work` on slices of `texts` across the machine's cores, `consume` on the results in order.
    static func forEachChunk<Output: Sendable>(
        of texts: [String], work: @escaping @Sendable (ArraySlice<String>) -> Output, consume: (Output) throws -> Void
    ) throws {
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let size = max(1, (texts.count + 8 * threads - 1) / (8 * threads))
        let chunks = stride(from: 0, to: texts.count, by: size).map { $0..<min($0 + size, texts.count) }
        try OrderedWorkPool.run(count: chunks.count, threads: threads, window: 2 * threads,
                                work: { work(texts[chunks[$0]]) }, consume: { try consume($1) })
    }

    /// `merges` without the tokens at `dropped` and every token built on them, renumbered.
    static func removing(_ dropped: Set<Int>, from merges: [LearnedMerge], firstNewId: Int32) -> [LearnedMerge] {
        var removedTokens = Set<Int32>()
        var renumbered: [Int32: Int32] = [:]
        var kept: [LearnedMerge] = []
        for (index, merge) in merges.enumerated() {
            if dropped.contains(index) || removedTokens.contains(merge.left) || removedTokens.contains(merge.right) {
                removedTokens.insert(merge.token)
                continue
            }
            let token = firstNewId + Int32(kept.count)
            renumbered[merge.token] = token
            kept.append(LearnedMerge(left: renumbered[merge.left] ?? merge.left, right: renumbered[merge.right] ?? merge.right, token: token))
        }
        return kept
    }
}
