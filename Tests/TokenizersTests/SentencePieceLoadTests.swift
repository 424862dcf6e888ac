import Foundation
import TestSupport
import Testing
import Tokenizers

@Test func loadsLlama2LayoutModelBesideLibtorch() throws {
    let model = try SentencePieceModel(contentsOf: TestPaths.fixture("tokenizers/spm-llama2/tokenizer.model"))
    #expect(try model.pieceCount() == 3000)
}

@Test func missingModelFileNamesThePath() throws {
    let path = "/nonexistent/tokenizer.model"
    #expect {
        _ = try SentencePieceModel(contentsOf: URL(fileURLWithPath: path))
    } throws: { error in
        "\(error)".hasPrefix(path)
    }
}

@Test func aFileThatIsNotAModelSaysSoWithoutSentencePieceInternals() throws {
    let json = TestPaths.fixture("tokenizers/spm-llama2/tokenizer.json")
    #expect {
        _ = try SentencePieceModel(contentsOf: json)
    } throws: { error in
        "\(error)" == "\(json.path): not a SentencePiece model (the file does not parse as one)"
    }
}
