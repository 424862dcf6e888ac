// GGUFTokenizerImport — a GGUF file's `tokenizer.ggml.*` as a Hugging Face tokenizer.json, rebuilt the way
// transformers' own GGUF loader rebuilds it (so the ids agree with `AutoTokenizer.from_pretrained(dir,
// gguf_file=…)`). Two vocabularies:
// - `gpt2`: a byte-level BPE with the file's vocabulary (tokens outside the byte alphabet respelled in it)
//   and merges; GPT-2's split, or Llama-3's / Qwen2's when `tokenizer.ggml.pre` names it.
// - `llama` (SentencePiece): transformers' LlamaTokenizer — the pieces as written (byte pieces `<0xNN>`
//   included), BPE with byte fallback and fused unknowns, Metaspace ("▁", prepended to the text's first
//   piece only), and the merges the file gives or, as usual, none: then rebuilt from the scores the way
//   transformers' `generate_merges` does (see `SentencePieceMerges`).
// Both: control tokens (type 3) and the tokens the bos/eos/unknown/padding ids name as special added tokens,
// user-defined ones (type 4) as plain added tokens; BOS first and EOS last as `add_bos_token` /
// `add_eos_token` say (a SentencePiece vocabulary adds BOS unless the file says otherwise).
import Foundation
import LoomCore

public enum GGUFTokenizerImport {
    /// tokenizer.json and tokenizer_config.json for the file's tokenizer. Errors name the file and the key.
    public static func files(from reader: GGUFReader) throws -> (tokenizer: OrderedJSON, config: OrderedJSON) {
        let path = reader.file.path
        let model = reader["tokenizer.ggml.model"]?.stringValue ?? ""
        guard model == "gpt2" || model == "llama" else {
            throw GGUFFileError(
                file: path, problem: "tokenizer.ggml.model \"\(model)\" is not supported (gpt2: byte-level BPE; llama: SentencePiece BPE)")
        }
        guard let tokens = reader["tokenizer.ggml.tokens"]?.arrayValue?.compactMap(\.stringValue), !tokens.isEmpty else {
            throw GGUFFileError(file: path, problem: "tokenizer.ggml.tokens: missing or not an array of strings")
        }
        let types = reader["tokenizer.ggml.token_type"]?.arrayValue?.compactMap(\.intValue) ?? []
        let fileMerges = reader["tokenizer.ggml.merges"]?.arrayValue?.compactMap(\.stringValue).map { merge in
            merge.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        }
        func special(_ key: String) -> String? {
            reader["tokenizer.ggml.\(key)"]?.intValue.flatMap { tokens.indices.contains($0) ? tokens[$0] : nil }
        }
        let named = [("bos_token", special("bos_token_id")), ("eos_token", special("eos_token_id")),
                     ("unk_token", special("unknown_token_id")), ("pad_token", special("padding_token_id"))]
        let bos = named[0].1, eos = named[1].1
        let addsBOS = (reader["tokenizer.ggml.add_bos_token"]?.boolValue ?? (model == "llama")) && bos != nil
        let addsEOS = (reader["tokenizer.ggml.add_eos_token"]?.boolValue ?? false) && eos != nil

        let parts: Parts
        if model == "gpt2" {
            parts = byteLevel(reader, tokens: tokens, merges: fileMerges ?? [])
        } else {
            let merges = try fileMerges ?? sentencePieceMerges(reader, tokens: tokens)
            parts = sentencePiece(tokens: tokens, merges: merges)
        }

        // transformers' added vocabulary: the special tokens it is given by name, control and user-defined
        // tokens; each once, by id.
        var added: [Int: OrderedJSON] = [:]
        func add(_ id: Int, _ special: Bool) {
            guard added[id] == nil else { return }
            added[id] = .object([
                JSONMember("id", .int(id)), JSONMember("content", .string(tokens[id])), JSONMember("single_word", .bool(false)),
                JSONMember("lstrip", .bool(false)), JSONMember("rstrip", .bool(false)), JSONMember("normalized", .bool(false)),
                JSONMember("special", .bool(special)),
            ])
        }
        for (_, token) in named { if let token, let id = parts.ids[Array(token.utf8)] { add(id, true) } }
        for (id, type) in types.prefix(tokens.count).enumerated() where type == 3 || type == 4 { add(id, type == 3) }

        let tokenizer: OrderedJSON = .object([
            JSONMember("version", .string("1.0")), JSONMember("truncation", .null), JSONMember("padding", .null),
            JSONMember("added_tokens", .array(added.keys.sorted().map { added[$0]! })), JSONMember("normalizer", .null),
            JSONMember("pre_tokenizer", parts.preTokenizer),
            JSONMember("post_processor", template(bos: addsBOS ? bos.flatMap { b in parts.ids[Array(b.utf8)].map { (b, $0) } } : nil,
                                                  eos: addsEOS ? eos.flatMap { e in parts.ids[Array(e.utf8)].map { (e, $0) } } : nil)),
            JSONMember("decoder", parts.decoder),
            JSONMember("model", .object([
                JSONMember("type", .string("BPE")), JSONMember("dropout", .null), JSONMember("unk_token", .null),
                JSONMember("continuing_subword_prefix", parts.byteFallback ? .null : .string("")),
                JSONMember("end_of_word_suffix", parts.byteFallback ? .null : .string("")),
                JSONMember("fuse_unk", .bool(parts.byteFallback)), JSONMember("byte_fallback", .bool(parts.byteFallback)),
                JSONMember("ignore_merges", .bool(false)), JSONMember("vocab", .object(parts.vocabulary)),
                JSONMember("merges", .array(parts.merges.map { .array($0.map { .string($0) }) })),
            ])),
        ])
        var config: [JSONMember] = [JSONMember("tokenizer_class", .string("PreTrainedTokenizerFast"))]
        for (name, token) in named { if let token { config.append(JSONMember(name, .string(token))) } }
        config.append(JSONMember("add_bos_token", .bool(addsBOS)))
        config.append(JSONMember("add_eos_token", .bool(addsEOS)))
        return (tokenizer, .object(config))
    }

