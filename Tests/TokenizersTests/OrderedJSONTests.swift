// OrderedJSONTests — the JSON reader/writer tokenizer.json needs: escapes and surrogate pairs, keys
// kept in order and exactly as written (canonically equivalent keys stay distinct), syntax errors
// with line and column, and serialization that parses back to the same tree.
import Foundation
import Testing
@testable import Tokenizers

@Suite struct OrderedJSONTests {
    @Test func parsesEscapesAndKeepsKeysAsWritten() throws {
        let text = #"{"b": 1, "a": [true, false, null, -2.5e3, "\u00e9\ud83d\ude00\n\t\"\\/"], "é": 2, "e\u0301": 3, "b": 4}"#
        let value = try OrderedJSON.parse(Data(text.utf8))
        guard case .object(let members) = value else { Issue.record("expected an object"); return }
        #expect(members.map(\.key) == ["b", "a", "é", "e\u{0301}", "b"])
        #expect(members.map(\.key).map { Array($0.utf8) }[2] != members.map(\.key).map { Array($0.utf8) }[3])
        #expect(value["a"] == .array([.bool(true), .bool(false), .null, .double(-2500), .string("é😀\n\t\"\\/")]))
        #expect(value["b"] == .int(1))
        #expect(try OrderedJSON.parse(Data(value.serialized().utf8)) == value)
        #expect(try OrderedJSON.parse(Data(value.serialized(compact: true).utf8)) == value)
    }

    @Test func invalidUTF8IsAnError() {
        #expect { try OrderedJSON.parse(Data([0x22, 0x61, 0xFF, 0x22])) } throws: { "\($0)" == "line 1, column 3: invalid UTF-8 in a string" }
        #expect { try OrderedJSON.parse(Data([0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22])) } throws: { "\($0)" == "line 1, column 4: invalid UTF-8 in a string" }
    }

    @Test func syntaxErrorsCarryLineAndColumn() {
        for (text, message) in [
            ("[1, 2", "line 1, column 6: unexpected end of file in an array"),
            ("{\"a\" 1}", "line 1, column 6: expected ':'"),
            ("{\"a\": 1 \"b\": 2}", "line 1, column 9: expected ',' or '}'"),
            ("\"\\ud800\"", "line 1, column 2: unpaired surrogate \\ud800"),
            ("[1]\nx", "line 2, column 1: unexpected text after the JSON document"),
        ] {
            #expect(throws: JSONSyntaxError.self) { try OrderedJSON.parse(Data(text.utf8)) }
            do {
                _ = try OrderedJSON.parse(Data(text.utf8))
            } catch {
                #expect("\(error)" == message, "\(text)")
            }
        }
    }
}
