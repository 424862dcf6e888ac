// SplitScanner — the pre-tokenizer split regexes of GPT-2, Llama-3 and Qwen2, hand-written as
// scanners over Unicode scalars (a general regex engine is ~10× slower here), plus the "chunk"
// variants Loom writes into tokenizers extended with hyperwords: the letter alternative may go on
// over single spaces into further words (`(?: \p{L}+)*`), so that one pre-token can hold a phrase.
//
// Each scanner returns the end of the match that starts at a position; the patterns match
// every character, so matches tile the text (Hugging Face's `Isolated` split leaves no gaps).

/// One of the split patterns Loom implements, by its exact regex text.
struct SplitScanner: Sendable, Equatable {
    enum Style: Sendable, Equatable {
        /// `(?i:'s|…)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,digits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
        case llama3(digits: Int)
        /// `'s|…| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
        case gpt2
    }

    let style: Style
    /// When set, a letter run goes on over this one separator into the next letter run.
    let joinSeparator: [UInt8]?
    /// A character read as a space (U+0020) wherever the pattern looks for one: "▁" in text a
    /// Llama-2 normalizer has already rewritten. Never set for patterns that run on real text.
    let spaceAlias: [UInt8]?
    private let table: ClassTable

    static func == (left: SplitScanner, right: SplitScanner) -> Bool {
        left.style == right.style && left.joinSeparator == right.joinSeparator && left.spaceAlias == right.spaceAlias
    }

    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    /// llama.cpp's `tokenizer.ggml.pre` names for the Llama-3 and Qwen2 patterns (GGUF files): the first name
    /// of each is the one Loom writes; every name is read. Any other name is read as GPT-2's split (as
    /// transformers' GGUF loader reads it); Loom writes GPT-2's as `gpt-2`.
    static let llamaCppPreTokenizers: [(names: [String], pattern: String)] = [
        (["llama-bpe", "llama3", "llama-v3", "smaug-bpe", "dbrx"], llama3Pattern),
        (["qwen2", "deepseek-r1-qwen"], qwen2Pattern),
    ]
    /// What the chunk variants add after the letter alternative.
    static let joinedWords = #"(?: \p{L}+)*"#

    /// The pattern text this scanner implements (what a tokenizer.json holds).
    var pattern: String {
        let join = joinSeparator == nil ? "" : SplitScanner.joinedWords
        switch style {
        case .llama3(let digits):
            let numbers = digits == 1 ? #"\p{N}"# : #"\p{N}{1,\#(digits)}"#
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+"# + join + "|" + numbers
                + #"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .gpt2:
            return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+"# + join + #"| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        }
    }

    /// The scanner for a tokenizer.json regex, or nil if Loom does not implement it.
    init?(pattern: String) {
        for style in [Style.llama3(digits: 3), .llama3(digits: 1), .gpt2] {
            for join in [nil, [UInt8(ascii: " ")]] as [[UInt8]?] {
                let candidate = SplitScanner(style: style, joinSeparator: join, spaceAlias: nil)
                if candidate.pattern == pattern {
                    self = candidate
                    return
                }
            }
        }
        return nil
    }

    init(style: Style, joinSeparator: [UInt8]? = nil, spaceAlias: [UInt8]? = nil) {
        self.style = style
        self.joinSeparator = joinSeparator
        self.spaceAlias = spaceAlias
        table = UnicodeClasses.shared
    }

    /// The same pattern with words joined over single spaces (what exported files hold).
    func joiningWords() -> SplitScanner {
        SplitScanner(style: style, joinSeparator: spaceAlias ?? [UInt8(ascii: " ")], spaceAlias: spaceAlias)
    }

    /// The same pattern on text whose spaces were rewritten as `marker` ("▁").
    func readingSpaces(as marker: String) -> SplitScanner {
        SplitScanner(style: style, joinSeparator: joinSeparator.map { _ in Array(marker.utf8) }, spaceAlias: Array(marker.utf8))
    }

    /// Calls `body` with the start and end of every piece of `bytes[range]`, in order.
    @inline(__always)
    func forEachPiece(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (Int, Int) -> Void) {
        var position = range.lowerBound
        while position < range.upperBound {
            let end = matchEnd(bytes, position, range.upperBound)
            body(position, end)
            position = end
        }
    }

