// GGUFExportTests — `loom export-gguf` through the binary, read back by llama.cpp's own Python reader
// (the `gguf` package, scripts/check-gguf.py): every tensor within its encoding's rounding of the Hugging
// Face weights (llama.cpp's q/k layout undone), the hyperparameters, and the vocabulary, merges and BOS
// flag of tokenizer.json as `tokenizers` reads it; and the errors a user meets.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

@Suite struct GGUFExportTests {
    private let loom = TestPaths.executable("loom")

    /// A random Llama (grouped-query attention, untied head) with the Llama-3-layout fixture tokenizer.
    private func modelDirectory(_ scratch: ScratchDirectory) throws -> URL {
        let config = ModelConfig(hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2, numAttentionHeads: 4,
                                 numKeyValueHeads: 2, vocabSize: 4003, maxPositionEmbeddings: 256)
        let model = try DecoderModel.random(config: config, seed: 5, standardDeviation: 0.1)
        let directory = scratch.path("model")
        try model.saveModel(to: directory, mergeAdapter: false, companionsFrom: TestPaths.fixture("tokenizers/bytelevel-llama3"))
        return directory
    }

    @Test(arguments: ["f16", "q8_0"]) func llamaCppsReaderReadsBackTheModelAndTokenizer(type: String) throws {
        let scratch = try ScratchDirectory("loom-gguf")
        let model = try modelDirectory(scratch)
        let file = scratch.path("model.gguf").path
        let export = try runProcess(loom, ["export-gguf", model.path, "--out", file, "--type", type, "--json"])
        #expect(export.status == 0, "\(export.stderr)")
        let script = TestPaths.packageRoot.appendingPathComponent("scripts/check-gguf.py").path
        let check = try runProcess(TestPaths.python.executable, TestPaths.python.arguments + [script, file, model.path])
        #expect(check.status == 0, "\(check.stdout)\n\(check.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any]
        #expect(report?["architecture"] as? String == "llama" && report?["tokens"] as? Int == 4003)
        #expect(report?["pre"] as? String == "llama-bpe", "Llama-3's split pattern, by llama.cpp's name")
        #expect((report?["problems"] as? [String])?.isEmpty == true, "\(check.stdout)")
    }

    @Test func aModelWithoutATokenizerAndAMissingDirectoryAreRefusedAndNothingIsWritten() throws {
        let scratch = try ScratchDirectory("loom-gguf-errors")
        let file = scratch.path("out.gguf")
        let noTokenizer = try runProcess(loom, ["export-gguf", TestPaths.fixture("tiny-qwen3").path, "--out", file.path])
        #expect(noTokenizer.status != 0)
        #expect(noTokenizer.stderr.contains("a GGUF file carries its tokenizer, and this directory's cannot be read"), "\(noTokenizer.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file.path))
        let noParent = try runProcess(loom, ["export-gguf", TestPaths.fixture("tiny-llama-a").path, "--out", scratch.path("nope/out.gguf").path])
        #expect(noParent.status != 0 && noParent.stderr.contains("nope: no such directory"), "\(noParent.stderr)")
        let badType = try runProcess(loom, ["export-gguf", TestPaths.fixture("tiny-llama-a").path, "--out", file.path, "--type", "q4"])
        #expect(badType.status != 0 && badType.stderr.contains("q4"), "\(badType.stderr)")
    }
}
