// GGUFTokenizerImport — a GGUF file's `tokenizer.ggml.*` as a Hugging Face tokenizer.json, rebuilt the way
// transformers' own GGUF loader rebuilds it (so the ids agree with `AutoTokenizer.from_pretrained(dir,
// gguf_file=…)`): a byte-level BPE (`gpt2`) with the file's vocabulary (tokens outside the byte alphabet
// respelled in it) and merges; GPT-2's split, or Llama-3's / Qwen2's when `tokenizer.ggml.pre` names it;
// control tokens (type 3) as special added tokens and user-defined ones (type 4) as plain added tokens;
// BOS put first when `add_bos_token` says so. SentencePiece vocabularies (`llama`) are refused for now.
import Foundation
import LoomCore

public enum GGUFTokenizerImport {
    /// tokenizer.json and tokenizer_config.json for the file's tokenizer.
    public static func files(from reader: GGUFReader) throws -> (tokenizer: OrderedJSON, config: OrderedJSON) {
        let path = reader.file.path
        let model = reader["tokenizer.ggml.model"]?.stringValue ?? ""
        guard model == "gpt2" else {
            throw GGUFFileError(file: path, problem: "tokenizer.ggml.model \"\(model)\" is not supported (gpt2: byte-level BPE)")
        }
        guard let tokens = reader["tokenizer.ggml.tokens"]?.arrayValue?.compactMap(\.stringValue), !tokens.isEmpty else {
            throw GGUFFileError(file: path, problem: "tokenizer.ggml.tokens: missing or not an array of strings")
        }
        let types = reader["tokenizer.ggml.token_type"]?.arrayValue?.compactMap(\.intValue) ?? []
        let merges = reader["tokenizer.ggml.merges"]?.arrayValue?.compactMap(\.stringValue) ?? []
        func spelled(_ token: String) -> String {
            token.unicodeScalars.allSatisfy { ByteLevelAlphabet.byteForCharacter.indices.contains(Int($0.value)) && ByteLevelAlphabet.byteForCharacter[Int($0.value)] >= 0 }
                ? token : ByteLevelAlphabet.piece(of: Array(token.utf8))
        }
        var vocabulary: [JSONMember] = []
        var added: [OrderedJSON] = []
        for (id, token) in tokens.enumerated() {
            vocabulary.append(JSONMember(spelled(token), .int(id)))
            let type = id < types.count ? types[id] : 1
            guard type == 3 || type == 4 else { continue }
            added.append(.object([
                JSONMember("id", .int(id)), JSONMember("content", .string(token)), JSONMember("single_word", .bool(false)),
                JSONMember("lstrip", .bool(false)), JSONMember("rstrip", .bool(false)), JSONMember("normalized", .bool(false)),
                JSONMember("special", .bool(type == 3)),
            ]))
        }
        let pre = reader["tokenizer.ggml.pre"]?.stringValue ?? ""
        let split = SplitScanner.llamaCppPreTokenizers.first { $0.names.contains(pre) }?.pattern
        func byteLevel(useRegex: Bool, addPrefixSpace: Bool) -> OrderedJSON {
            .object([JSONMember("type", .string("ByteLevel")), JSONMember("add_prefix_space", .bool(addPrefixSpace)),
                     JSONMember("trim_offsets", .bool(true)), JSONMember("use_regex", .bool(useRegex))])
        }
        let preTokenizer: OrderedJSON = split.map { pattern in
            .object([JSONMember("type", .string("Sequence")), JSONMember("pretokenizers", .array([
                .object([JSONMember("type", .string("Split")), JSONMember("pattern", .object([JSONMember("Regex", .string(pattern))])),
                         JSONMember("behavior", .string("Isolated")), JSONMember("invert", .bool(false))]),
                byteLevel(useRegex: false, addPrefixSpace: false),
            ]))])
        } ?? byteLevel(useRegex: true, addPrefixSpace: false)
        let bos = reader["tokenizer.ggml.bos_token_id"]?.intValue.flatMap { tokens.indices.contains($0) ? tokens[$0] : nil }
        let addsBOS = reader["tokenizer.ggml.add_bos_token"]?.boolValue ?? false
        let prefix: [OrderedJSON] = addsBOS && bos != nil ? [.object([JSONMember("SpecialToken", .object([JSONMember("id", .string(bos!)), JSONMember("type_id", .int(0))]))])] : []
        let sequence: OrderedJSON = .object([JSONMember("Sequence", .object([JSONMember("id", .string("A")), JSONMember("type_id", .int(0))]))])
        var specialMap: [JSONMember] = []
        if addsBOS, let bos, let id = tokens.firstIndex(of: bos) {
            specialMap.append(JSONMember(bos, .object([JSONMember("id", .string(bos)), JSONMember("ids", .array([.int(id)])),
                                                      JSONMember("tokens", .array([.string(bos)]))])))
        }
        let postProcessor: OrderedJSON = .object([
            JSONMember("type", .string("TemplateProcessing")), JSONMember("single", .array(prefix + [sequence])),
            JSONMember("pair", .array(prefix + [sequence] + [.object([JSONMember("Sequence", .object([JSONMember("id", .string("B")), JSONMember("type_id", .int(1))]))])])),
            JSONMember("special_tokens", .object(specialMap)),
        ])
        let tokenizer: OrderedJSON = .object([
            JSONMember("version", .string("1.0")), JSONMember("truncation", .null), JSONMember("padding", .null),
            JSONMember("added_tokens", .array(added)), JSONMember("normalizer", .null),
            JSONMember("pre_tokenizer", preTokenizer), JSONMember("post_processor", postProcessor),
            JSONMember("decoder", byteLevel(useRegex: true, addPrefixSpace: true)),
            JSONMember("model", .object([
                JSONMember("type", .string("BPE")), JSONMember("dropout", .null), JSONMember("unk_token", .null),
                JSONMember("continuing_subword_prefix", .string("")), JSONMember("end_of_word_suffix", .string("")),
                JSONMember("fuse_unk", .bool(false)), JSONMember("byte_fallback", .bool(false)), JSONMember("ignore_merges", .bool(false)),
                JSONMember("vocab", .object(vocabulary)),
                JSONMember("merges", .array(merges.map { merge in
                    let pair = merge.split(separator: " ", maxSplits: 1).map(String.init)
                    return .array(pair.map { .string($0) })
                })),
            ])),
        ])
        var config: [JSONMember] = [JSONMember("tokenizer_class", .string("PreTrainedTokenizerFast"))]
        for (name, key) in [("bos_token", "bos_token_id"), ("eos_token", "eos_token_id"), ("unk_token", "unknown_token_id"), ("pad_token", "padding_token_id")] {
            if let id = reader["tokenizer.ggml.\(key)"]?.intValue, tokens.indices.contains(id) { config.append(JSONMember(name, .string(tokens[id]))) }
        }
        config.append(JSONMember("add_bos_token", .bool(addsBOS)))
        return (tokenizer, .object(config))
    }
}