    /// What differs between the two kinds of vocabulary (neither has a normalizer).
    private struct Parts {
        /// The BPE model's vocab object, and each token's id by its UTF-8 bytes as the file spells it.
        let vocabulary: [JSONMember], ids: [[UInt8]: Int]
        let merges: [[String]]
        let preTokenizer: OrderedJSON, decoder: OrderedJSON
        /// SentencePiece's byte fallback (with fused unknowns and null affixes), else byte-level BPE's settings.
        let byteFallback: Bool
    }

    /// Each token's id (the last of equal tokens, as a Python dict keeps it) and the vocabulary object in
    /// first-appearance order.
    private static func vocabulary(_ spellings: [String]) -> (members: [JSONMember], ids: [[UInt8]: Int]) {
        var ids: [[UInt8]: Int] = [:], order: [[UInt8]] = [], spelled: [[UInt8]: String] = [:]
        for (id, token) in spellings.enumerated() {
            let key = Array(token.utf8)
            if ids.updateValue(id, forKey: key) == nil {
                order.append(key)
                spelled[key] = token
            }
        }
        return (order.map { JSONMember(spelled[$0]!, .int(ids[$0]!)) }, ids)
    }

    /// GPT2Tokenizer's parts: byte-level pre-tokenizer (with the named split) and decoder, no normalizer.
    private static func byteLevel(_ reader: GGUFReader, tokens: [String], merges: [[String]]) -> Parts {
        func spelled(_ token: String) -> String {
            token.unicodeScalars.allSatisfy { ByteLevelAlphabet.byteForCharacter.indices.contains(Int($0.value)) && ByteLevelAlphabet.byteForCharacter[Int($0.value)] >= 0 }
                ? token : ByteLevelAlphabet.piece(of: Array(token.utf8))
        }
        let (members, _) = vocabulary(tokens.map(spelled))
        // Added tokens are looked up as the file spells them.
        let ids = vocabulary(tokens).ids
        let pre = reader["tokenizer.ggml.pre"]?.stringValue ?? ""
        let split = SplitScanner.llamaCppPreTokenizers.first { $0.names.contains(pre) }?.pattern
        func byteLevelStep(useRegex: Bool, addPrefixSpace: Bool) -> OrderedJSON {
            .object([JSONMember("type", .string("ByteLevel")), JSONMember("add_prefix_space", .bool(addPrefixSpace)),
                     JSONMember("trim_offsets", .bool(true)), JSONMember("use_regex", .bool(useRegex))])
        }
        let preTokenizer: OrderedJSON = split.map { pattern in
            .object([JSONMember("type", .string("Sequence")), JSONMember("pretokenizers", .array([
                .object([JSONMember("type", .string("Split")), JSONMember("pattern", .object([JSONMember("Regex", .string(pattern))])),
                         JSONMember("behavior", .string("Isolated")), JSONMember("invert", .bool(false))]),
                byteLevelStep(useRegex: false, addPrefixSpace: false),
            ]))])
        } ?? byteLevelStep(useRegex: true, addPrefixSpace: false)
        return Parts(vocabulary: members, ids: ids, merges: merges, preTokenizer: preTokenizer,
                     decoder: byteLevelStep(useRegex: true, addPrefixSpace: true), byteFallback: false)
    }

