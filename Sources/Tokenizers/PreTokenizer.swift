// PreTokenizer — splits normalized text into the pieces the BPE model encodes one by one:
// `Split` with a known regex (SplitScanner), `ByteLevel` (last; its byte → character mapping is
// folded into the model, which then works on raw bytes), `Metaspace`, and `Sequence` of those.
import Foundation

struct PreTokenizer: Sendable, Equatable {
    enum Step: Sendable, Equatable {
        case split(SplitScanner)
        /// GPT-2's byte-level step: optional leading space, optional GPT-2 split.
        case byteLevel(addPrefixSpace: Bool, split: SplitScanner?)
        case metaspace(replacement: [UInt8], prepend: PrependScheme, split: Bool)
    }

    enum PrependScheme: String, Sendable, Equatable {
        case always, first, never
    }

    let steps: [Step]

    /// The model sees raw bytes (a ByteLevel step ends the chain).
    var isByteLevel: Bool {
        if case .byteLevel = steps.last { return true }
        return false
    }

    /// A single split scanner and nothing that rewrites text: pieces are ranges of the input.
    private var directScanner: SplitScanner? {
        switch steps.count {
        case 1:
            if case .split(let scanner) = steps[0] { return scanner }
            if case .byteLevel(false, let scanner?) = steps[0] { return scanner }
        case 2:
            if case .split(let scanner) = steps[0], case .byteLevel(false, nil) = steps[1] { return scanner }
        default: break
        }
        return nil
    }

    /// Whether no step changes or splits the text.
    private var isIdentity: Bool {
        steps.allSatisfy { if case .byteLevel(false, nil) = $0 { return true } else { return false } }
    }

    /// Calls `body` with every piece of `segment`. `atStart`: the segment begins the original text
    /// (Metaspace's `first` scheme prepends only there).
    func forEachPiece(_ segment: UnsafeBufferPointer<UInt8>, atStart: Bool, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if segment.isEmpty { return }
        if isIdentity {
            body(segment)
            return
        }
        if let scanner = directScanner {
            scanner.forEachPiece(segment, 0..<segment.count) { start, end in
                body(UnsafeBufferPointer(rebasing: segment[start..<end]))
            }
            return
        }
        var pieces: [[UInt8]] = [Array(segment)]
        for step in steps {
            pieces = apply(step, to: pieces, atStart: atStart)
        }
        for piece in pieces where !piece.isEmpty {
            piece.withUnsafeBufferPointer(body)
        }
    }

    private func apply(_ step: Step, to pieces: [[UInt8]], atStart: Bool) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for (index, piece) in pieces.enumerated() {
            switch step {
            case .split(let scanner):
                piece.withUnsafeBufferPointer { buffer in
                    scanner.forEachPiece(buffer, 0..<buffer.count) { out.append(Array(buffer[$0..<$1])) }
                }
            case .byteLevel(let addPrefixSpace, let scanner):
                var text = piece
                if addPrefixSpace && text.first != UInt8(ascii: " ") { text.insert(UInt8(ascii: " "), at: 0) }
                guard let scanner else {
                    out.append(text)
                    continue
                }
                text.withUnsafeBufferPointer { buffer in
                    scanner.forEachPiece(buffer, 0..<buffer.count) { out.append(Array(buffer[$0..<$1])) }
                }
            case .metaspace(let replacement, let prepend, let split):
                var text = Normalizer.replacing([UInt8(ascii: " ")], with: replacement, in: piece)
                let starts = text.starts(with: replacement)
                if !starts && (prepend == .always || (prepend == .first && atStart && index == 0)) {
                    text = replacement + text
                }
                guard split else {
                    out.append(text)
                    continue
                }
                // Each replacement character begins a new piece (Hugging Face's MergedWithNext).
                var pieceStart = 0
                var position = 0
                while position < text.count {
                    if position > pieceStart && text[position...].starts(with: replacement) {
                        out.append(Array(text[pieceStart..<position]))
                        pieceStart = position
                    }
                    position += 1
                }
                if pieceStart < text.count { out.append(Array(text[pieceStart...])) }
            }
        }
        return out
    }

    /// Parses a tokenizer.json `pre_tokenizer` (null means none).
    static func parse(_ field: JSONField?) throws -> PreTokenizer {
        guard let field else { return PreTokenizer(steps: []) }
        let steps = try parseSteps(field)
        for (index, step) in steps.enumerated() where index < steps.count - 1 {
            if case .byteLevel = step {
                throw field.failure("ByteLevel must be the last pre-tokenizer (it turns bytes into characters)")
            }
        }
        return PreTokenizer(steps: steps)
    }

    private static func parseSteps(_ field: JSONField) throws -> [Step] {
        let type = try field.typeTag()
        switch type {
        case "Sequence":
            return try field.required("pretokenizers").items().flatMap(parseSteps)
        case "Split":
            let pattern = try field.required("pattern")
            guard let regex = try pattern.string("Regex") else {
                throw pattern.failure("only {\"Regex\": …} patterns are supported in Split")
            }
            guard let scanner = SplitScanner(pattern: regex) else {
                throw try pattern.member("Regex").failure(
                    "this split pattern is not supported (Loom implements the GPT-2, Llama-3 and Qwen2 patterns and their hyperword variants)"
                )
            }
            let behavior = try field.string("behavior") ?? "Isolated"
            guard behavior == "Isolated" else {
                throw try field.member("behavior").failure("\"\(behavior)\" is not supported (expected Isolated)")
            }
            guard try !field.bool("invert", default: false) else {
                throw try field.member("invert").failure("inverted splits are not supported")
            }
            return [.split(scanner)]
        case "ByteLevel":
            let useRegex = try field.bool("use_regex", default: true)
            return [
                .byteLevel(
                    addPrefixSpace: try field.bool("add_prefix_space", default: true),
                    split: useRegex ? SplitScanner(style: .gpt2) : nil)
            ]
        case "Metaspace":
            let replacement = try field.string("replacement") ?? "▁"
            let schemeText = try field.string("prepend_scheme") ?? ((try field.bool("add_prefix_space", default: true)) ? "always" : "never")
            guard let scheme = PrependScheme(rawValue: schemeText) else {
                throw try field.member("prepend_scheme").failure("\"\(schemeText)\" is not a prepend scheme (expected always, first or never)")
            }
            return [.metaspace(replacement: Array(replacement.utf8), prepend: scheme, split: try field.bool("split", default: true))]
        default:
            throw try field.member("type").failure(
                "\"\(type)\" is not supported (expected Split, ByteLevel, Metaspace or Sequence)")
        }
    }
}
