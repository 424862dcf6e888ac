import Foundation
import LoomCore
import Testing

private func read(_ literal: String) throws(JSONStringLiteral.SyntaxError) -> (String, end: Int) {
    var bytes = Array(literal.utf8)
    var position = 0
    let text = try bytes.withUnsafeMutableBufferPointer { buffer throws(JSONStringLiteral.SyntaxError) in
        try JSONStringLiteral.read(UnsafeBufferPointer(buffer), at: &position)
    }
    return (text, position)
}

@Test func writerEscapesWhatJSONRequiresAndFoundationReadsItBack() throws {
    let text = "quote \" backslash \\ newline \n tab \t bell \u{07} bs \u{08} ff \u{0C} Ёж 😀"
    let literal = JSONStringLiteral.literal(text)
    #expect(literal == #""quote \" backslash \\ newline \n tab \t bell \u0007 bs \b ff \f Ёж 😀""#)
    #expect(try JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed) as? String == text)
    #expect(try read(literal).0 == text)
}

@Test func readerDecodesEscapesAndSurrogatePairsAndStopsAfterTheQuote() throws {
    let (text, end) = try read(#""a\u0416\ud83d\ude00\/\"b" tail"#)
    #expect(text == "aЖ😀/\"b")
    #expect(end == 26)
}

@Test func readerErrorsNameTheOffendingByte() throws {
    #expect(throws: JSONStringLiteral.SyntaxError(offset: 0, reason: "string is not closed with '\"'")) { try read(#""open"#) }
    #expect(throws: JSONStringLiteral.SyntaxError(offset: 2, reason: "unpaired surrogate \\ud83d")) { try read(#""x\ud83d y""#) }
    #expect(throws: JSONStringLiteral.SyntaxError(offset: 1, reason: "unpaired surrogate \\udc00")) { try read(#""\udc00""#) }
    #expect(throws: JSONStringLiteral.SyntaxError(offset: 2, reason: "invalid escape \\q")) { try read(#""a\q""#) }
    #expect(throws: JSONStringLiteral.SyntaxError(offset: 3, reason: "expected four hex digits after \\u")) { try read(#""\u12""#) }
    #expect(throws: JSONStringLiteral.SyntaxError(offset: 2, reason: "control character in a string (must be escaped)")) {
        try read("\"a\tb\"")
    }
}

@Test func readerRefusesInvalidUTF8() throws {
    for (bytes, offset) in [
        ([0x22, 0x61, 0xFF, 0x22], 2),                    // a byte no UTF-8 sequence starts with
        ([0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22], 3),  // after an escape: an encoded surrogate
        ([0x22, 0xD0, 0x96, 0xE2, 0x82, 0x22], 3),        // a truncated 3-byte sequence after "Ж"
    ] as [([UInt8], Int)] {
        var copy = bytes
        var position = 0
        #expect(throws: JSONStringLiteral.SyntaxError(offset: offset, reason: "invalid UTF-8 in a string")) {
            _ = try copy.withUnsafeMutableBufferPointer { buffer in
                try JSONStringLiteral.read(UnsafeBufferPointer(buffer), at: &position)
            }
        }
    }
}