    /// LlamaTokenizer's parts (legacy=False): no normalizer, Metaspace("▁", prepend_scheme first, no split),
    /// decoder Replace("▁" → " "), ByteFallback, Fuse, Strip(" ", 1, 0).
    private static func sentencePiece(tokens: [String], merges: [[String]]) -> Parts {
        let (members, ids) = vocabulary(tokens)
        let preTokenizer: OrderedJSON = .object([
            JSONMember("type", .string("Metaspace")), JSONMember("replacement", .string("▁")),
            JSONMember("prepend_scheme", .string("first")), JSONMember("split", .bool(false)),
        ])
        let decoder: OrderedJSON = .object([
            JSONMember("type", .string("Sequence")),
            JSONMember("decoders", .array([
                .object([JSONMember("type", .string("Replace")), JSONMember("pattern", .object([JSONMember("String", .string("▁"))])),
                         JSONMember("content", .string(" "))]),
                .object([JSONMember("type", .string("ByteFallback"))]), .object([JSONMember("type", .string("Fuse"))]),
                .object([JSONMember("type", .string("Strip")), JSONMember("content", .string(" ")), JSONMember("start", .int(1)),
                         JSONMember("stop", .int(0))]),
            ])),
        ])
        return Parts(vocabulary: members, ids: ids, merges: merges, preTokenizer: preTokenizer, decoder: decoder, byteFallback: true)
    }

    /// A SentencePiece vocabulary's merges, rebuilt from `tokenizer.ggml.scores` (one per token).
    private static func sentencePieceMerges(_ reader: GGUFReader, tokens: [String]) throws -> [[String]] {
        let path = reader.file.path
        guard let values = reader["tokenizer.ggml.scores"]?.arrayValue else {
            throw GGUFFileError(
                file: path,
                problem: "tokenizer.ggml.scores: missing (a SentencePiece vocabulary without merges needs its scores to rebuild them)")
        }
        let scores = values.compactMap(\.doubleValue)
        guard scores.count == values.count, scores.count == tokens.count else {
            throw GGUFFileError(
                file: path,
                problem: "tokenizer.ggml.scores: \(values.count) values (\(scores.count) numbers) for \(tokens.count) tokens (one number per token expected)")
        }
        return SentencePieceMerges.fromScores(tokens: tokens, scores: scores).map { [$0.left, $0.right] }
    }

