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

    /// Runs scripts/check-gguf.py on `file` against the directory it came from (with `options`), expecting it
    /// to pass, and returns its JSON report.
    private func checkScript(_ file: String, _ model: URL, _ options: [String] = []) throws -> [String: Any]? {
        let script = TestPaths.packageRoot.appendingPathComponent("scripts/check-gguf.py").path
        let check = try runProcess(TestPaths.python.executable, TestPaths.python.arguments + [script, file, model.path] + options)
        #expect(check.status == 0, "\(check.stdout)\n\(check.stderr)")
        return try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any]
    }

    @Test(arguments: ["f16", "q8_0"]) func llamaCppsReaderReadsBackTheModelAndTokenizer(type: String) throws {
        let scratch = try ScratchDirectory("loom-gguf")
        let model = try modelDirectory(scratch)
        let file = scratch.path("model.gguf").path
        let export = try runProcess(loom, ["export-gguf", model.path, "--out", file, "--type", type, "--json"])
        #expect(export.status == 0, "\(export.stderr)")
        let report = try checkScript(file, model)
        #expect(report?["architecture"] as? String == "llama" && report?["tokens"] as? Int == 4003)
        #expect(report?["pre"] as? String == "llama-bpe", "Llama-3's split pattern, by llama.cpp's name")
        #expect((report?["problems"] as? [String])?.isEmpty == true, "\(report ?? [:])")
    }

    /// Random models of the families with their own llama.cpp architecture, configured as llama.cpp can
    /// run them and with transformers' defaults where GGUF has no key (Gemma's 256-wide heads and
    /// query_pre_attn_scalar, Gemma 2's soft-caps 50 / 30), so that transformers' GGUF loader rebuilds the
    /// same model from the file alone (Phi-3's vocabulary of 32 064, since transformers' Phi-3 pads with id
    /// 32 000 when the file names no padding token). Sliding windows of 8 over 24 tokens, so windowed layers differ.
    private static let familyConfigs: [(architecture: String, json: String)] = [
        ("gemma2", #"{"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 3, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 256, "query_pre_attn_scalar": 256, "vocab_size": 3000, "max_position_embeddings": 256, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 8, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0, "hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}"#),
        ("gemma3", #"{"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 6, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 256, "query_pre_attn_scalar": 256, "vocab_size": 3000, "max_position_embeddings": 256, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "sliding_window": 8, "final_logit_softcapping": null, "attn_logit_softcapping": null, "hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}"#),
        ("phi3", #"{"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 32064, "max_position_embeddings": 256, "original_max_position_embeddings": 256, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}"#),
    ]

    /// A random model of `json`'s family with the Llama-2-layout (byte-fallback) fixture tokenizer.
    private func familyModel(_ json: String, _ scratch: ScratchDirectory, seed: UInt64 = 9) throws -> URL {
        let directory = scratch.path("model")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configFile = directory.appendingPathComponent("config.json")
        try Data(json.utf8).write(to: configFile)
        let model = try DecoderModel.random(config: ModelConfig.load(from: configFile), seed: seed, standardDeviation: 0.1)
        try model.saveModel(to: directory, mergeAdapter: false, companionsFrom: TestPaths.fixture("tokenizers/spm-llama2"))
        try Data(json.utf8).write(to: configFile)  // the very file transformers reads as the reference
        return directory
    }

    /// Exports `architecture`'s random model as f16 and runs scripts/check-gguf.py on it (`extra`: its options).
    private func exportAndCheck(_ architecture: String, _ scratch: ScratchDirectory, _ extra: [String] = []) throws -> [String: Any]? {
        let model = try familyModel(Self.familyConfigs.first { $0.architecture == architecture }!.json, scratch)
        let file = scratch.path("model.gguf").path
        let export = try runProcess(loom, ["export-gguf", model.path, "--out", file, "--type", "f16"])
        #expect(export.status == 0, "\(export.stderr)")
        let report = try checkScript(file, model, extra)
        #expect(report?["architecture"] as? String == architecture)
        #expect((report?["problems"] as? [String])?.isEmpty == true, "\(report ?? [:])")
        return report
    }

    @Test(arguments: familyConfigs.map(\.architecture))
    func gemmaAndPhi3ExportUnderLlamaCppsOwnNamesAndHyperparameters(architecture: String) throws {
        _ = try exportAndCheck(architecture, try ScratchDirectory("loom-gguf-\(architecture)"))
    }

    /// transformers is in the venv after `make venv-hf` (the fixture scripts' and benchmarks' anchors), not
    /// after `make test` alone; without it this test is skipped and says so.
    private static let transformersImports: Bool = {
        (try? runProcess(TestPaths.python.executable, TestPaths.python.arguments + ["-c", "import transformers, gguf"]).status) == 0
    }()

    @Test(.enabled(if: transformersImports, "transformers is not in the venv (make venv-hf adds it)"),
          arguments: familyConfigs.map(\.architecture))
    func transformersGGUFLoaderRebuildsTheSameModelFromTheFileAlone(architecture: String) throws {
        let report = try exportAndCheck(architecture, try ScratchDirectory("loom-gguf-hf-\(architecture)"), ["--transformers"])
        // f16 matrices on both sides; what may be left is float summation order (measured: 0.0).
        #expect((report?["transformers_max_abs_logit_difference"] as? Double ?? 1) < 1e-4, "\(report ?? [:])")
    }

    /// llama.cpp itself is in the venv after `make venv-llama-cpp` (the llama_cpp binding, built from the
    /// llama.cpp sources it vendors), not after `make test` alone; without it these tests are skipped and say so.
    private static let llamaCppImports: Bool = {
        (try? runProcess(TestPaths.python.executable, TestPaths.python.arguments + ["-c", "import llama_cpp, transformers, gguf"]).status) == 0
    }()

    /// What scripts/check-gguf.py --llama-cpp measured: llama.cpp's logits against transformers running the
    /// weights the file holds, and its tokenization against `tokenizers`.
    private func expectLlamaCppAgrees(_ report: [String: Any]?, _ label: String) throws {
        let cpp = try #require(report?["llama_cpp"] as? [String: Any], "\(report ?? [:])")
        // llama.cpp's CPU products take the activations in the weights' vector type (f16, or 8-bit blocks
        // for q8_0): what is left is that rounding (SmolLM2-135M: mean KL 4e-6 for f16, 4.5e-3 for q8_0).
        // check-gguf.py holds the same bounds (its exit status is checked too); here they name the figure.
        let kl = try #require(cpp["mean_kl"] as? Double)
        #expect(kl < (label.hasSuffix("q8_0") ? 2e-2 : 1e-3), "\(label): \(cpp)")
        let texts = try #require(cpp["tokenization"] as? [[String: Any]])
        #expect(texts.count == 5 && texts.allSatisfy { $0["agrees"] as? Bool == true }, "\(label): \(texts)")
    }

    @Test(.enabled(if: llamaCppImports, "llama.cpp is not in the venv (make venv-llama-cpp adds it)"), arguments: ["f16", "q8_0"])
    func llamaCppRunsTheExportedLlamaWithTheSameLogitsAndTokens(type: String) throws {
        let scratch = try ScratchDirectory("loom-gguf-cpp")
        let model = try modelDirectory(scratch)
        let file = scratch.path("model.gguf").path
        let export = try runProcess(loom, ["export-gguf", model.path, "--out", file, "--type", type])
        try #require(export.status == 0, "\(export.stderr)")
        try expectLlamaCppAgrees(try checkScript(file, model, ["--llama-cpp"]), "llama \(type)")
    }

    @Test(.enabled(if: llamaCppImports, "llama.cpp is not in the venv (make venv-llama-cpp adds it)"),
          arguments: familyConfigs.map(\.architecture))
    func llamaCppRunsTheExportedFamiliesWithTheSameLogitsAndTokens(architecture: String) throws {
        let report = try exportAndCheck(architecture, try ScratchDirectory("loom-gguf-cpp-\(architecture)"), ["--llama-cpp"])
        try expectLlamaCppAgrees(report, architecture)
    }

    /// A hyperword-extended model: llama.cpp splits text by its built-in base pattern, so its ids are the
    /// extended merges applied inside each word's pre-token (check-gguf.py's reference: `tokenizers` with the
    /// file's split pattern put back to the base one) — one-word hyperwords form there, phrases do not.
    @Test(.enabled(if: llamaCppImports, "llama.cpp is not in the venv (make venv-llama-cpp adds it)"),
          .enabled(if: FortuneTexts.isInstalled, "fortunes-ru is not installed (make deps installs it)"),
          arguments: ["bytelevel-llama3", "spm-llama2"])
    func llamaCppTokenizesAHyperwordExtendedModelAsItsBasePatternSplits(layout: String) throws {
        let scratch = try ScratchDirectory("loom-gguf-cpp-hyperwords")
        let training = scratch.path("train.txt")
        try Data(FortuneTexts.entries().prefix(3000).joined(separator: "\n").utf8).write(to: training)
        let extended = scratch.path("extended")
        let extend = try runProcess(loom, ["tokenizer", "extend", "--tokenizer", TestPaths.fixture("tokenizers/\(layout)/tokenizer.json").path,
                                           "--input", training.path, "--output", extended.path, "--count", "120", "--min-count", "4"])
        try #require(extend.status == 0, "\(extend.stderr)")
        let hyperwords = try JSONSerialization.jsonObject(with: Data(contentsOf: extended.appendingPathComponent("hyperwords.json"))) as? [String: Any]
        let added = try #require(hyperwords?["tokens"] as? [[String: Any]])
        let base = try #require(hyperwords?["base_vocabulary_size"] as? Int)
        let config = ModelConfig(hiddenSize: 64, intermediateSize: 128, numHiddenLayers: 2, numAttentionHeads: 4,
                                 numKeyValueHeads: 2, vocabSize: base + added.count, maxPositionEmbeddings: 256)
        let model = try DecoderModel.random(config: config, seed: 5, standardDeviation: 0.1)
        let directory = scratch.path("model")
        try model.saveModel(to: directory, mergeAdapter: false, companionsFrom: extended)  // hyperwords.json too
        let file = scratch.path("model.gguf").path
        let export = try runProcess(loom, ["export-gguf", directory.path, "--out", file, "--type", "f16"])
        try #require(export.status == 0, "\(export.stderr)")
        let report = try checkScript(file, directory, ["--llama-cpp"])
        let cpp = try #require(report?["llama_cpp"] as? [String: Any], "\(report ?? [:])")
        #expect(cpp["extended_tokenizer"] as? Bool == true)
        let texts = try #require(cpp["tokenization"] as? [[String: Any]])
        #expect(texts.count > 5 && texts.allSatisfy { $0["agrees"] as? Bool == true }, "\(layout): \(texts)")
        // The several-word hyperwords, each after a word: `tokenizers` forms them. The byte-level layout's
        // llama.cpp splits them at the spaces (more tokens); the Llama-2 layout has no split pattern, and
        // llama.cpp's SentencePiece-style merges form the same hyperwords.
        let phrases = texts.filter { ($0["hyperword_words"] as? Int ?? 0) > 1 }
        #expect(phrases.count >= 5, "\(texts)")
        let count = { (entry: [String: Any], key: String) in entry[key] as? Int ?? -1 }
        #expect(phrases.allSatisfy { count($0, "hyperwords_tokenizers") >= 1 }, "\(phrases)")
        if layout == "bytelevel-llama3" {
            #expect(phrases.allSatisfy { count($0, "llama_cpp") > count($0, "tokenizers") }, "\(phrases)")
        } else {
            #expect(phrases.allSatisfy { count($0, "hyperwords_llama_cpp") == count($0, "hyperwords_tokenizers") }, "\(phrases)")
        }
    }

    @Test(arguments: familyConfigs.map(\.architecture))
    func importingTheExportedFileGivesBackTheSameConfigurationAndTheFileRoundedWeights(architecture: String) throws {
        let scratch = try ScratchDirectory("loom-gguf-roundtrip-\(architecture)")
        let source = try familyModel(Self.familyConfigs.first { $0.architecture == architecture }!.json, scratch)
        let file = scratch.path("model.gguf").path
        let export = try runProcess(loom, ["export-gguf", source.path, "--out", file, "--type", "f16"])
        try #require(export.status == 0, "\(export.stderr)")
        let imported = scratch.path("imported")
        let result = try runProcess(loom, ["import-gguf", file, "--out", imported.path])
        try #require(result.status == 0, "\(result.stderr)")
        // What the file carries rebuilds the configuration (llama.cpp's fixed choices included).
        let (importedConfig, sourceConfig) = (try ModelConfig.load(from: imported), try ModelConfig.load(from: source))
        #expect(importedConfig == sourceConfig, "\(String(describing: importedConfig))\n\(String(describing: sourceConfig))")
        let original = try DecoderModel.load(from: source).stateDictionary(mergeAdapter: false)
        let back = try DecoderModel.load(from: imported).stateDictionary(mergeAdapter: false)
        #expect(Set(back.keys) == Set(original.keys))
        for (name, tensor) in original {
            guard let other = back[name] else { continue }
            // Matrices: exactly their f16 rounding. Norms (f32, Gemma's stored as 1 + w): one f32 rounding.
            let expected = tensor.rank == 2 ? try tensor.to(.float16).to(.float32) : tensor
            #expect(try maxAbsDifference(other, expected) <= (tensor.rank == 2 ? 0 : 1e-6), "\(name)")
        }
    }

    @Test func importingAnArchitectureLoomDoesNotReadIsRefusedNamingItAndNothingIsWritten() throws {
        let scratch = try ScratchDirectory("loom-gguf-import-arch")
        let source = try familyModel(Self.familyConfigs[0].json, scratch)
        let file = scratch.path("model.gguf")
        try #require(try runProcess(loom, ["export-gguf", source.path, "--out", file.path]).status == 0)
        // general.architecture is the first value written: "gemma2" becomes "falcon" (llama.cpp has it; Loom does not).
        var bytes = try Data(contentsOf: file)
        let range = try #require(bytes.range(of: Data("gemma2".utf8)))
        bytes.replaceSubrange(range, with: Data("falcon".utf8))
        try bytes.write(to: file)
        let out = scratch.path("imported")
        let result = try runProcess(loom, ["import-gguf", file.path, "--out", out.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(file.path): general.architecture \"falcon\" is not supported (gemma2, gemma3, llama, phi3, qwen2, qwen3)"),
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func whatLlamaCppFixesForGemmaIsCheckedAndAModelThatDiffersIsRefusedWithNothingWritten() throws {
        let gemma2 = Self.familyConfigs[0].json, gemma3 = Self.familyConfigs[1].json
        let cases = [
            (gemma2.replacingOccurrences(of: #""query_pre_attn_scalar": 256"#, with: #""query_pre_attn_scalar": 128"#),
             "GGUF export: llama.cpp's gemma2 scales queries by 1/√head_dim (256); query_pre_attn_scalar is 128, so this model would compute something else there"),
            (gemma3.replacingOccurrences(of: #""final_logit_softcapping": null"#, with: #""final_logit_softcapping": 30.0"#),
             "GGUF export: llama.cpp's gemma3 does not soft-cap the final logits; final_logit_softcapping must be null, so this model would compute something else there"),
            (gemma3.replacingOccurrences(of: #""rope_local_base_freq": 10000.0"#, with: #""rope_local_base_freq": 20000.0"#),
             "GGUF export: llama.cpp's gemma3 uses a local RoPE base of 10000 in windowed layers; rope_local_base_freq is 20000.0, so this model would compute something else there"),
        ]
        for (json, message) in cases {
            let scratch = try ScratchDirectory("loom-gguf-gemma-refused")
            let model = try familyModel(json, scratch)
            let file = scratch.path("model.gguf")
            let export = try runProcess(loom, ["export-gguf", model.path, "--out", file.path])
            #expect(export.status != 0 && export.stderr.contains(message), "\(export.stderr)")
            #expect(!FileManager.default.fileExists(atPath: file.path))
        }
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
