// ModelVerbsCLITests — `loom score` and `loom generate` as people run them (through `loom`, which
// forwards to `loom-torch`): the fixture's losses, greedy continuations that match transformers' argmax,
// text prompts through the model directory's tokenizer, and an error naming the file for bad input.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

@Suite struct ModelVerbsCLITests {
    private let loom = TestPaths.executable("loom")
    private let model = TinyLlamaFixture.directory.path

    private func json(_ result: ProcessResult) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
    }

    @Test func scorePrintsTheFixturesLosses() throws {
        let scratch = try ScratchDirectory("loom-score")
        let tokens = scratch.path("tokens.json")
        try Data(contentsOf: TinyLlamaFixture.directory.appendingPathComponent("input_ids.json")).write(to: tokens)
        let reference = try TinyLlamaFixture.referenceJSON()
        let loss = try #require(reference["loss"] as? Double), lossWithAdapter = try #require(reference["loss_with_adapter"] as? Double)
        let base = try json(runProcess(loom, ["score", "--model", model, "--tokens", tokens.path, "--json"]))
        #expect(abs((base["mean_loss"] as! Double) - loss) < 1e-5)
        #expect(base["tokens"] as? Int == 32 && base["sequences"] as? Int == 2)
        #expect(abs((base["bits_per_token"] as! Double) - loss / log(2)) < 1e-4)
        let adapted = try json(runProcess(loom, ["score", "--model", model, "--adapter", TinyLlamaFixture.adapterDirectory.path, "--tokens", tokens.path, "--json"]))
        #expect(abs((adapted["mean_loss"] as! Double) - lossWithAdapter) < 1e-5)
        let human = try runProcess(loom, ["score", "--model", model, "--tokens", tokens.path])
        #expect(human.status == 0 && human.stdout.contains("mean loss   6.7779") && human.stdout.contains("32 predicted, 2 sequences"))
    }

    @Test func deviceIsCheckedBeforeTheModelIsRead() throws {
        // --device names where the model runs; one libtorch cannot see is refused with what it does see.
        let scratch = try ScratchDirectory("loom-score-device")
        let tokens = scratch.path("tokens.json")
        try Data(contentsOf: TinyLlamaFixture.directory.appendingPathComponent("input_ids.json")).write(to: tokens)
        let onCPU = try json(runProcess(loom, ["score", "--model", model, "--tokens", tokens.path, "--device", "cpu", "--json"]))
        let loss = try #require(TinyLlamaFixture.referenceJSON()["loss"] as? Double)
        #expect(abs((onCPU["mean_loss"] as! Double) - loss) < 1e-5)
        let count = try TorchRuntime.cudaIsAvailable() ? TorchRuntime.cudaDeviceCount() : 0
        let missing = try runProcess(loom, ["score", "--model", model, "--tokens", tokens.path, "--device", "cuda:\(count)"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("--device: device cuda:\(count) is not available"), "\(missing.stderr)")
        let unknown = try runProcess(loom, ["generate", "--model", model, "--prompt-ids", "1,2", "--device", "gpu"])
        #expect(unknown.status != 0 && unknown.stderr.contains("--device: unknown device 'gpu': expected auto, cpu, cuda or cuda:N"), "\(unknown.stderr)")
    }

    @Test func scoreNamesTheFileOfBadInput() throws {
        let scratch = try ScratchDirectory("loom-score-errors")
        let cases: [(String, String)] = [
            ("[[1, 2], [3, 600]]", "[1][1]: token id 600 is outside the model's vocabulary (0..<512)"),
            ("[[1, 2], [3]]", "[1]: a sequence needs at least 2 tokens to be scored, found 1"),
            ("[[1, 2], [3, \"a\"]]", "[1][1]: expected an integer token id, found a"),
            ("[[1, 2], 7]", "[1]: expected an array of token ids"),
            ("{\"a\": 1}", "expected a non-empty JSON array of token-id arrays"),
            ("[[1, 2", "not valid JSON"),
        ]
        for (index, (content, message)) in cases.enumerated() {
            let file = scratch.path("bad-\(index).json")
            try Data(content.utf8).write(to: file)
            let result = try runProcess(loom, ["score", "--model", model, "--tokens", file.path])
            #expect(result.status != 0)
            #expect(result.stderr.contains("Error: \(file.path): \(message)"), "\(result.stderr)")
        }
        let missing = try runProcess(loom, ["score", "--model", scratch.path("no-model").path, "--tokens", scratch.path("bad-0.json").path])
        #expect(missing.stderr.contains("Error: \(scratch.path("no-model").path): no such model directory"))
    }

    @Test func greedyGenerationContinuesWithTransformersArgmax() throws {
        // reference.json's per-position argmax of the first input row: after 89 comes 443, after 89 106 67 comes 58.
        let one = try json(runProcess(loom, ["generate", "--model", model, "--prompt-ids", "89", "--max-new", "1", "--json"]))
        #expect(one["ids"] as? [Int] == [443])
        let three = try json(runProcess(loom, ["generate", "--model", model, "--prompt-ids", "89,106,67", "--max-new", "6", "--json"]))
        #expect((three["ids"] as? [Int])?.first == 58 && (three["ids"] as? [Int])?.count == 6)
        #expect(three["prompt_ids"] as? [Int] == [89, 106, 67] && three["stop_reason"] as? String == "max_new_tokens")
        let sampled = ["generate", "--model", model, "--prompt-ids", "1,2,3", "--max-new", "10", "--temperature", "1", "--top-p", "0.95", "--seed", "7", "--json"]
        #expect(try json(runProcess(loom, sampled))["ids"] as? [Int] == json(runProcess(loom, sampled))["ids"] as? [Int])
        let bad = try runProcess(loom, ["generate", "--model", model, "--prompt-ids", "1,x"])
        #expect(bad.status != 0 && bad.stderr.contains("Error: --prompt-ids: \"x\" is not a token id"))
        let outside = try runProcess(loom, ["generate", "--model", model, "--prompt-ids", "1,512"])
        #expect(outside.stderr.contains("Error: --prompt-ids: token id 512 is outside the model's vocabulary (0..<512)"))
        let noTokenizer = try runProcess(loom, ["generate", "--model", model, "--prompt", "hello"])
        #expect(noTokenizer.stderr.contains("--prompt needs the model's tokenizer"))
    }

    @Test func textPromptsUseTheModelsTokenizer() throws {
        let scratch = try ScratchDirectory("loom-generate-text")
        // A random model with the byte-level fixture tokenizer's 4003 ids, saved with that tokenizer.
        let config = ModelConfig(hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 1, numAttentionHeads: 2, vocabSize: 4003, eosTokenIds: [4001])
        let directory = scratch.path("model")
        try DecoderModel.random(config: config, seed: 1, standardDeviation: 0.5)
            .saveModel(to: directory, companionsFrom: TestPaths.fixture("tokenizers/bytelevel-llama3"))
        let text = "The quick brown fox jumps over the lazy dog."
        let result = try json(runProcess(loom, ["generate", "--model", directory.path, "--prompt", text, "--no-bos", "--max-new", "5", "--json"]))
        #expect(result["prompt_ids"] as? [Int] == [396, 982, 950, 1122, 978, 312, 2464, 681, 586, 2047, 1072, 285, 333, 1757, 88, 2507, 13])
        let ids = try #require(result["ids"] as? [Int])
        #expect(!ids.isEmpty && result["text"] is String)
        let withBOS = try json(runProcess(loom, ["generate", "--model", directory.path, "--prompt", text, "--max-new", "1", "--json"]))
        #expect((withBOS["prompt_ids"] as? [Int])?.count == 18)
    }

    @Test func mergeWritesAModelThatComputesWhatTheModelWithItsAdapterComputes() throws {
        let scratch = try ScratchDirectory("loom-merge")
        let output = scratch.path("merged")
        let result = try runProcess(loom, ["merge", "--model", model, "--adapter", TinyLlamaFixture.adapterDirectory.path, "--out", output.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try json(result)["vocab_size"] as? Int == 512)
        let merged = try DecoderModel.load(from: output)
        #expect(merged.loraConfiguration == nil)
        let adapted = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try adapted.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        let tokens = try Tensor((0..<16).map { Int64(($0 * 29) % 512) }, shape: [1, 16])
        let difference = try withNoGrad { try (merged.logits(tokens: tokens) - adapted.logits(tokens: tokens)).abs().amax().scalar(Double.self) }
        #expect(difference < 1e-4, "merged vs adapter logits differ by \(difference)")

        // An adapter trained on an extended vocabulary (a train stage's output) carries its tokenizer and
        // hyperwords.json: both go into the merged directory.
        let trained = scratch.path("trained")
        try FileManager.default.copyItem(at: TinyLlamaFixture.adapterDirectory, to: trained)
        try FileManager.default.copyItem(at: TestPaths.fixture("tokenizers/bytelevel-llama3/tokenizer.json"), to: trained.appendingPathComponent("tokenizer.json"))
        let report = Data(#"{"format": "loom-hyperwords/1", "base_vocabulary_size": 500, "tokens": []}"#.utf8)
        try report.write(to: trained.appendingPathComponent("hyperwords.json"))
        let withTokenizer = try runProcess(loom, ["merge", "--model", model, "--adapter", trained.path, "--out", scratch.path("m1").path])
        #expect(withTokenizer.status == 0, "\(withTokenizer.stderr)")
        #expect(FileManager.default.contents(atPath: scratch.path("m1/hyperwords.json").path) == report)
        #expect(FileManager.default.contentsEqual(atPath: scratch.path("m1/tokenizer.json").path, andPath: trained.appendingPathComponent("tokenizer.json").path))

        let again = try runProcess(loom, ["merge", "--model", model, "--adapter", TinyLlamaFixture.adapterDirectory.path, "--out", output.path])
        #expect(again.status != 0 && again.stderr.contains("Error: \(output.path): already exists (merge writes a new directory)"), "\(again.stderr)")
        let noAdapter = try runProcess(loom, ["merge", "--model", model, "--adapter", scratch.path("nothing").path, "--out", scratch.path("m2").path])
        #expect(noAdapter.status != 0 && noAdapter.stderr.contains("nothing"), "\(noAdapter.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("m2").path))
        let noParent = try runProcess(loom, ["merge", "--model", model, "--adapter", TinyLlamaFixture.adapterDirectory.path, "--out", scratch.path("missing/m3").path])
        #expect(noParent.status != 0 && noParent.stderr.contains("Error: \(scratch.path("missing").path): no such directory"), "\(noParent.stderr)")
    }
}
