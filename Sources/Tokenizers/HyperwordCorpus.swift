// HyperwordCorpus — training text as the hyperword learner sees it: "chunks" (runs of letter words
// joined by single spaces, the longest stretch one hyperword may cover) holding the base
// tokenizer's ids, each id marked where words start and end, and for the `surprisal` ranking each
// id's gain (HyperwordSurprisal). Identical chunks are stored once with a count. ExtensionLayout says how a base tokenizer's layout lets tokens span words.
import Foundation

/// How a base tokenizer can take tokens that span words.
enum ExtensionLayout: Equatable, Sendable {
    /// Byte-level BPE whose pre-tokens come from `scanner`. The extended tokenizer pre-tokenizes
    /// with `scanner.joiningWords()`: the same pre-tokens, except that letter words separated by
    /// single spaces stay together (base merges never cross those boundaries, so the base
    /// segmentation inside a chunk is unchanged).
    case byteLevel(scanner: SplitScanner)
    /// No pre-tokenizer: the whole text is one BPE word, and the normalizer writes spaces as
    /// `separator` (Llama-2's "▁"). New merges apply wherever their two tokens meet.
    case spaceMarker(separator: [UInt8])

    static func of(_ tokenizer: HFTokenizer) throws -> ExtensionLayout {
        let steps = tokenizer.preTokenizer.steps
        var scanner: SplitScanner? = nil
        switch (steps.first, steps.count) {
        case (.split(let split)?, 2): if case .byteLevel(false, nil) = steps[1] { scanner = split }
        case (.byteLevel(false, let split?)?, 1): scanner = split
        default: break
        }
        if let scanner {
            guard scanner.joinSeparator == nil else {
                throw HyperwordError("\(tokenizer.source): this tokenizer already has hyperwords (its split joins words); extend its base instead")
            }
            return .byteLevel(scanner: scanner)
        }
        if steps.isEmpty, tokenizer.model.units == .characters, let separator = tokenizer.normalizer.flatMap(spaceReplacement) {
            return .spaceMarker(separator: separator)
        }
        throw HyperwordError(
            "\(tokenizer.source): hyperwords need a byte-level BPE split by the GPT-2, Llama-3 or Qwen2 pattern (without add_prefix_space), "
                + "or a SentencePiece-style BPE without pre-tokenizer whose normalizer writes spaces as \"▁\" (the Llama-2 layout)")
    }

    /// What a normalizer turns " " into, if it has a Replace for it.
    private static func spaceReplacement(_ normalizer: Normalizer) -> [UInt8]? {
        switch normalizer {
        case .replace(let pattern, let content) where pattern == [UInt8(ascii: " ")] && !content.isEmpty: return content
        case .sequence(let steps): return steps.lazy.compactMap(spaceReplacement).first
        default: return nil
        }
    }

    /// Splits normalized text into words (the base tokenizer's pre-tokens, or Llama-3's pattern
    /// over "▁"-marked text).
    var wordScanner: SplitScanner {
        switch self {
        case .byteLevel(let scanner): scanner
        case .spaceMarker(let separator): SplitScanner(style: .llama3(digits: 3)).readingSpaces(as: String(decoding: separator, as: UTF8.self))
        }
    }

    /// Splits normalized text into chunks: words joined over single separators.
    var chunkScanner: SplitScanner { wordScanner.joiningWords() }
}

/// Unique chunks of base ids with word-boundary flags and counts.
struct HyperwordCorpus {
    static let startsWord: UInt8 = 1
    static let endsWord: UInt8 = 2

    var tokens: [Int32] = []
    var flags: [UInt8] = []
    /// Chunk `i` is `tokens[chunkStarts[i]..<chunkStarts[i + 1]]`.
    var chunkStarts: [Int32] = [0]
    var weights: [Int32] = []
    /// With per-text gains (the `surprisal` ranking): each position's gain, averaged over the
    /// occurrences of its chunk; else empty.
    var gains: [Double] = []
    var chunkCount: Int { weights.count }

    private var index = ByteStringMap(capacity: 1 << 16)
    private var key: [UInt8] = []

    /// A value per id of one text's base encoding, and the ids it was computed on.
    struct TextGains {
        let ids: [Int32]
        let gains: [Float]
    }

