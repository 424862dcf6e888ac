// FixtureRows — reads the tokenizer fixtures (Tests/Fixtures/tokenizers): the case strings and the
// ids / tokens / decoded text Hugging Face `tokenizers` gave for them.
import Foundation
import TestSupport
@testable import Tokenizers

struct ExpectedRow {
    let text: String
    let ids: [Int]
    let tokens: [String]
    let decoded: String
}

enum FixtureRows {
    /// The non-empty lines of a file, split on LF only, each parsed as JSON.
    static func jsonLines(_ relative: String) throws -> [OrderedJSON] {
        let data = try Data(contentsOf: TestPaths.fixture(relative))
        return try data.split(separator: 0x0A, omittingEmptySubsequences: true).map { try OrderedJSON.parse(Data($0)) }
    }

    static func cases() throws -> [String] {
        try jsonLines("tokenizers/cases.txt").map { value in
            guard case .string(let text) = value else { throw FixtureError("cases.txt: expected a JSON string per line") }
            return text
        }
    }

    static func expected(_ tokenizer: String) throws -> [ExpectedRow] {
        try jsonLines("tokenizers/\(tokenizer)/expected.jsonl").map { row in
            guard case .string(let text)? = row["text"], case .array(let ids)? = row["ids"], case .array(let tokens)? = row["tokens"],
                case .string(let decoded)? = row["decoded"]
            else { throw FixtureError("\(tokenizer)/expected.jsonl: malformed row") }
            return ExpectedRow(
                text: text,
                ids: ids.compactMap { if case .int(let id) = $0 { id } else { nil } },
                tokens: tokens.compactMap { if case .string(let token) = $0 { token } else { nil } },
                decoded: decoded)
        }
    }

    static func tokenizer(_ name: String) throws -> HFTokenizer {
        try HFTokenizer(contentsOf: TestPaths.fixture("tokenizers/\(name)/tokenizer.json"))
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
