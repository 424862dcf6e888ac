// TokenizerLoader — opens whatever a user points at: a tokenizer.json, a SentencePiece .model, or
// a Hugging Face model directory holding one (its tokenizer_config.json then names the special
// tokens). Stage kinds and CLI verbs load tokenizers only through here.
import Foundation

public enum TokenizerLoader {
    /// The tokenizer at `url`: `tokenizer.json` → `HFTokenizer`, `.model` → `SentencePieceModel`,
    /// a directory → its tokenizer.json (preferred) or tokenizer.model.
    public static func load(_ url: URL) throws -> any Tokenizer {
        let resolved = try resolve(url)
        switch resolved.kind {
        case .json: return try loadJSON(resolved.file, directory: resolved.directory)
        case .sentencePiece: return try SentencePieceModel(contentsOf: resolved.file)
        }
    }

    /// The tokenizer at `url` as a tokenizer.json runtime: a SentencePiece BPE model is converted to
    /// the Llama-2 layout in memory. Hyperword learning and vocabulary extension start from this.
    public static func loadHF(_ url: URL) throws -> HFTokenizer {
        let resolved = try resolve(url)
        switch resolved.kind {
        case .json: return try loadJSON(resolved.file, directory: resolved.directory)
        case .sentencePiece:
            let model = try SentencePieceModel(contentsOf: resolved.file)
            return try HFTokenizer(document: try SentencePieceConversion.llama2TokenizerJSON(from: model), source: resolved.file.path)
        }
    }

    private enum Kind { case json, sentencePiece }

    private static func resolve(_ url: URL) throws -> (file: URL, kind: Kind, directory: URL?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerFileError(file: url.path, field: "", problem: "no such file or directory")
        }
        if isDirectory.boolValue {
            let json = url.appendingPathComponent("tokenizer.json")
            if FileManager.default.fileExists(atPath: json.path) { return (json, .json, url) }
            let model = url.appendingPathComponent("tokenizer.model")
            if FileManager.default.fileExists(atPath: model.path) { return (model, .sentencePiece, url) }
            throw TokenizerFileError(file: url.path, field: "", problem: "the directory holds neither tokenizer.json nor tokenizer.model")
        }
        switch url.pathExtension {
        case "json": return (url, .json, nil)
        case "model": return (url, .sentencePiece, nil)
        default:
            throw TokenizerFileError(
                file: url.path, field: "", problem: "not a tokenizer (expected a tokenizer.json, a SentencePiece .model, or a directory holding one)")
        }
    }

    private static func loadJSON(_ file: URL, directory: URL?) throws -> HFTokenizer {
        let tokenizer = try HFTokenizer(contentsOf: file)
        guard let directory else { return tokenizer }
        let config = directory.appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: config.path) else { return tokenizer }
        let special = try specialTokens(config: config, tokenizer: tokenizer)
        return try HFTokenizer(document: tokenizer.document, source: file.path, specialTokens: special)
    }

    /// `bos_token`, `eos_token`, `unk_token`, `pad_token` of a tokenizer_config.json (a string or
    /// an object with "content"); a name the vocabulary lacks is an error naming the field.
    static func specialTokens(config: URL, tokenizer: HFTokenizer) throws -> SpecialTokens {
        let root: JSONField
        do {
            root = JSONField(root: try OrderedJSON.parse(Data(contentsOf: config)), file: config.path)
        } catch let error as JSONSyntaxError {
            throw TokenizerFileError(file: config.path, field: "", problem: "invalid JSON at \(error)")
        }
        var special = tokenizer.specialTokens
        func id(_ key: String) throws -> Int?? {
            guard let field = try root.optional(key) else { return .none }
            let name: String
            if case .object = field.value { name = try field.required("content").string() } else { name = try field.string() }
            guard let id = tokenizer.id(for: name) else { throw field.failure("\"\(name)\" is not in the tokenizer's vocabulary") }
            return .some(id)
        }
        if let bos = try id("bos_token") { special.bos = bos }
        if let eos = try id("eos_token") { special.eos = eos }
        if let unk = try id("unk_token") { special.unk = unk }
        if let pad = try id("pad_token") { special.pad = pad }
        return special
    }
}