    /// End of the match starting at `start` (always > start).
    func matchEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        switch style {
        case .llama3(let digits): return llama3End(bytes, start, end, digits: digits)
        case .gpt2: return gpt2End(bytes, start, end)
        }
    }

    // MARK: character tests

    @inline(__always)
    private func classAt(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> (bits: UInt8, length: Int) {
        let lead = bytes[index]
        if lead < 0x80 { return (table.bmp.withUnsafeBufferPointer { $0[Int(lead)] }, 1) }
        if let alias = spaceAlias, lead == alias[0], isAlias(bytes, index, alias) { return (UnicodeClasses.space, alias.count) }
        let (value, length) = decodeScalar(bytes, index)
        return (table.classes(of: value), length)
    }

    @inline(__always)
    private func isAlias(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int, _ alias: [UInt8]) -> Bool {
        guard index + alias.count <= bytes.count else { return false }
        for (offset, byte) in alias.enumerated() where bytes[index + offset] != byte { return false }
        return true
    }

    /// Length of a literal space (or its alias) at `index`, else 0.
    @inline(__always)
    private func spaceLength(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Int {
        if bytes[index] == UInt8(ascii: " ") { return 1 }
        if let alias = spaceAlias, isAlias(bytes, index, alias) { return alias.count }
        return 0
    }

    @inline(__always)
    private static func isOther(_ bits: UInt8) -> Bool {
        bits & (UnicodeClasses.letter | UnicodeClasses.number | UnicodeClasses.space) == 0
    }

    @inline(__always)
    private func isNewline(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x0D }

    /// End of the letter run starting at `index`, then (for chunk scanners) of further
    /// `separator letters` runs.
    @inline(__always)
    private func lettersEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int, _ end: Int) -> Int {
        var position = index
        while true {
            while position < end {
                let (bits, length) = classAt(bytes, position)
                if bits & UnicodeClasses.letter == 0 { break }
                position += length
            }
            guard let separator = joinSeparator, position + separator.count < end else { return position }
            for (offset, byte) in separator.enumerated() where bytes[position + offset] != byte { return position }
            let next = position + separator.count
            guard classAt(bytes, next).bits & UnicodeClasses.letter != 0 else { return position }
            position = next
        }
    }

    /// The contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at `index` (an apostrophe), if any.
    private func contractionEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int, _ end: Int, caseInsensitive: Bool) -> Int? {
        let first = index + 1
        guard first < end else { return nil }
        func folded(_ position: Int) -> (UInt32, Int)? {
            guard position < end else { return nil }
            let (value, length) = decodeScalar(bytes, position)
            guard caseInsensitive else { return (value, length) }
            if value == 0x17F { return (UInt32(UInt8(ascii: "s")), length) }  // ſ folds to s
            if value >= 0x41 && value <= 0x5A { return (value + 0x20, length) }
            return (value, length)
        }
        guard let (letter, length) = folded(first) else { return nil }
        switch letter {
        case UInt32(UInt8(ascii: "s")), UInt32(UInt8(ascii: "t")), UInt32(UInt8(ascii: "m")), UInt32(UInt8(ascii: "d")):
            return first + length
        case UInt32(UInt8(ascii: "r")), UInt32(UInt8(ascii: "v")):
            if let (second, secondLength) = folded(first + length), second == UInt32(UInt8(ascii: "e")) {
                return first + length + secondLength
            }
        case UInt32(UInt8(ascii: "l")):
            if let (second, secondLength) = folded(first + length), second == UInt32(UInt8(ascii: "l")) {
                return first + length + secondLength
            }
        default: break
        }
        return nil
    }

    /// `\s*[\r\n]+` / `\s+(?!\S)` / `\s+` on the whitespace run at `index`.
    private func whitespaceEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int, _ end: Int, newlineRule: Bool) -> Int {
        var position = index
        var lastNewlineEnd = -1
        var lastScalarStart = index
        var scalars = 0
        while position < end {
            let (bits, length) = classAt(bytes, position)
            if bits & UnicodeClasses.space == 0 { break }
            if isNewline(bytes[position]) { lastNewlineEnd = position + length }
            lastScalarStart = position
            scalars += 1
            position += length
        }
        if newlineRule && lastNewlineEnd > 0 { return lastNewlineEnd }
        if position == end || scalars == 1 { return position }
        return lastScalarStart
    }

    // MARK: patterns

    private func llama3End(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, digits: Int) -> Int {
        let first = bytes[start]
        if first == UInt8(ascii: "'"), let contraction = contractionEnd(bytes, start, end, caseInsensitive: true) {
            return contraction
        }
        let (bits, length) = classAt(bytes, start)
        if bits & UnicodeClasses.letter != 0 { return lettersEnd(bytes, start, end) }
        let next = start + length
        if bits & UnicodeClasses.number == 0 && !isNewline(first) && next < end
            && classAt(bytes, next).bits & UnicodeClasses.letter != 0
        {
            return lettersEnd(bytes, next, end)
        }
        if bits & UnicodeClasses.number != 0 {
            var position = next
            var count = 1
            while count < digits && position < end {
                let (nextBits, nextLength) = classAt(bytes, position)
                if nextBits & UnicodeClasses.number == 0 { break }
                position += nextLength
                count += 1
            }
            return position
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var position = start
        if spaceLength(bytes, start) > 0 && next < end && SplitScanner.isOther(classAt(bytes, next).bits) { position = next }
        if SplitScanner.isOther(classAt(bytes, position).bits) {
            while position < end {
                let (otherBits, otherLength) = classAt(bytes, position)
                if !SplitScanner.isOther(otherBits) { break }
                position += otherLength
            }
            while position < end && isNewline(bytes[position]) { position += 1 }
            return position
        }
        return whitespaceEnd(bytes, start, end, newlineRule: true)
    }

    private func gpt2End(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        let first = bytes[start]
        if first == UInt8(ascii: "'"), let contraction = contractionEnd(bytes, start, end, caseInsensitive: false) {
            return contraction
        }
        var body = start
        let space = spaceLength(bytes, start)
        if space > 0 && start + space < end { body = start + space }
        let (bits, length) = classAt(bytes, body)
        if bits & UnicodeClasses.letter != 0 { return lettersEnd(bytes, body, end) }
        if bits & UnicodeClasses.number != 0 {
            var position = body + length
            while position < end {
                let (nextBits, nextLength) = classAt(bytes, position)
                if nextBits & UnicodeClasses.number == 0 { break }
                position += nextLength
            }
            return position
        }
        if SplitScanner.isOther(bits) {
            var position = body + length
            while position < end {
                let (nextBits, nextLength) = classAt(bytes, position)
                if !SplitScanner.isOther(nextBits) { break }
                position += nextLength
            }
            return position
        }
        return whitespaceEnd(bytes, start, end, newlineRule: false)
    }
}
