// HyperwordCorpus — training text as the hyperword learner sees it: "chunks" (runs of letter words
// joined by single spaces, the longest stretch one hyperword may cover) holding the base
// tokenizer's ids, each id marked where words start and end. Identical chunks are stored once
// with a count. ExtensionLayout says how a base tokenizer's layout lets tokens span words.
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
    var chunkCount: Int { weights.count }

    private var index = ByteStringMap(capacity: 1 << 16)
    private var key: [UInt8] = []

    /// Segments `texts` with `base`, calling `progress` with the number of texts done.
    static func build(
        base: HFTokenizer, layout: ExtensionLayout, texts: [String], progress: (Int) -> Void
    ) -> HyperwordCorpus {
        var corpus = HyperwordCorpus()
        let chunkScanner = layout.chunkScanner
        let wordScanner = layout.wordScanner
        let unlearnable = Set(base.model.fallbackIds.filter { $0 >= 0 } + (base.model.unkId.map { [$0] } ?? []))
        var ids: [Int32] = []
        var marks: [UInt8] = []
        var lengths: [Int32] = []
        base.withEncoderState { state in
            for (number, text) in texts.enumerated() {
                if number % 2000 == 0 { progress(number) }
                var text = text
                text.withUTF8 { bytes in
                    base.forEachNormalizedSegment(bytes) { segment in
                        guard case .text(let normalized, _) = segment else { return }
                        switch layout {
                        case .byteLevel:
                            chunkScanner.forEachPiece(normalized, 0..<normalized.count) { chunkStart, chunkEnd in
                                guard HyperwordCorpus.endsWithLetter(normalized, chunkEnd) else { return }
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
                                corpus.add(ids, marks)
                            }
                        case .spaceMarker(let separator):
                            ids.removeAll(keepingCapacity: true)
                            lengths.removeAll(keepingCapacity: true)
                            base.encodePiece(normalized, into: &ids, lengths: &lengths, state: &state)
                            corpus.addSpaceMarked(
                                normalized, ids: ids, lengths: lengths, chunkScanner: chunkScanner, wordScanner: wordScanner,
                                separator: separator, unlearnable: unlearnable)
                        }
                    }
                }
            }
        }
        progress(texts.count)
        corpus.index = ByteStringMap()
        return corpus
    }

    /// Cuts a whole-text encoding into chunks; a token that crosses a chunk's edge drops the chunk,
    /// and a token that crosses a word boundary inside one is never part of a new token.
    private mutating func addSpaceMarked(
        _ text: UnsafeBufferPointer<UInt8>, ids: [Int32], lengths: [Int32], chunkScanner: SplitScanner, wordScanner: SplitScanner,
        separator: [UInt8], unlearnable: Set<Int32>
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
            add(chunkIds, chunkMarks)
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

    /// Stores one chunk (or counts it again).
    private mutating func add(_ ids: [Int32], _ marks: [UInt8]) {
        guard ids.count >= 2 else { return }
        key.removeAll(keepingCapacity: true)
        for (id, mark) in zip(ids, marks) {
            withUnsafeBytes(of: id.littleEndian) { key.append(contentsOf: $0) }
            key.append(mark)
        }
        let chunk = UInt64(weights.count)
        if !key.withUnsafeBytes({ index.insert($0, value: chunk, replace: false) }) {
            if let existing = key.withUnsafeBytes({ index.find($0) }) { weights[Int(existing)] += 1 }
            return
        }
        tokens.append(contentsOf: ids)
        flags.append(contentsOf: marks)
        chunkStarts.append(Int32(tokens.count))
        weights.append(1)
    }
}