    /// Segments `texts` with `base`, calling `progress` with the number of texts done. With
    /// `textGains` (one per text), every position also takes its gain; the ids they were computed on
    /// must be the base encoding of the text.
    static func build(
        base: HFTokenizer, layout: ExtensionLayout, texts: [String], textGains: [TextGains]? = nil, progress: (Int) -> Void
    ) throws -> HyperwordCorpus {
        if let textGains, textGains.count != texts.count {
            throw HyperwordError("surprisal: \(textGains.count) scored texts for \(texts.count) training texts; score every text once, in order")
        }
        var corpus = HyperwordCorpus()
        let chunkScanner = layout.chunkScanner
        let wordScanner = layout.wordScanner
        let unlearnable = Set(base.model.fallbackIds.filter { $0 >= 0 } + (base.model.unkId.map { [$0] } ?? []))
        var ids: [Int32] = []
        var marks: [UInt8] = []
        var lengths: [Int32] = []
        // With gains: the text's whole base encoding as segmented here, to find each chunk's gains by
        // position and to check that they belong to this text.
        var textIds: [Int32] = []
        var mismatch: Int? = nil
        base.withEncoderState { state in
            for (number, text) in texts.enumerated() {
                if number % 2000 == 0 { progress(number) }
                let given = textGains?[number]
                textIds.removeAll(keepingCapacity: true)
                /// The given gains of the `count` ids from `offset` of this text, nil when it has none.
                func gains(from offset: Int, count: Int) -> ArraySlice<Float>? {
                    guard let given else { return nil }
                    return offset + count <= given.gains.count ? given.gains[offset..<offset + count] : ArraySlice(repeating: 0, count: count)
                }
                var text = text
                text.withUTF8 { bytes in
                    base.forEachNormalizedSegment(bytes) { segment in
                        guard case .text(let normalized, _) = segment else {
                            if given != nil, case .token(let token) = segment { textIds.append(Int32(token.id)) }
                            return
                        }
                        switch layout {
                        case .byteLevel:
                            chunkScanner.forEachPiece(normalized, 0..<normalized.count) { chunkStart, chunkEnd in
                                let learnable = HyperwordCorpus.endsWithLetter(normalized, chunkEnd)
                                guard learnable || given != nil else { return }
                                ids.removeAll(keepingCapacity: true)
                                marks.removeAll(keepingCapacity: true)
                                wordScanner.forEachPiece(normalized, chunkStart..<chunkEnd) { wordStart, wordEnd in
                                    let before = ids.count
                                    base.encodePiece(
                                        UnsafeBufferPointer(rebasing: normalized[wordStart..<wordEnd]), into: &ids, state: &state)
                                    let isWord = HyperwordCorpus.isWordStart(normalized, wordStart, separator: [UInt8(ascii: " ")])
                                    for position in before..<ids.count {
                                        var mark: UInt8 = 0
                                        if position == before { mark |= startsWord }
                                        if position == ids.count - 1 { mark |= endsWord }
                                        marks.append(!isWord || unlearnable.contains(ids[position]) ? 0 : mark)
                                    }
                                }
                                let offset = textIds.count
                                if given != nil { textIds.append(contentsOf: ids) }
                                if learnable { corpus.add(ids, marks, gains: gains(from: offset, count: ids.count)) }
                            }
                        case .spaceMarker(let separator):
                            ids.removeAll(keepingCapacity: true)
                            lengths.removeAll(keepingCapacity: true)
                            base.encodePiece(normalized, into: &ids, lengths: &lengths, state: &state)
                            let offset = textIds.count
                            if given != nil { textIds.append(contentsOf: ids) }
                            corpus.addSpaceMarked(
                                normalized, ids: ids, lengths: lengths, chunkScanner: chunkScanner, wordScanner: wordScanner,
                                separator: separator, unlearnable: unlearnable, gains: gains(from: offset, count: ids.count))
                        }
                    }
                }
                if let given, given.ids != textIds, mismatch == nil { mismatch = number }
            }
        }
        if let number = mismatch, let given = textGains?[number] {
            let encoded = base.encode(texts[number]).map(Int32.init)
            let first = zip(given.ids, encoded).enumerated().first { $1.0 != $1.1 }?.offset ?? min(given.ids.count, encoded.count)
            throw HyperwordError(
                "surprisal of text \(number): it was computed on other ids than the base tokenizer's encoding of the text (\(given.ids.count) ids against \(encoded.count), first different at \(first)): score the base tokenizer's `encode` of each training text")
        }
        progress(texts.count)
        corpus.index = ByteStringMap()
        if textGains != nil { corpus.averageGains() }
        return corpus
    }

