// JSONLineTests — the JSON Lines reader and string writer: escapes round-trip, errors name the column,
// and files are read line by line across chunk boundaries.
import Foundation
import Testing
@testable import Corpus
import TestSupport

@Suite struct JSONLineTests {
    private func parse(_ text: String) throws -> [String: JSONValue] {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { try JSONLine.parseObject($0) }
    }

    @Test func valuesAndEscapes() throws {
        let object = try parse(#" {"text": "a\"b\\c\/d\n\t\u0416\ud83d\ude00", "n": -1.5e2, "ok": true, "none": null, "deep": {"x": [1, {"y": []}]}} "#)
        #expect(object["text"] == .string("a\"b\\c/d\n\tЖ😀"))
        #expect(object["n"] == .number(-150))
        #expect(object["ok"] == .bool(true))
        #expect(object["none"] == .null)
        #expect(object["deep"] == .nested)
    }

    @Test func errorsNameTheColumn() {
        #expect(throws: JSONLineError(column: 9, message: "expected ':' after key \"text\"")) { try parse(#"{"text" 1}"#) }
        #expect(throws: JSONLineError(column: 10, message: "string is not closed with '\"'")) { try parse(#"{"text": "open"#) }
        #expect(throws: JSONLineError(column: 1, message: "expected '{' (a JSON object per line)")) { try parse("[1, 2]") }
        #expect(throws: JSONLineError(column: 8, message: "unpaired surrogate \\ud83d")) { try parse(#"{"t": "\ud83d x"}"#) }
        #expect(throws: JSONLineError(column: 12, message: "unexpected text after the object")) { try parse(#"{"t": "x"} {}"#) }
        #expect(JSONLineError(column: 3, message: "expected a value").description == "column 3: expected a value")
    }

    @Test func lineReaderCrossesChunkBoundaries() throws {
        let scratch = try ScratchDirectory("jsonl-lines")
        let long = String(repeating: "ж", count: 700_000)  // 1.4 MB: longer than one read
        let lines = ["first", long, "", "after the long one", "last without newline"]
        try write(lines.joined(separator: "\n"), scratch.path("lines.txt"))
        var read: [String] = []
        try LineReader(path: scratch.path("lines.txt").path).forEachLine { read.append(String(decoding: $0, as: UTF8.self)) }
        #expect(read == lines)
    }
}
