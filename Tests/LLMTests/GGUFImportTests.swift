// GGUFImportTests — `loom import-gguf` through the binary on Tests/Fixtures/tiny-gguf (written with
// llama.cpp's own Python writer; F32, F16, BF16, Q8_0, Q4_0 and Q4_1 tensors, q/k in llama.cpp's layout, a
// gpt2 tokenizer with Llama-3's split): the imported model's logits and loss against what transformers'
// GGUF loader computes from the same file (1e-4 / 1e-5: both dequantise the same blocks to the same f32
// values, only the summation order differs), its tokenizer's ids against transformers' on 120 cases
// (exactly), and the errors a bad file gets.
import Foundation
import LLM
import LoomCore
import TestSupport
import Testing
import Tokenizers
import Torch

@Suite struct GGUFImportTests {
    private let loom = TestPaths.executable("loom")
    static let fixture = TestPaths.fixture("tiny-gguf")

    private func importFixture(_ scratch: ScratchDirectory) throws -> URL {
        let out = scratch.path("model")
        let result = try runProcess(loom, ["import-gguf", Self.fixture.appendingPathComponent("tiny.gguf").path, "--out", out.path, "--json"])
        try #require(result.status == 0, "\(result.stderr)")
        return out
    }

    private static func reference() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: fixture.appendingPathComponent("reference.json"))) as? [String: Any])
    }

    @Test func theModelComputesWhatTransformersLoadsFromTheFile() throws {
        let scratch = try ScratchDirectory("loom-gguf-import")
        let model = try LlamaModel.load(from: try importFixture(scratch))
        #expect(model.config.vocabSize == 4003 && model.config.numKeyValueHeads == 2 && model.config.ropeTheta == 500_000)
        let rows = try JSONDecoder().decode([[Int64]].self, from: Data(contentsOf: Self.fixture.appendingPathComponent("input_ids.json")))
        let tokens = try Tensor(rows.flatMap { $0 }, shape: [rows.count, rows[0].count])
        let (logits, loss) = try withNoGrad { (try model.logits(tokens: tokens), try model.loss(tokens: tokens).scalar(Double.self)) }
        let expected = try SafeTensorsFile(url: Self.fixture.appendingPathComponent("logits.safetensors")).tensor("logits")
        #expect(try maxAbsDifference(logits, expected) < 1e-4)
        let expectedLoss = try #require(try Self.reference()["loss"] as? Double)
        #expect(abs(loss - expectedLoss) < 1e-5)
    }

    @Test func theTokenizerGivesTransformersIds() throws {
        let scratch = try ScratchDirectory("loom-gguf-import-tokenizer")
        let tokenizer = try TokenizerLoader.load(try importFixture(scratch))
        let cases = try #require(try Self.reference()["tokenizer"] as? [[String: Any]])
        #expect(cases.count == 120)
        var mismatches: [String] = []
        for row in cases {
            let text = try #require(row["text"] as? String), ids = try #require(row["ids"] as? [Int])
            let ours = tokenizer.encodeWithSpecialTokens(text)
            if ours != ids { mismatches.append("\(text.debugDescription): \(ours) expected \(ids)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(5).joined(separator: "\n"))")
    }

    @Test func badFilesAreNamedAndNothingIsWritten() throws {
        let scratch = try ScratchDirectory("loom-gguf-import-errors")
        let whole = try Data(contentsOf: Self.fixture.appendingPathComponent("tiny.gguf"))
        let truncated = scratch.path("truncated.gguf")
        try whole.prefix(whole.count - 1000).write(to: truncated)
        let cut = try runProcess(loom, ["import-gguf", truncated.path, "--out", scratch.path("a").path])
        #expect(cut.status != 0 && cut.stderr.contains("\(truncated.path): tensor ") && cut.stderr.contains("run past the end of the file"), "\(cut.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("a").path))
        let header = scratch.path("header.gguf")
        try whole.prefix(200).write(to: header)
        let short = try runProcess(loom, ["import-gguf", header.path, "--out", scratch.path("b").path])
        #expect(short.status != 0 && short.stderr.contains("truncated while reading"), "\(short.stderr)")
        let notGGUF = try runProcess(loom, ["import-gguf", Self.fixture.appendingPathComponent("input_ids.json").path, "--out", scratch.path("c").path])
        #expect(notGGUF.status != 0 && notGGUF.stderr.contains("not a GGUF file"), "\(notGGUF.stderr)")
        let exists = try runProcess(loom, ["import-gguf", Self.fixture.appendingPathComponent("tiny.gguf").path, "--out", scratch.url.path])
        #expect(exists.status != 0 && exists.stderr.contains("already exists"), "\(exists.stderr)")
    }
}