    /// transformers' `update_post_processor`: "[bos:0] $A:0 [eos:0]" and "… [bos:1] $B:1 [eos:1]".
    private static func template(bos: (String, Int)?, eos: (String, Int)?) -> OrderedJSON {
        func special(_ token: (String, Int)?, _ typeId: Int) -> [OrderedJSON] {
            token.map { [.object([JSONMember("SpecialToken", .object([JSONMember("id", .string($0.0)), JSONMember("type_id", .int(typeId))]))])] } ?? []
        }
        func sequence(_ name: String, _ typeId: Int) -> OrderedJSON {
            .object([JSONMember("Sequence", .object([JSONMember("id", .string(name)), JSONMember("type_id", .int(typeId))]))])
        }
        var specialMap: [JSONMember] = []
        for (token, id) in [bos, eos].compactMap({ $0 }) where !specialMap.contains(where: { $0.key == token }) {
            specialMap.append(JSONMember(token, .object([JSONMember("id", .string(token)), JSONMember("ids", .array([.int(id)])),
                                                         JSONMember("tokens", .array([.string(token)]))])))
        }
        let single = special(bos, 0) + [sequence("A", 0)] + special(eos, 0)
        return .object([
            JSONMember("type", .string("TemplateProcessing")), JSONMember("single", .array(single)),
            JSONMember("pair", .array(single + special(bos, 1) + [sequence("B", 1)] + special(eos, 1))),
            JSONMember("special_tokens", .object(specialMap)),
        ])
    }
}

/// transformers' `generate_merges(vocab, vocab_scores)`, which its GGUF loader uses to give a SentencePiece
/// vocabulary merges: every split of every token into two tokens of the vocabulary (at character
/// boundaries), each token's splits ordered by the ids of their halves, then all of them by the merged
/// token's score, highest first, ties to the longer left half, then the longer right half, then the order
/// they were found in (Python's stable sort). Strings are compared as UTF-8 bytes, never canonically.
public enum SentencePieceMerges {
    public static func fromScores(tokens: [String], scores: [Double]) -> [(left: String, right: String)] {
        // Python dicts: {token: last id} and {token: last score}, iterated in first-appearance order.
        var ids: [[UInt8]: Int] = [:], score: [[UInt8]: Double] = [:], order: [[UInt8]] = []
        for (id, token) in tokens.enumerated() {
            let key = Array(token.utf8)
            if ids.updateValue(id, forKey: key) == nil { order.append(key) }
            score[key] = scores[id]
        }
        struct Candidate {
            let left: ArraySlice<UInt8>, right: ArraySlice<UInt8>
            let score: Double, leftLength: Int, rightLength: Int, leftId: Int, rightId: Int
        }
        var candidates: [Candidate] = []
        for token in order {
            let characters = token.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
            var local: [Candidate] = []
            var leftLength = 0
            for boundary in token.indices.dropFirst() where token[boundary] & 0xC0 != 0x80 {
                leftLength += 1
                let left = token[..<boundary], right = token[boundary...]
                guard let leftId = ids[Array(left)], let rightId = ids[Array(right)] else { continue }
                local.append(Candidate(left: left, right: right, score: score[token]!, leftLength: leftLength,
                                       rightLength: characters - leftLength, leftId: leftId, rightId: rightId))
            }
            candidates += local.enumerated().sorted { a, b in
                (a.element.leftId, a.element.rightId, a.offset) < (b.element.leftId, b.element.rightId, b.offset)
            }.map(\.element)
        }
        let ranked = candidates.enumerated().sorted { a, b in
            let x = a.element, y = b.element
            if x.score != y.score { return x.score > y.score }
            if x.leftLength != y.leftLength { return x.leftLength > y.leftLength }
            if x.rightLength != y.rightLength { return x.rightLength > y.rightLength }
            return a.offset < b.offset
        }
        return ranked.map { (String(decoding: $0.element.left, as: UTF8.self), String(decoding: $0.element.right, as: UTF8.self)) }
    }
}
