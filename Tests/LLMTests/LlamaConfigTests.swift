// ModelConfigTests — config.json as transformers writes it for llama, mistral and qwen2, the defaults
// of absent keys, and an error naming config.json and the key for every bad input.
import Foundation
import LLM
import TestSupport
import Testing

@Suite struct ModelConfigTests {
    private func decode(_ json: String) throws -> ModelConfig {
        try ModelConfig.decode(Data(json.utf8), file: "/models/m/config.json")
    }

    private let minimal = #""hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 512"#

    @Test func readsTheFixturesConfig() throws {
        let config = try ModelConfig.load(from: TinyLlamaFixture.directory)
        #expect(config == ModelConfig(
            hiddenSize: 64, intermediateSize: 172, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 4, headDim: 16,
            vocabSize: 512, ropeTheta: 10_000, rmsNormEps: 1e-5, tieWordEmbeddings: false, attentionBias: false,
            maxPositionEmbeddings: 256, bosTokenId: 1, eosTokenIds: [2]))
    }

    @Test func appliesTransformersDefaults() throws {
        let config = try decode(#"{"model_type": "llama", \#(minimal)}"#)
        #expect(config.numKeyValueHeads == 4 && config.headDim == 16 && config.ropeTheta == 10_000 && config.rmsNormEps == 1e-6)
        #expect(!config.tieWordEmbeddings && !config.attentionBias && config.eosTokenIds.isEmpty && config.bosTokenId == nil)
    }

    @Test func ropeThetaMayLiveOnlyInRopeParameters() throws {
        let config = try decode(#"{"model_type": "llama", \#(minimal), "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}}"#)
        #expect(config.ropeTheta == 500_000)
    }

    @Test func qwen2HasQKVBiasAndMistralNone() throws {
        let qwen = try decode(#"{"model_type": "qwen2", \#(minimal), "num_key_value_heads": 2, "tie_word_embeddings": true}"#)
        #expect(qwen.attentionBias && !qwen.outputProjectionBias && qwen.numKeyValueHeads == 2 && qwen.tieWordEmbeddings)
        #expect(qwen.slidingWindow == nil)
        let mistral = try decode(#"{"model_type": "mistral", \#(minimal), "sliding_window": 4096, "eos_token_id": [2, 7]}"#)
        #expect(!mistral.attentionBias && mistral.slidingWindow == 4096 && mistral.eosTokenIds == [2, 7])
        let llama = try decode(#"{"model_type": "llama", \#(minimal), "attention_bias": true}"#)
        #expect(llama.attentionBias && llama.outputProjectionBias)
    }

    @Test func anotherModelTypeIsAnErrorNamingTheSupportedOnes() {
        let message = errorMessage { _ = try decode(#"{"model_type": "gpt2", \#(minimal)}"#) }
        #expect(message == #"/models/m/config.json: model_type: model_type "gpt2" is not supported (supported: llama, mistral, qwen2, qwen3, gemma2, gemma3_text, gemma3, phi3)"#)
    }

    @Test func missingAndWrongTypedKeysAreNamed() {
        #expect(errorMessage { _ = try decode(#"{"model_type": "llama", "hidden_size": 64}"#) }
            == "/models/m/config.json: intermediate_size: required key is missing")
        #expect(errorMessage { _ = try decode(#"{"model_type": "llama", \#(minimal.replacingOccurrences(of: "\"num_attention_heads\": 4", with: "\"num_attention_heads\": \"four\""))}"#) }
            == "/models/m/config.json: num_attention_heads: expected an integer")
        #expect(errorMessage { _ = try decode(#"{"model_type": "llama", \#(minimal), "rope_parameters": {"rope_theta": "big"}}"#) }
            == "/models/m/config.json: rope_parameters.rope_theta: expected a number")
        #expect(errorMessage { _ = try decode(#"{\#(minimal)}"#) } == "/models/m/config.json: model_type: required key is missing")
    }

    @Test func inconsistentOrUnsupportedValuesAreNamed() {
        #expect(errorMessage { _ = try decode(#"{"model_type": "llama", \#(minimal), "num_key_value_heads": 3}"#) }
            == "/models/m/config.json: num_key_value_heads: 3 must be positive and divide num_attention_heads (4)")
        #expect(errorMessage { _ = try decode(#"{"model_type": "llama", \#(minimal), "rope_scaling": {"rope_type": "dynamic", "factor": 8.0}}"#) }
            == #"/models/m/config.json: rope_scaling.rope_type: rope_type "dynamic" is not supported (supported: default, linear, llama3, yarn, longrope)"#)
        #expect(errorMessage { _ = try decode(#"{"model_type": "llama", \#(minimal), "rope_scaling": {"rope_type": "llama3", "factor": 8.0}}"#) }
            == "/models/m/config.json: rope_scaling.low_freq_factor: required key is missing")
        #expect(errorMessage { _ = try decode(#"{"model_type": "llama", \#(minimal), "rope_scaling": {"type": "linear"}}"#) }
            == "/models/m/config.json: rope_scaling.factor: required key is missing")
        #expect(errorMessage { _ = try decode(#"{"model_type": "llama", \#(minimal), "rope_parameters": {"rope_type": "linear", "factor": -2}}"#) }
            == "/models/m/config.json: rope_parameters.factor: must be positive, got -2.0")
        #expect(errorMessage { _ = try decode(#"{"model_type": "llama", \#(minimal), "hidden_act": "gelu"}"#) }
            == #"/models/m/config.json: hidden_act: "gelu" is not supported (supported: silu)"#)
        #expect(errorMessage { _ = try decode(#"{"model_type": "llama", \#(minimal.replacingOccurrences(of: "\"vocab_size\": 512", with: "\"vocab_size\": 0"))}"#) }
            == "/models/m/config.json: vocab_size: must be positive, got 0")
    }

    @Test func unreadableFilesAreNamed() throws {
        #expect(errorMessage { _ = try decode("{not json") }?.hasPrefix("/models/m/config.json: not valid JSON") == true)
        let scratch = try ScratchDirectory("loom-config")
        #expect(errorMessage { _ = try ModelConfig.load(from: scratch.url) }?
            .hasPrefix("\(scratch.url.path)/config.json: cannot read the model configuration") == true)
    }

    @Test func encodingRoundTrips() throws {
        var llama3 = TinyConfigs.llamaGQA
        llama3.ropeScaling = .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositions: 8192)
        var yarn = TinyConfigs.qwen2
        yarn.ropeScaling = .yarn(factor: 4, originalMaxPositions: 32768, betaFast: 32, betaSlow: 1, attentionFactor: nil,
                                 mscale: nil, mscaleAllDim: nil, truncate: true)
        for config in [TinyConfigs.qwen2, TinyConfigs.llamaGQA, TinyConfigs.mistralWindow, llama3, yarn] {
            let data = try JSONEncoder().encode(config)
            #expect(try ModelConfig.decode(data, file: "config.json") == config)
        }
    }
}
