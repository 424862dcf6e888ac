// AddedTokens — tokenizer.json's `added_tokens`, matched before the model as Hugging Face does:
// leftmost-longest over the text, tokens with `normalized: false` on the raw text first, then
// tokens with `normalized: true` (their own text normalized too) on each normalized remainder;
// `single_word` drops a match inside a word, `lstrip`/`rstrip` swallow neighbouring whitespace.
import Foundation

struct AddedToken: Sendable, Equatable {
    let id: Int
    let content: String
    let singleWord: Bool
    let lstrip: Bool
    let rstrip: Bool
    let normalized: Bool
    let special: Bool
}

/// Finds added tokens in text: a byte trie walked from every position where some token may start.
struct AddedTokenMatcher: Sendable {
    private struct Node: Sendable {
        var children: [UInt8: Int32] = [:]
        var token: Int32 = -1  // index into `tokens` of the token ending here
    }

    private var nodes: [Node] = [Node()]
    private var firstBytes = [Bool](repeating: false, count: 256)
    private let tokens: [AddedToken]

    var isEmpty: Bool { nodes.count == 1 }

    /// `patterns[i]` is the text that stands for `tokens[i]` (its content, normalized if the token is).
    init(tokens: [AddedToken], patterns: [[UInt8]]) {
        self.tokens = tokens
        for (index, pattern) in patterns.enumerated() where !pattern.isEmpty {
            var node = 0
            for byte in pattern {
                if let child = nodes[node].children[byte] {
                    node = Int(child)
                } else {
                    nodes.append(Node())
                    nodes[node].children[byte] = Int32(nodes.count - 1)
                    node = nodes.count - 1
                }
            }
            if nodes[node].token < 0 { nodes[node].token = Int32(index) }
            firstBytes[Int(pattern[0])] = true
        }
    }

    /// A piece of text: either plain text (`token == nil`) or one added token.
    struct Split {
        let range: Range<Int>
        let token: AddedToken?
    }

    /// Splits `text` into plain and added-token pieces covering all of it (an empty text gives
    /// one empty plain piece).
    func split(_ text: UnsafeBufferPointer<UInt8>) -> [Split] {
        if text.isEmpty || isEmpty { return [Split(range: 0..<text.count, token: nil)] }
        var splits: [Split] = []
        var plainStart = 0
        var position = 0
        while position < text.count {
            guard firstBytes[Int(text[position])], let (tokenIndex, matchEnd) = longestMatch(text, at: position) else {
                position += 1
                continue
            }
            let token = tokens[tokenIndex]
            var start = position
            var stop = matchEnd
            position = matchEnd
            if token.singleWord {
                let wordBefore = start > 0 && AddedTokenMatcher.endsWithWordCharacter(text, start)
                let wordAfter = stop < text.count && AddedTokenMatcher.startsWithWordCharacter(text, stop)
                if wordBefore || wordAfter { continue }
            }
            if token.lstrip { start = max(AddedTokenMatcher.whitespaceStart(text, before: start), plainStart) }
            if token.rstrip { stop = AddedTokenMatcher.whitespaceEnd(text, from: stop) }
            if plainStart < start { splits.append(Split(range: plainStart..<start, token: nil)) }
            splits.append(Split(range: start..<stop, token: token))
            plainStart = stop
            position = max(position, stop)
        }
        if plainStart < text.count { splits.append(Split(range: plainStart..<text.count, token: nil)) }
        return splits
    }

    private func longestMatch(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> (Int, Int)? {
        var node = 0
        var best: (Int, Int)? = nil
        var position = start
        while position < text.count, let child = nodes[node].children[text[position]] {
            node = Int(child)
            position += 1
            if nodes[node].token >= 0 { best = (Int(nodes[node].token), position) }
        }
        return best
    }

    // Rust regex's \w and \s, as Hugging Face tests them around single_word / lstrip / rstrip tokens.

    private static func endsWithWordCharacter(_ text: UnsafeBufferPointer<UInt8>, _ end: Int) -> Bool {
        var start = end - 1
        while start > 0 && text[start] & 0xC0 == 0x80 { start -= 1 }
        return UnicodeClasses.classes(of: decodeScalar(text, start).value) & UnicodeClasses.word != 0
    }

    private static func startsWithWordCharacter(_ text: UnsafeBufferPointer<UInt8>, _ start: Int) -> Bool {
        UnicodeClasses.classes(of: decodeScalar(text, start).value) & UnicodeClasses.word != 0
    }

    private static func whitespaceStart(_ text: UnsafeBufferPointer<UInt8>, before end: Int) -> Int {
        var position = end
        while position > 0 {
            var start = position - 1
            while start > 0 && text[start] & 0xC0 == 0x80 { start -= 1 }
            if UnicodeClasses.classes(of: decodeScalar(text, start).value) & UnicodeClasses.space == 0 { break }
            position = start
        }
        return position
    }

    private static func whitespaceEnd(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var position = start
        while position < text.count {
            let (value, length) = decodeScalar(text, position)
            if UnicodeClasses.classes(of: value) & UnicodeClasses.space == 0 { break }
            position += length
        }
        return position
    }
}
