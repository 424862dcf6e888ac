// SentencePieceConversion — a SentencePiece BPE `.model` as a Hugging Face `tokenizer.json` in the
// layout of meta-llama/Llama-2-7b-hf (transformers' LlamaConverter, legacy): normalizer
// Prepend("▁") + Replace(" " → "▁"), no pre-tokenizer, BPE with byte fallback and fused unk,
// decoder Replace/ByteFallback/Fuse/Strip. The merges are recovered from the vocabulary the way
// transformers' `generate_merges` does: every split of every piece into two pieces of the
// vocabulary, ordered by the merged piece's id, then by the left half's length.
//
// This layout encodes exactly as SentencePiece itself only for identity-normalized BPE models that
// keep whitespace as written (`remove_extra_whitespaces=false`), which is what Loom's trainer
// presets produce; other models are refused with the setting that stands in the way.
import Foundation
import LoomCore

public enum SentencePieceConversion {
    /// The tokenizer.json document for `model`.
    public static func llama2TokenizerJSON(from model: SentencePieceModel) throws -> OrderedJSON {
        func refuse(_ problem: String) -> TokenizerFileError {
            TokenizerFileError(file: model.url.path, field: "", problem: problem + " (the Llama-2 tokenizer.json layout would not encode as SentencePiece does)")
        }
        let modelType = try model.option("model_type")
        guard modelType == "bpe" else { throw refuse("model type \(modelType): only BPE models convert") }
        let normalization = try model.option("normalizer_name")
        guard normalization == "identity" else {
            throw refuse("normalization \"\(normalization)\": only models trained with normalization_rule_name=identity convert")
        }
        guard try model.option("remove_extra_whitespaces") == "false" else {
            throw refuse("remove_extra_whitespaces=true: train with remove_extra_whitespaces=false")
        }
        guard try model.option("treat_whitespace_as_suffix") == "false" else { throw refuse("treat_whitespace_as_suffix=true") }
        guard try model.option("escape_whitespaces") == "true" else { throw refuse("escape_whitespaces=false") }
        let dummyPrefix = try model.option("add_dummy_prefix") == "true"
        let byteFallback = try model.option("byte_fallback") == "true"

        let entries = model.entries
        guard let unkId = model.specialTokens.unk, entries.indices.contains(unkId) else {
            throw refuse("the model has no unknown piece")
        }

        var vocab: [JSONMember] = []
        vocab.reserveCapacity(entries.count)
        for entry in entries { vocab.append(JSONMember(entry.piece, .int(vocab.count))) }

        var added: [OrderedJSON] = []
        for (id, entry) in entries.enumerated() {
            switch entry.type {
            case .unknown, .control: added.append(addedToken(id: id, content: entry.piece, special: true))
            case .userDefined: added.append(addedToken(id: id, content: entry.piece, special: false))
            default: continue
            }
        }

        let merges = generateMerges(entries).map { OrderedJSON.array([.string($0.left), .string($0.right)]) }

        var normalizers: [OrderedJSON] = []
        if dummyPrefix { normalizers.append(.object([JSONMember("type", .string("Prepend")), JSONMember("prepend", .string("▁"))])) }
        normalizers.append(replace(" ", with: "▁"))
        var decoders: [OrderedJSON] = [
            replace("▁", with: " "), .object([JSONMember("type", .string("ByteFallback"))]), .object([JSONMember("type", .string("Fuse"))]),
        ]
        if dummyPrefix {
            decoders.append(
                .object([
                    JSONMember("type", .string("Strip")), JSONMember("content", .string(" ")), JSONMember("start", .int(1)),
                    JSONMember("stop", .int(0)),
                ]))
        }

        return .object([
            JSONMember("version", .string("1.0")),
            JSONMember("truncation", .null),
            JSONMember("padding", .null),
            JSONMember("added_tokens", .array(added)),
            JSONMember("normalizer", .object([JSONMember("type", .string("Sequence")), JSONMember("normalizers", .array(normalizers))])),
            JSONMember("pre_tokenizer", .null),
            JSONMember("post_processor", model.specialTokens.bos.map { bosTemplate(piece: entries[$0].piece, id: $0) } ?? .null),
            JSONMember("decoder", .object([JSONMember("type", .string("Sequence")), JSONMember("decoders", .array(decoders))])),
            JSONMember(
                "model",
                .object([
                    JSONMember("type", .string("BPE")),
                    JSONMember("dropout", .null),
                    JSONMember("unk_token", .string(entries[unkId].piece)),
                    JSONMember("continuing_subword_prefix", .null),
                    JSONMember("end_of_word_suffix", .null),
                    JSONMember("fuse_unk", .bool(true)),
                    JSONMember("byte_fallback", .bool(byteFallback)),
                    JSONMember("ignore_merges", .bool(false)),
                    JSONMember("vocab", .object(vocab)),
                    JSONMember("merges", .array(merges)),
                ])),
        ])
    }