    /// Cuts a whole-text encoding into chunks; a token that crosses a chunk's edge drops the chunk,
    /// and a token that crosses a word boundary inside one is never part of a new token.
    private mutating func addSpaceMarked(
        _ text: UnsafeBufferPointer<UInt8>, ids: [Int32], lengths: [Int32], chunkScanner: SplitScanner, wordScanner: SplitScanner,
        separator: [UInt8], unlearnable: Set<Int32>, gains: ArraySlice<Float>?
    ) {
        var tokenIndex = 0
        var tokenStart = 0
        var chunkIds: [Int32] = []
        var chunkMarks: [UInt8] = []
        var wordStarts: [Int] = []
        chunkScanner.forEachPiece(text, 0..<text.count) { chunkStart, chunkEnd in
            while tokenIndex < ids.count && tokenStart < chunkStart {
                tokenStart += Int(lengths[tokenIndex])
                tokenIndex += 1
            }
            guard tokenStart == chunkStart, HyperwordCorpus.endsWithLetter(text, chunkEnd) else { return }
            wordStarts.removeAll(keepingCapacity: true)
            var allWords = true
            wordScanner.forEachPiece(text, chunkStart..<chunkEnd) { wordStart, _ in
                wordStarts.append(wordStart)
                allWords = allWords && HyperwordCorpus.isWordStart(text, wordStart, separator: separator)
            }
            wordStarts.append(chunkEnd)
            chunkIds.removeAll(keepingCapacity: true)
            chunkMarks.removeAll(keepingCapacity: true)
            var position = tokenStart
            var index = tokenIndex
            var word = 0
            while index < ids.count && position < chunkEnd {
                let end = position + Int(lengths[index])
                while wordStarts[word + 1] <= position { word += 1 }
                var mark: UInt8 = 0
                if wordStarts[word] == position { mark |= HyperwordCorpus.startsWord }
                if end == wordStarts[word + 1] { mark |= HyperwordCorpus.endsWord }
                if !allWords || end > wordStarts[word + 1] || unlearnable.contains(ids[index]) { mark = 0 }
                chunkIds.append(ids[index])
                chunkMarks.append(mark)
                position = end
                index += 1
            }
            guard position == chunkEnd else { return }
            let first = (gains?.startIndex ?? 0) + tokenIndex
            add(chunkIds, chunkMarks, gains: gains?[first..<first + chunkIds.count])
        }
    }

    /// Whether the scalar before `end` is a letter: chunks of words end so; chunks of digits,
    /// punctuation or whitespace never hold new tokens.
    private static func endsWithLetter(_ text: UnsafeBufferPointer<UInt8>, _ end: Int) -> Bool {
        var start = end - 1
        while start > 0 && text[start] & 0xC0 == 0x80 { start -= 1 }
        return UnicodeClasses.classes(of: decodeScalar(text, start).value) & UnicodeClasses.letter != 0
    }

    /// Whether a word begins with a letter, or with the separator and then a letter: "«Кавычки" or
    /// ".М" (a pre-token led by punctuation) never joins a new token.
    static func isWordStart(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, separator: [UInt8]) -> Bool {
        var position = start
        if text[start...].starts(with: separator) { position += separator.count }
        guard position < text.count else { return false }
        return UnicodeClasses.classes(of: decodeScalar(text, position).value) & UnicodeClasses.letter != 0
    }

    /// Stores one chunk (or counts it again), with the gains of its positions when there are any.
    private mutating func add(_ ids: [Int32], _ marks: [UInt8], gains chunkGains: ArraySlice<Float>? = nil) {
        guard ids.count >= 2 else { return }
        key.removeAll(keepingCapacity: true)
        for (id, mark) in zip(ids, marks) {
            withUnsafeBytes(of: id.littleEndian) { key.append(contentsOf: $0) }
            key.append(mark)
        }
        let chunk = UInt64(weights.count)
        if !key.withUnsafeBytes({ index.insert($0, value: chunk, replace: false) }) {
            if let existing = key.withUnsafeBytes({ index.find($0) }) {
                weights[Int(existing)] += 1
                if let chunkGains {
                    let start = Int(chunkStarts[Int(existing)])
                    for (offset, gain) in chunkGains.enumerated() { gains[start + offset] += Double(gain) }
                }
            }
            return
        }
        tokens.append(contentsOf: ids)
        flags.append(contentsOf: marks)
        if let chunkGains { gains.append(contentsOf: chunkGains.map(Double.init)) }
        chunkStarts.append(Int32(tokens.count))
        weights.append(1)
    }

    /// Turns each position's summed gain into the mean over its chunk's occurrences.
    private mutating func averageGains() {
        for chunk in 0..<chunkCount {
            let weight = Double(weights[chunk])
            for position in Int(chunkStarts[chunk])..<Int(chunkStarts[chunk + 1]) { gains[position] /= weight }
        }
    }
}
