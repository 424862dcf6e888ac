// ModelFamilyParityTests — the Gemma 2, Gemma 3 and Phi-3 families against transformers 5.23 + PEFT 0.21
// on tiny random models whose weights are refilled far from the default init (Tests/Fixtures/tiny-gemma2,
// tiny-gemma3, tiny-phi3, made by scripts/make-fixtures.py): logits and loss, a PEFT-saved adapter's logits,
// loss and LoRA gradients, the KV cache, export and reload. The fixtures exercise what sets each family
// apart: Gemma 2's soft-capped attention and logits, (1 + w) norms around each sub-block, GeGLU, √hidden
// embedding scale, query_pre_attn_scalar ≠ head_dim and a 6-token window on alternate layers (the 17-token
// sequences run past it); Gemma 3's q/k norms, local and global RoPE bases (the global one linearly
// scaled), `layer_types`, and its multimodal checkpoint; Phi-3's fused qkv_proj / gate_up_proj (and PEFT's
// adapters on them), partial rotation (half of each head) and window. Tolerances as tiny-llama-a's:
// logits 1e-4, losses 1e-5, gradients 1e-4 relative (f32, another summation order than PyTorch's).
import Foundation
import LLM
import LoomCore
import TestSupport
import Testing
import Torch

@Suite struct ModelFamilyParityTests {
    static let families = ["tiny-gemma2", "tiny-gemma3", "tiny-phi3", "tiny-phi3-longrope"]
    /// LongRoPE is left out of the cache check: its steps inside the original context take the short
    /// factors, the whole sequence the long ones (transformers, too, picks by the longest position).
    static let cachedFamilies = ["tiny-gemma2", "tiny-gemma3", "tiny-phi3"]