    /// Writes the converted tokenizer.json (atomically) and returns its runtime.
    @discardableResult
    public static func convert(_ model: SentencePieceModel, to url: URL) throws -> HFTokenizer {
        let document = try llama2TokenizerJSON(from: model)
        let tokenizer = try HFTokenizer(document: document, source: url.path)
        try AtomicFile.write(document.serialized(), to: url)
        return tokenizer
    }

    /// transformers' `generate_merges(vocab)` over the pieces that are neither control, unknown nor
    /// byte pieces: for each piece in id order, each split into two vocabulary pieces, shorter left
    /// halves first.
    static func generateMerges(_ entries: [SentencePieceEntry]) -> [(left: String, right: String)] {
        var ids: [[UInt8]: Int] = [:]
        for (id, entry) in entries.enumerated() {
            switch entry.type {
            case .control, .unknown, .byte: continue
            default: if ids[Array(entry.piece.utf8)] == nil { ids[Array(entry.piece.utf8)] = id }
            }
        }
        var merges: [(left: String, right: String)] = []
        for (id, entry) in entries.enumerated() {
            let bytes = Array(entry.piece.utf8)
            guard ids[bytes] == id else { continue }
            var boundary = 0
            for scalar in entry.piece.unicodeScalars.dropLast() {
                boundary += UTF8.width(scalar)
                let left = Array(bytes[..<boundary]), right = Array(bytes[boundary...])
                if ids[left] != nil && ids[right] != nil {
                    merges.append((String(decoding: left, as: UTF8.self), String(decoding: right, as: UTF8.self)))
                }
            }
        }
        return merges
    }

    private static func addedToken(id: Int, content: String, special: Bool) -> OrderedJSON {
        .object([
            JSONMember("id", .int(id)), JSONMember("content", .string(content)), JSONMember("single_word", .bool(false)),
            JSONMember("lstrip", .bool(false)), JSONMember("rstrip", .bool(false)), JSONMember("normalized", .bool(false)),
            JSONMember("special", .bool(special)),
        ])
    }

    private static func replace(_ pattern: String, with content: String) -> OrderedJSON {
        .object([
            JSONMember("type", .string("Replace")), JSONMember("pattern", .object([JSONMember("String", .string(pattern))])),
            JSONMember("content", .string(content)),
        ])
    }

    private static func bosTemplate(piece: String, id: Int) -> OrderedJSON {
        func special(_ typeId: Int) -> OrderedJSON {
            .object([JSONMember("SpecialToken", .object([JSONMember("id", .string(piece)), JSONMember("type_id", .int(typeId))]))])
        }
        func sequence(_ name: String, _ typeId: Int) -> OrderedJSON {
            .object([JSONMember("Sequence", .object([JSONMember("id", .string(name)), JSONMember("type_id", .int(typeId))]))])
        }
        return .object([
            JSONMember("type", .string("TemplateProcessing")),
            JSONMember("single", .array([special(0), sequence("A", 0)])),
            JSONMember("pair", .array([special(0), sequence("A", 0), special(1), sequence("B", 1)])),
            JSONMember(
                "special_tokens",
                .object([
                    JSONMember(
                        piece,
                        .object([
                            JSONMember("id", .string(piece)), JSONMember("ids", .array([.int(id)])),
                            JSONMember("tokens", .array([.string(piece)])),
                        ]))
                ])),
        ])
    }
}
