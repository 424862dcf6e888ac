// Normalizer — the tokenizer.json normalizers Loom runs: Unicode forms (NFC, NFD, NFKC, NFKD),
// Prepend and Replace (Llama-2's "▁" layout), and Sequence. They work on UTF-8 bytes.
import Foundation

indirect enum Normalizer: Sendable, Equatable {
    case nfc, nfd, nfkc, nfkd
    /// Prepends the text to every non-empty input.
    case prepend([UInt8])
    /// Replaces every occurrence of `pattern`, left to right, without overlaps.
    case replace(pattern: [UInt8], content: [UInt8])
    case sequence([Normalizer])

    func normalize(_ input: [UInt8]) -> [UInt8] {
        switch self {
        case .nfc, .nfd, .nfkc, .nfkd:
            if input.allSatisfy({ $0 < 0x80 }) { return input }
            let text = String(decoding: input, as: UTF8.self)
            let normalized: String
            switch self {
            case .nfc: normalized = text.precomposedStringWithCanonicalMapping
            case .nfd: normalized = text.decomposedStringWithCanonicalMapping
            case .nfkc: normalized = text.precomposedStringWithCompatibilityMapping
            default: normalized = text.decomposedStringWithCompatibilityMapping
            }
            return Array(normalized.utf8)
        case .prepend(let prefix):
            return input.isEmpty ? input : prefix + input
        case .replace(let pattern, let content):
            return Normalizer.replacing(pattern, with: content, in: input)
        case .sequence(let steps):
            return steps.reduce(input) { $1.normalize($0) }
        }
    }

    static func replacing(_ pattern: [UInt8], with content: [UInt8], in input: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty, input.count >= pattern.count else { return input }
        var out: [UInt8] = []
        out.reserveCapacity(input.count + input.count / 4)
        var index = 0
        let first = pattern[0]
        while index < input.count {
            if input[index] == first && index + pattern.count <= input.count
                && input[index..<index + pattern.count].elementsEqual(pattern)
            {
                out.append(contentsOf: content)
                index += pattern.count
            } else {
                out.append(input[index])
                index += 1
            }
        }
        return out
    }

    /// Parses a tokenizer.json `normalizer`.
    static func parse(_ field: JSONField) throws -> Normalizer {
        let type = try field.typeTag()
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Prepend": return .prepend(Array(try field.required("prepend").string().utf8))
        case "Replace":
            let pattern = try field.required("pattern")
            guard let text = try pattern.string("String") else {
                throw try pattern.member("Regex").failure("regex patterns are not supported in Replace (only {\"String\": …})")
            }
            return .replace(pattern: Array(text.utf8), content: Array(try field.required("content").string().utf8))
        case "Sequence":
            return .sequence(try field.required("normalizers").items().map(parse))
        default:
            throw try field.member("type").failure(
                "\"\(type)\" is not supported (expected NFC, NFD, NFKC, NFKD, Prepend, Replace or Sequence)")
        }
    }
}
