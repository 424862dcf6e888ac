// GGUFTokenizerMetadata — a tokenizer.json runtime as llama.cpp's GGUF metadata (`tokenizer.ggml.*`):
// byte-level BPE (GPT-2, Llama-3, Qwen, SmolLM2 layouts) as model `gpt2` with its tokens, token types and
// merges; the SentencePiece-style BPE of the Llama-2 layout (byte fallback) as model `llama` with tokens,
// token types and scores (−rank of the merge that makes each piece, so merges apply in rank order); the
// special ids and whether BOS/EOS are added (the post-processor's prefix and suffix, as `encode` follows).
import LoomCore

extension HFTokenizer {
    /// `rows`: the model's embedding rows. llama.cpp takes the token list's length as the vocabulary size
    /// and refuses an embedding of another height, so ids past the tokenizer's (a model padded to a round
    /// vocabulary, as Qwen2 and Phi-3 are) are listed as unused `[PAD<id>]` tokens, as its converter does.
    public func ggufMetadata(rows: Int? = nil) throws -> [(String, GGUFValue)] {
        let byteLevel = model.units == .bytes
        if !byteLevel && !model.byteFallback {
            throw TokenizerFileError(file: "tokenizer.json", field: "model",
                                     problem: "GGUF export handles byte-level BPE and byte-fallback BPE (Llama-2 layout); this is neither")
        }
        let added = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        var tokens: [String] = [], types: [Int32] = []
        for id in 0..<max(vocabularySize, rows ?? 0) {
            if let token = added[id] {
                tokens.append(token.content)
                types.append(token.special ? 3 : 4)  // control, user-defined
            } else if let piece = model.pieces.indices.contains(id) ? model.pieces[id] : nil {
                tokens.append(piece)
                let isByte = !byteLevel && piece.count == 6 && piece.hasPrefix("<0x") && piece.hasSuffix(">")
                types.append(isByte ? 6 : (model.unkId.map(Int.init) == id ? 2 : 1))  // byte, unknown, normal
            } else {
                tokens.append("[PAD\(id)]")  // an id no entry has (llama.cpp's convention)
                types.append(5)  // unused
            }
        }
        var metadata: [(String, GGUFValue)] = [("tokenizer.ggml.model", .string(byteLevel ? "gpt2" : "llama"))]
        metadata.append(("tokenizer.ggml.pre", .string(byteLevel ? preTokenizerName : "default")))
        metadata.append(("tokenizer.ggml.tokens", .strings(tokens)))
        metadata.append(("tokenizer.ggml.token_type", .int32s(types)))
        let merges = model.mergeList.map { "\(tokens[Int($0.left)]) \(tokens[Int($0.right)])" }
        if byteLevel {
            metadata.append(("tokenizer.ggml.merges", .strings(merges)))
        } else {
            // SentencePiece merges the pair whose result scores highest: earlier merges score higher.
            var scores = [Float](repeating: -1e9, count: tokens.count)
            for (rank, merge) in model.mergeList.enumerated() where Int(merge.merged) < scores.count {
                scores[Int(merge.merged)] = max(scores[Int(merge.merged)], -Float(rank))
            }
            for (id, type) in types.enumerated() where type != 1 { scores[id] = 0 }
            metadata.append(("tokenizer.ggml.scores", .float32s(scores)))
        }
        let special = specialTokens
        if let bos = special.bos { metadata.append(("tokenizer.ggml.bos_token_id", .uint32(UInt32(bos)))) }
        if let eos = special.eos { metadata.append(("tokenizer.ggml.eos_token_id", .uint32(UInt32(eos)))) }
        if let unk = special.unk { metadata.append(("tokenizer.ggml.unknown_token_id", .uint32(UInt32(unk)))) }
        if let pad = special.pad { metadata.append(("tokenizer.ggml.padding_token_id", .uint32(UInt32(pad)))) }
        metadata.append(("tokenizer.ggml.add_bos_token", .bool(!special.prefix.isEmpty)))
        metadata.append(("tokenizer.ggml.add_eos_token", .bool(!special.suffix.isEmpty)))
        return metadata
    }

    /// llama.cpp's name for the pre-tokenizer's split pattern — llama.cpp splits by a pattern built into it
    /// for each name, never by the file's: `llama-bpe` for Llama-3's, `qwen2` for Qwen2's, `gpt-2` for GPT-2's
    /// (a Split with its regex, or ByteLevel's own). A hyperword-extended pattern has no llama.cpp name, so the
    /// file names its base pattern: llama.cpp cuts text into the base tokenizer's pre-tokens and applies every
    /// merge inside them — one-word hyperwords form, several-word ones do not; every id is one the extended
    /// model knows. `default` only where there is no split at all
    /// (llama.cpp's `default` is a pattern of its own, not GPT-2's: it splits punctuation and digit triples apart).
    var preTokenizerName: String {
        for step in preTokenizer.steps {
            let scanner: SplitScanner
            switch step {
            case .split(let split): scanner = split
            case .byteLevel(_, let split?): scanner = split
            default: continue
            }
            let base = SplitScanner(style: scanner.style)  // without the joined words of an extended pattern
            if base.style == .gpt2 { return "gpt-2" }
            return SplitScanner.llamaCppPreTokenizers.first { $0.pattern == base.pattern }?.names[0] ?? "default"
        }
        return "default"
    }
}
