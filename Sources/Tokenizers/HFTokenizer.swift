// HFTokenizer — a Hugging Face `tokenizer.json` (BPE model) run in Swift with the ids the
// `tokenizers` library gives: added tokens → normalizer → pre-tokenizer → BPE model per piece,
// and the decoder chain back. Pieces repeat, so each encode call keeps a piece → ids cache.
import Foundation
import LoomCore

public final class HFTokenizer: Tokenizer, Sendable {
    /// The file the tokenizer came from (or a name for one built in memory), for messages.
    public let source: String
    /// The document as parsed: an exported (extended) tokenizer starts from it.
    public let document: OrderedJSON
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer
    let model: BPEModel
    let addedTokens: [AddedToken]
    private let addedById: [Int: AddedToken]
    private let addedIdsByContent: ByteStringMap
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    let decoder: TokenDecoder?
    public let specialTokens: SpecialTokens
    public let vocabularySize: Int
    private let statePool = EncoderStatePool()

    /// Loads a tokenizer.json file.
    public convenience init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerFileError(file: url.path, field: "", problem: "cannot read: \(SystemErrorText.reason(error))")
        }
        try self.init(data: data, source: url.path)
    }

    /// Parses tokenizer.json bytes; `source` names them in errors.
    public convenience init(data: Data, source: String) throws {
        let document: OrderedJSON
        do {
            document = try OrderedJSON.parse(data)
        } catch let error as JSONSyntaxError {
            throw TokenizerFileError(file: source, field: "", problem: "invalid JSON at \(error)")
        }
        try self.init(document: document, source: source)
    }

    /// Builds the tokenizer a parsed tokenizer.json describes. `specialTokens` overrides the ones
    /// read from the file (a model directory's tokenizer_config.json names them).
    public init(document: OrderedJSON, source: String, specialTokens: SpecialTokens? = nil) throws {
        let root = JSONField(root: document, file: source)
        guard case .object = document else { throw root.failure("expected a JSON object at the top level") }
        self.source = source
        self.document = document
        normalizer = try root.optional("normalizer").map(Normalizer.parse)
        preTokenizer = try PreTokenizer.parse(try root.optional("pre_tokenizer"))
        model = try BPEModel.parse(try root.required("model"), byteLevel: preTokenizer.isByteLevel)
        decoder = try root.optional("decoder").map(TokenDecoder.parse)

        var added: [AddedToken] = []
        for item in try root.optional("added_tokens")?.items() ?? [] {
            let special = try item.bool("special", default: false)
            added.append(
                AddedToken(
                    id: try item.required("id").int(), content: try item.required("content").string(),
                    singleWord: try item.bool("single_word", default: false), lstrip: try item.bool("lstrip", default: false),
                    rstrip: try item.bool("rstrip", default: false), normalized: try item.bool("normalized", default: !special),
                    special: special))
        }
        added = HFTokenizer.assignIds(added, model: model)
        addedTokens = added
        addedById = Dictionary(added.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        var byContent = ByteStringMap(capacity: max(16, added.count))
        for token in added { byContent.insert(Array(token.content.utf8), value: UInt64(token.id)) }
        addedIdsByContent = byContent
        let raw = added.filter { !$0.normalized }
        let normalized = added.filter(\.normalized)
        rawMatcher = AddedTokenMatcher(tokens: raw, patterns: raw.map { Array($0.content.utf8) })
        let normalizer = self.normalizer
        normalizedMatcher = AddedTokenMatcher(
            tokens: normalized, patterns: normalized.map { normalizer?.normalize(Array($0.content.utf8)) ?? Array($0.content.utf8) })

        let largestId = max(model.pieces.count - 1, added.map(\.id).max() ?? -1)
        vocabularySize = largestId + 1
        self.specialTokens = specialTokens ?? HFTokenizer.inferSpecialTokens(root: root, added: added, unkId: model.unkId.map(Int.init))
    }

    /// The ids Hugging Face gives added tokens when it loads a file, which are not always the ids
    /// written there: a token whose text is a model entry takes that entry's id; any other takes
    /// the number of model entries, or one past the largest added id if that is larger. (So new
    /// model entries appended after Llama-3-style special tokens would move the specials; Loom's
    /// exports list every added token in model.vocab as well.)
    private static func assignIds(_ tokens: [AddedToken], model: BPEModel) -> [AddedToken] {
        var assigned = ByteStringMap(capacity: max(16, tokens.count))
        var largest: Int? = nil
        return tokens.map { token in
            let content = Array(token.content.utf8)
            let id: Int
            if let existing = assigned.find(content) ?? model.idsByText.find(content) {
                id = Int(existing)
            } else if let largest, largest >= model.entryCount {
                id = largest + 1
            } else {
                id = model.entryCount
            }
            assigned.insert(content, value: UInt64(id))
            largest = max(largest ?? id, id)
            return AddedToken(
                id: id, content: token.content, singleWord: token.singleWord, lstrip: token.lstrip, rstrip: token.rstrip,
                normalized: token.normalized, special: token.special)
        }
    }

    // MARK: encoding

    public func encode(_ text: String) -> [Int] {
        var ids: [Int32] = []
        encode(text, into: &ids)
        return ids.map(Int.init)
    }

    /// Appends the ids of `text` (the allocation-light form the benchmark and learners use).
    func encode(_ text: String, into ids: inout [Int32]) {
        withEncoderState { state in
            var text = text
            text.withUTF8 { bytes in
                forEachSegment(bytes) { segment in
                    switch segment {
                    case .token(let token): ids.append(Int32(token.id))
                    case .text(let piece, _): encodePiece(piece, into: &ids, state: &state)
                    }
                }
            }
        }
    }

    /// What the pipeline hands the model: an added token, or a piece of normalized text
    /// (`atStart`: it begins the original text).
    enum Segment {
        case token(AddedToken)
        case text(UnsafeBufferPointer<UInt8>, atStart: Bool)
    }

    /// Runs added-token matching, normalization and pre-tokenization, calling `body` per piece.
    func forEachSegment(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Segment) -> Void) {
        forEachNormalizedSegment(bytes) { segment in
            switch segment {
            case .token: body(segment)
            case .text(let text, let atStart):
                preTokenizer.forEachPiece(text, atStart: atStart) { body(.text($0, atStart: atStart)) }
            }
        }
    }

    /// Added-token matching and normalization only: added tokens, and the normalized text between
    /// them (before pre-tokenization).
    func forEachNormalizedSegment(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Segment) -> Void) {
        for split in rawMatcher.split(bytes) {
            if let token = split.token {
                body(.token(token))
                continue
            }
            let raw = UnsafeBufferPointer(rebasing: bytes[split.range])
            let atStart = split.range.lowerBound == 0
            if let normalizer {
                let normalized = normalizer.normalize(Array(raw))
                normalized.withUnsafeBufferPointer { normalizedBytes in
                    splitNormalized(normalizedBytes, atStart: atStart, body)
                }
            } else {
                splitNormalized(raw, atStart: atStart, body)
            }
        }
    }

    private func splitNormalized(_ text: UnsafeBufferPointer<UInt8>, atStart: Bool, _ body: (Segment) -> Void) {
        if normalizedMatcher.isEmpty {
            body(.text(text, atStart: atStart))
            return
        }
        for split in normalizedMatcher.split(text) {
            if let token = split.token {
                body(.token(token))
            } else {
                body(.text(UnsafeBufferPointer(rebasing: text[split.range]), atStart: atStart && split.range.lowerBound == 0))
            }
        }
    }

    /// The model's ids for one pre-token, through the piece → ids cache; `lengths` gets the bytes
    /// of the piece each id covers.
    func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], lengths: inout [Int32], state: inout EncoderState) {
        encodePiece(piece, into: &ids, state: &state, lengths: &lengths)
    }

    /// The model's ids for one pre-token, through the piece → ids cache.
    @inline(__always)
    func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], state: inout EncoderState) {
        encodePiece(piece, into: &ids, state: &state, lengths: nil)
    }

    @inline(__always)
    private func encodePiece(
        _ piece: UnsafeBufferPointer<UInt8>, into ids: inout [Int32], state: inout EncoderState, lengths: UnsafeMutablePointer<[Int32]>?
    ) {
        let key = UnsafeRawBufferPointer(piece)
        let cacheable = piece.count <= EncoderState.maxCachedPieceBytes
        if cacheable, let found = state.cache.find(key) {
            let start = Int(found >> 24), count = Int(found & 0xFF_FFFF)
            ids.append(contentsOf: state.cachedIds[start..<start + count])
            lengths?.pointee.append(contentsOf: state.cachedLengths[start..<start + count])
            return
        }
        let before = ids.count, lengthsBefore = state.cachedLengths.count
        model.encode(piece, ids: &ids, lengths: &state.cachedLengths, scratch: &state.bpe)
        lengths?.pointee.append(contentsOf: state.cachedLengths[lengthsBefore...])
        guard cacheable && state.cachedIds.count <= EncoderState.maxCachedIds else {
            state.cachedLengths.removeLast(state.cachedLengths.count - lengthsBefore)
            if cacheable { state.resetCache() }
            return
        }
        let start = state.cachedIds.count
        state.cachedIds.append(contentsOf: ids[before...])
        state.cache.insert(key, value: UInt64(start) << 24 | UInt64(ids.count - before))
    }

    /// Runs `body` with encoder working memory from the pool (one caller per state at a time).
    func withEncoderState<Result>(_ body: (inout EncoderState) -> Result) -> Result {
        var state = statePool.take()
        let result = body(&state)
        statePool.give(state)
        return result
    }

    // MARK: decoding

    public func decode(_ ids: [Int]) -> String {
        if decoder == .byteLevel {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(ids.count * 4)
            for id in ids {
                guard let token = tokenText(id) else { continue }
                if let raw = ByteLevelAlphabet.bytes(of: token) {
                    bytes.append(contentsOf: raw)
                } else {
                    bytes.append(contentsOf: token.utf8)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        let tokens = ids.compactMap(tokenText)
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens).joined()
    }

    /// An id's token string: the added token's content, else the model's entry.
    private func tokenText(_ id: Int) -> String? {
        if let token = addedById[id] { return token.content }
        return model.pieces.indices.contains(id) ? model.pieces[id] : nil
    }

    public func piece(for id: Int) -> String? { tokenText(id) }

    public func id(for piece: String) -> Int? {
        let bytes = Array(piece.utf8)
        if let id = addedIdsByContent.find(bytes) { return Int(id) }
        return model.idsByText.find(bytes).map { Int($0) }
    }

    /// Whether `id` is an added token marked special.
    public func isSpecial(_ id: Int) -> Bool { addedById[id]?.special ?? false }

    // MARK: special tokens

    private static let bosNames = ["<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>"]
    private static let eosNames = ["</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>", "<|eot_id|>", "<|im_end|>"]
    private static let padNames = ["<pad>", "<|pad|>", "[PAD]", "<|finetune_right_pad_id|>"]

    /// BOS from the post-processor's template (else a conventional name), EOS and PAD by their
    /// conventional names, UNK from the model; `prefix` and `suffix` are the template's special tokens
    /// around the text. A HF directory's tokenizer_config.json overrides the names (see `TokenizerLoader`);
    /// what is added stays the template's, as transformers 5 does.
    private static func inferSpecialTokens(root: JSONField, added: [AddedToken], unkId: Int?) -> SpecialTokens {
        func named(_ names: [String]) -> Int? {
            for name in names {
                if let token = added.first(where: { $0.content == name && $0.special }) { return token.id }
            }
            return nil
        }
        func id(_ piece: TemplatePiece) -> Int? {
            piece.ids?.count == 1 ? piece.ids![0] : added.first(where: { $0.content == piece.content })?.id
        }
        let template = templateSpecials(root.value["post_processor"])
        var special = SpecialTokens(bos: named(bosNames), eos: named(eosNames), unk: unkId, pad: named(padNames),
                                    prefix: template.prefix.flatMap { $0.ids ?? id($0).map { [$0] } ?? [] },
                                    suffix: template.suffix.flatMap { $0.ids ?? id($0).map { [$0] } ?? [] })
        if let first = template.prefix.first, let bos = id(first) { special.bos = bos }
        if let last = template.suffix.last, let eos = id(last) { special.eos = eos }
        return special
    }

    /// A special token of a TemplateProcessing `single` template: its text and, where the template's
    /// `special_tokens` map gives them, the ids it stands for.
    struct TemplatePiece {
        let content: String
        let ids: [Int]?
    }

    /// The special tokens before and after `$A` in the post-processor's single-sequence template (inside
    /// a `Sequence` of processors too); none where there is no TemplateProcessing (ByteLevel alone, null).
    static func templateSpecials(_ processor: OrderedJSON?) -> (prefix: [TemplatePiece], suffix: [TemplatePiece]) {
        guard let processor, case .string(let type)? = processor["type"] else { return ([], []) }
        if type == "Sequence", case .array(let steps)? = processor["processors"] {
            for step in steps {
                let found = templateSpecials(step)
                if !found.prefix.isEmpty || !found.suffix.isEmpty { return found }
            }
            return ([], [])
        }
        guard type == "TemplateProcessing", case .array(let single)? = processor["single"] else { return ([], []) }
        var prefix: [TemplatePiece] = [], suffix: [TemplatePiece] = []
        var seenText = false
        for item in single {
            if item["Sequence"] != nil { seenText = true; continue }
            guard case .string(let content)? = item["SpecialToken"]?["id"] else { continue }
            var ids: [Int]?
            if case .array(let values)? = processor["special_tokens"]?[content]?["ids"] {
                ids = values.compactMap { if case .int(let n) = $0 { n } else { nil } }
            }
            let piece = TemplatePiece(content: content, ids: ids)
            if seenText { suffix.append(piece) } else { prefix.append(piece) }
        }
        return (prefix, suffix)
    }
}

/// Encoder states not in use, kept for the next call (their caches stay warm).
/// `@unchecked Sendable`: `states` is only touched under `lock` (Synchronization.Mutex would need
/// macOS 15; the package supports macOS 14).
final class EncoderStatePool: @unchecked Sendable {
    private let lock = NSLock()
    private var states: [EncoderState] = []

    func take() -> EncoderState {
        lock.lock()
        defer { lock.unlock() }
        return states.popLast() ?? EncoderState()
    }

    func give(_ state: EncoderState) {
        lock.lock()
        defer { lock.unlock() }
        if states.count < 8 { states.append(state) }
    }
}

/// Working memory of the encoder: the merge loop's arrays and the piece → ids cache, which
/// outlives one call (pooled by the tokenizer) because pieces repeat across texts.
struct EncoderState: Sendable {
    static let maxCachedPieceBytes = 128
    static let maxCachedIds = 1 << 22

    var bpe = BPEWorkspace()
    var cache = ByteStringMap(capacity: 1 << 14)
    var cachedIds: [Int32] = []
    /// Byte lengths of `cachedIds`, one for one.
    var cachedLengths: [Int32] = []

    mutating func resetCache() {
        cache = ByteStringMap(capacity: 1 << 14)
        cachedIds.removeAll(keepingCapacity: true)
        cachedLengths.removeAll(keepingCapacity: true)
    }
}
