// TokenDecoder — tokenizer.json's `decoder`: turns the token strings of ids back into text, one
// Hugging Face decoder after another (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace,
// Sequence), each mapping a list of token strings to a new list.
import Foundation

indirect enum TokenDecoder: Sendable, Equatable {
    case byteLevel
    case replace(pattern: String, content: String)
    case byteFallback
    case fuse
    case strip(content: Character, start: Int, stop: Int)
    case metaspace(replacement: Character, prependFirst: Bool)
    case sequence([TokenDecoder])

    func decode(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            // A token made only of alphabet characters stands for bytes; any other token (an added
            // token with a space, say) is copied as UTF-8. Invalid UTF-8 becomes U+FFFD.
            var bytes: [UInt8] = []
            for token in tokens {
                if let raw = ByteLevelAlphabet.bytes(of: token) {
                    bytes.append(contentsOf: raw)
                } else {
                    bytes.append(contentsOf: token.utf8)
                }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .replace(let pattern, let content):
            let patternBytes = Array(pattern.utf8), contentBytes = Array(content.utf8)
            return tokens.map { String(decoding: Normalizer.replacing(patternBytes, with: contentBytes, in: Array($0.utf8)), as: UTF8.self) }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let text = String(strictUTF8: pending) {
                    out.append(text)
                } else {
                    out.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
                }
                pending.removeAll()
            }
            for token in tokens {
                if let byte = TokenDecoder.fallbackByte(token) {
                    pending.append(byte)
                } else {
                    flush()
                    out.append(token)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let characters = Array(token.unicodeScalars)
                var lower = 0
                while lower < min(start, characters.count) && Character(characters[lower]) == content { lower += 1 }
                var upper = characters.count
                var removed = 0
                while removed < stop && upper > lower && Character(characters[upper - 1]) == content {
                    upper -= 1
                    removed += 1
                }
                var view = String.UnicodeScalarView()
                view.append(contentsOf: characters[lower..<upper])
                return String(view)
            }
        case .metaspace(let replacement, let prependFirst):
            return tokens.enumerated().map { index, token in
                var view = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if Character(scalar) == replacement {
                        if index == 0 && prependFirst { continue }
                        view.append(" ")
                    } else {
                        view.append(scalar)
                    }
                }
                return String(view)
            }
        case .sequence(let steps):
            return steps.reduce(tokens) { $1.decode($0) }
        }
    }

    /// The byte a `<0xXX>` token stands for.
    static func fallbackByte(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8.starts(with: Array("<0x".utf8)), utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }

    /// Parses a tokenizer.json `decoder`.
    static func parse(_ field: JSONField) throws -> TokenDecoder {
        let type = try field.typeTag()
        switch type {
        case "ByteLevel": return .byteLevel
        case "Replace":
            let pattern = try field.required("pattern")
            guard let text = try pattern.string("String") else {
                throw pattern.failure("only {\"String\": …} patterns are supported in the Replace decoder")
            }
            return .replace(pattern: text, content: try field.required("content").string())
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Strip":
            let content = try field.required("content").string()
            guard content.count == 1, let character = content.first else {
                throw try field.member("content").failure("expected one character")
            }
            return .strip(content: character, start: try field.required("start").int(), stop: try field.required("stop").int())
        case "Metaspace":
            let replacement = try field.string("replacement") ?? "▁"
            guard replacement.count == 1, let character = replacement.first else {
                throw try field.member("replacement").failure("expected one character")
            }
            let scheme = try field.string("prepend_scheme") ?? ((try field.bool("add_prefix_space", default: true)) ? "always" : "never")
            return .metaspace(replacement: character, prependFirst: scheme != "never")
        case "Sequence":
            return .sequence(try field.required("decoders").items().map(parse))
        default:
            throw try field.member("type").failure(
                "\"\(type)\" is not supported (expected ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace or Sequence)")
        }
    }
}