    static func reference(_ directory: URL, _ key: String) throws -> Double {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("reference.json"))) as? [String: Any]
        return try #require(object?[key] as? Double, "reference.json has no \(key)")
    }

    static func logits(_ directory: URL, _ file: String) throws -> Tensor {
        try SafeTensorsFile(url: directory.appendingPathComponent(file)).tensor("logits")
    }

    @Test(arguments: families) func logitsAndLossMatchTransformers(_ fixture: String) throws {
        let directory = TestPaths.fixture(fixture)
        let tokens = try fixtureInputIds(directory)
        let expected = try Self.logits(directory, "logits.safetensors")
        for kernels in [ModelKernels.fused, .composite] {
            var model = try loadCausalLM(from: directory)
            model.kernels = kernels
            let (logits, loss) = try withNoGrad { (try model.logits(tokens: tokens), try model.loss(tokens: tokens).scalar(Double.self)) }
            #expect(try maxAbsDifference(logits, expected) < 1e-4, "\(fixture), \(kernels == .fused ? "fused" : "composite") kernels")
            #expect(abs(loss - (try Self.reference(directory, "loss"))) < 1e-5)
        }
    }

    @Test(arguments: families) func peftAdapterLogitsLossAndGradientsMatch(_ fixture: String) throws {
        let directory = TestPaths.fixture(fixture)
        let model = try loadCausalLM(from: directory, adapter: directory.appendingPathComponent("adapter"))
        let tokens = try fixtureInputIds(directory)
        let logits = try withNoGrad { try model.logits(tokens: tokens) }
        #expect(try maxAbsDifference(logits, Self.logits(directory, "logits_with_adapter.safetensors")) < 1e-4)
        let loss = try model.loss(tokens: tokens, labels: tokens)
        #expect(abs(try loss.scalar(Double.self) - Self.reference(directory, "loss_with_adapter")) < 1e-5)
        try loss.backward()
        try expectGradientsMatch(model, directory.appendingPathComponent("lora_grads.safetensors"))
    }

    @Test(arguments: cachedFamilies) func cachedGenerationStepsGiveTheFullForwardLogits(_ fixture: String) throws {
        // One token at a time through the KV cache (windows, local RoPE and partial rotation past the
        // window) gives what the whole sequence gives at each position.
        let directory = TestPaths.fixture(fixture)
        let model = try DecoderModel.load(from: directory)
        let row = try fixtureInputIds(directory).narrow(dim: 0, start: 0, length: 1)
        let full = try withNoGrad { try model.logits(tokens: row) }
        let cache = try KVCache(config: model.config, batchSize: 1, capacity: row.shape[1])
        var worst = 0.0
        try withNoGrad {
            for position in 0..<row.shape[1] {
                let step = try model.forward(tokens: row.narrow(dim: 1, start: position, length: 1), cache: cache).logits!
                worst = max(worst, try maxAbsDifference(step, full.narrow(dim: 1, start: position, length: 1)))
            }
        }
        #expect(worst < 1e-4)
    }

    @Test(arguments: families) func aSavedModelReloadsToTheSameLogitsAndConfig(_ fixture: String) throws {
        let directory = TestPaths.fixture(fixture)
        let scratch = try ScratchDirectory("loom-family")
        let model = try loadCausalLM(from: directory, adapter: directory.appendingPathComponent("adapter"))
        try model.saveModel(to: scratch.url, mergeAdapter: true)
        let reloaded = try loadCausalLM(from: scratch.url)
        #expect(reloaded.config == model.config)
        let tokens = try fixtureInputIds(directory)
        let drift = try withNoGrad { try maxAbsDifference(reloaded.logits(tokens: tokens), model.logits(tokens: tokens)) }
        // The merged W + s·B·A against x·Wᵀ + s·(x·Aᵀ)·Bᵀ: the same sum in another f32 order (1.5e-5 seen).
        #expect(drift < 1e-4, "\(drift)")
        // A fresh config.json written from the configuration alone (no source file) describes the same model.
        let encoded = try JSONEncoder().encode(model.config)
        #expect(try ModelConfig.decode(encoded, file: "encoded") == model.config)
    }

    @Test func gemma2ConfigReadsItsLayout() throws {
        let config = try ModelConfig.load(from: TestPaths.fixture("tiny-gemma2"))
        #expect(config.modelType == "gemma2" && config.activation == .geluTanh && config.normWeightOffset == 1)
        #expect(config.attentionSoftcap == 4 && config.finalLogitSoftcap == 8 && config.slidingWindow == 6)
        #expect(config.slidingLayers == [true, false, true] && config.embeddingScale == 8)
        #expect(abs(config.attentionScale! - 1 / 24.0.squareRoot()) < 1e-15)
    }

    @Test func gemma3ReadsBothRopeBasesAndItsLayerTypes() throws {
        let config = try ModelConfig.load(from: TestPaths.fixture("tiny-gemma3"))
        #expect(config.modelType == "gemma3_text" && config.queryKeyNorm && config.attentionSoftcap == nil)
        #expect(config.ropeTheta == 1_000_000 && config.ropeScaling == .linear(factor: 2) && config.localRopeTheta == 10_000)
        #expect(config.slidingLayers == [true, false, true])
        // The older layout (rope_theta, rope_local_base_freq, rope_scaling, sliding_window_pattern) reads the same way.
        let old = #"{"model_type": "gemma3_text", "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 7, "num_attention_heads": 4, "vocab_size": 128, "rope_theta": 500000.0, "rope_local_base_freq": 5000.0, "rope_scaling": {"rope_type": "linear", "factor": 8.0}, "sliding_window_pattern": 3}"#
        let decoded = try ModelConfig.decode(Data(old.utf8), file: "config.json")
        #expect(decoded.ropeTheta == 500_000 && decoded.localRopeTheta == 5000 && decoded.ropeScaling == .linear(factor: 8))
        #expect(decoded.slidingLayers == [true, true, false, true, true, false, true] && decoded.headDim == 256)
    }

    @Test func theTextModelOfAMultimodalGemma3() throws {
        // transformers saves Gemma3ForConditionalGeneration with the Hub's layout (language_model.model.…,
        // vision_tower.…); Loom reads the text model and leaves the rest, and gives its text-only logits.
        let directory = TestPaths.fixture("tiny-gemma3/multimodal")
        let model = try loadCausalLM(from: directory)
        #expect(model.config.modelType == "gemma3" && model.config.weightNames.prefix == "language_model.model.")
        let tokens = try fixtureInputIds(TestPaths.fixture("tiny-gemma3"))
        let logits = try withNoGrad { try model.logits(tokens: tokens) }
        #expect(try maxAbsDifference(logits, Self.logits(directory, "logits.safetensors")) < 1e-4)
        // Exported, it is a text-only gemma3_text checkpoint under model.… that loads to the same logits.
        let scratch = try ScratchDirectory("loom-gemma3-text")
        try model.saveModel(to: scratch.url, mergeAdapter: false)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: scratch.url.appendingPathComponent("config.json"))) as? [String: Any]
        #expect(config?["model_type"] as? String == "gemma3_text" && config?["text_config"] == nil)
        #expect(config?["architectures"] as? [String] == ["Gemma3ForCausalLM"])
        let names = try SafeTensorsFile(url: scratch.url.appendingPathComponent("model.safetensors")).names
        #expect(names.contains("model.embed_tokens.weight") && !names.contains { $0.contains("vision") || $0.contains("language_model") })
        let text = try loadCausalLM(from: scratch.url)
        #expect(try withNoGrad { try maxAbsDifference(text.logits(tokens: tokens), logits) } < 1e-5)
    }

    @Test func phi3TargetsItsFusedProjections() throws {
        let directory = TestPaths.fixture("tiny-phi3")
        let config = try ModelConfig.load(from: directory)
        #expect(config.projectionTargets == [.queryKeyValue, .output, .gateUp, .down] && config.rotaryDim == 8)
        #expect(config.loraTargets(for: [.query, .value, .down]) == [.queryKeyValue, .down])
        // A recipe's q/v on Phi-3 adapt qkv_proj; the saved adapter names it as PEFT does.
        let model = try loadCausalLM(from: directory)
        try model.applyLoRA(LoRAConfiguration(rank: 2, alpha: 4, targets: [.query, .value]), seed: 0)
        #expect(model.loraConfiguration?.targets == [.queryKeyValue])
        let scratch = try ScratchDirectory("loom-phi3-adapter")
        try model.saveAdapter(to: scratch.url)
        let names = try SafeTensorsFile(url: scratch.url.appendingPathComponent("adapter_model.safetensors")).names
        #expect(names.contains("base_model.model.model.layers.1.self_attn.qkv_proj.lora_A.weight"))
        // A PEFT adapter naming q_proj does not fit Phi-3: the error names its projections.
        let adapter = try ScratchDirectory("loom-phi3-foreign")
        try FileManager.default.copyItem(at: directory.appendingPathComponent("adapter/adapter_model.safetensors"),
                                         to: adapter.url.appendingPathComponent("adapter_model.safetensors"))
        var json = try String(contentsOf: directory.appendingPathComponent("adapter/adapter_config.json"), encoding: .utf8)
        json = json.replacingOccurrences(of: "\"qkv_proj\"", with: "\"q_proj\"")
        try json.write(to: adapter.url.appendingPathComponent("adapter_config.json"), atomically: true, encoding: .utf8)
        let message = errorMessage { _ = try loadCausalLM(from: directory, adapter: adapter.url) }
        #expect(message == adapter.url.path + "/adapter_config.json: target_modules: q_proj is not one of the model's projections, qkv_proj, o_proj, gate_up_proj, down_proj")
    }

    @Test func longRopeTakesTheShortFactorsWithinTheOriginalContext() throws {
        let directory = TestPaths.fixture("tiny-phi3-longrope")
        let config = try ModelConfig.load(from: directory)
        guard case .longrope(let short, let long, 16, let attention) = config.ropeScaling else {
            Issue.record("expected LongRoPE with original context 16, got \(String(describing: config.ropeScaling))")
            return
        }
        // transformers' default attention factor: √(1 + ln(64 / 16) / ln 16).
        #expect(short == [1.0, 1.3, 1.9, 2.6] && long == [1.1, 2.2, 4.5, 7.9] && abs(attention - (1 + log(4.0) / log(16.0)).squareRoot()) < 1e-12)
        let model = try loadCausalLM(from: directory)
        let tokens = try fixtureInputIds(directory).narrow(dim: 1, start: 0, length: 12)
        let logits = try withNoGrad { try model.logits(tokens: tokens) }
        #expect(try maxAbsDifference(logits, Self.logits(directory, "logits_short.safetensors")) < 1e-4)
    }

    @Test func whatAFamilyCannotHonourIsNamed() {
        func decode(_ json: String) -> String? { errorMessage { _ = try ModelConfig.decode(Data(json.utf8), file: "/m/config.json") } }
        let sizes = #""hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 128"#
        #expect(decode(#"{"model_type": "gemma3_text", \#(sizes), "use_bidirectional_attention": true}"#)
            == "/m/config.json: use_bidirectional_attention: bidirectional attention (an encoder) is not supported; Loom trains causal LMs")
        #expect(decode(#"{"model_type": "gemma2", \#(sizes), "layer_types": ["full_attention"]}"#)
            == "/m/config.json: layer_types: has 1 entries, expected one per layer (2)")
        #expect(decode(#"{"model_type": "gemma2", \#(sizes), "layer_types": ["full_attention", "chunked_attention"]}"#)
            == #"/m/config.json: layer_types: "chunked_attention" is not supported (expected sliding_attention or full_attention)"#)
        #expect(decode(#"{"model_type": "phi3", \#(sizes), "rope_scaling": {"type": "longrope", "short_factor": [1], "long_factor": [1]}}"#)
            == "/m/config.json: rope_scaling: short_factor and long_factor need one factor per rotated pair (8), got 1")
        #expect(decode(#"{"model_type": "phi3", \#(sizes), "rope_scaling": {"type": "longrope", "short_factor": [1, 2], "long_factor": [1]}}"#)
            == "/m/config.json: rope_scaling.long_factor: must hold as many positive factors as short_factor (2), got 1")
        #expect(decode(#"{"model_type": "phi3", \#(sizes), "rope_scaling": {"type": "dynamic", "factor": 2}}"#)
            == #"/m/config.json: rope_scaling.rope_type: rope_type "dynamic" is not supported (supported: default, linear, llama3, yarn, longrope)"#)
        #expect(decode(#"{"model_type": "phi3", \#(sizes), "partial_rotary_factor": 1.5}"#)
            == "/m/config.json: partial_rotary_factor: must be in (0, 1] and rotate an even number of each head's 16 dimensions, got 1.5")
        #expect(decode(#"{"model_type": "gemma2", \#(sizes), "hidden_activation": "relu"}"#)
            == #"/m/config.json: hidden_activation: "relu" is not supported (supported: silu, gelu_pytorch_tanh)"#)
    }
}
