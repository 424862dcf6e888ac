// ArchitectureConsistencyTests — the variants the fixture does not cover (Qwen2's q/k/v biases, grouped-
// query attention, tied heads, explicit head_dim, Mistral's sliding window), each checked against an
// equivalent formulation: GQA against full multi-head attention with repeated k/v weights, a tied head
// against an untied copy, the window against its receptive field; plus fused vs composite kernels.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

@Suite struct ArchitectureConsistencyTests {
    /// A model's weights under Hugging Face names, written to a directory with `config`.
    private func save(_ model: DecoderModel, config: ModelConfig? = nil, to directory: URL, transform: (inout [String: Tensor]) throws -> Void = { _ in }) throws {
        try model.saveModel(to: directory)
        guard let config else { return }
        var tensors = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors")).tensors()
        try transform(&tensors)
        try SafeTensors.write(tensors, to: directory.appendingPathComponent("model.safetensors"))
        try JSONEncoder().encode(config).write(to: directory.appendingPathComponent("config.json"))
    }

    @Test func groupedQueryAttentionEqualsMultiHeadWithRepeatedKeysAndValues() throws {
        for config in [TinyConfigs.qwen2, TinyConfigs.llamaGQA] {
            let scratch = try ScratchDirectory("loom-gqa")
            let model = try TinyConfigs.model(config)
            var full = config
            full.numKeyValueHeads = config.numAttentionHeads
            let group = config.queryGroupSize
            try save(model, config: full, to: scratch.url) { tensors in
                for layer in 0..<config.numHiddenLayers {
                    for projection in ["k_proj", "v_proj"] {
                        for suffix in ["weight", "bias"] {
                            let name = "model.layers.\(layer).self_attn.\(projection).\(suffix)"
                            guard let tensor = tensors[name] else { continue }
                            // Key/value head g serves query heads g·group ..< (g+1)·group: repeat each head's rows.
                            let heads = try tensor.reshape([config.numKeyValueHeads, config.headDim, -1])
                            tensors[name] = try heads.repeatInterleave(group, dim: 0).reshape(suffix == "weight" ? [full.keyValueWidth, -1] : [full.keyValueWidth])
                        }
                    }
                }
            }
            let multiHead = try DecoderModel.load(from: scratch.url)
            let tokens = try TinyConfigs.tokens(batch: 2, length: 9, vocabulary: config.vocabSize)
            let difference = try withNoGrad { try maxAbsDifference(model.logits(tokens: tokens), multiHead.logits(tokens: tokens)) }
            #expect(difference < 1e-5, "\(config.modelType): \(difference)")
        }
    }

    @Test func tiedHeadEqualsAnUntiedCopyOfTheEmbedding() throws {
        let scratch = try ScratchDirectory("loom-tied")
        let config = TinyConfigs.qwen2
        let tied = try TinyConfigs.model(config)
        var untiedConfig = config
        untiedConfig.tieWordEmbeddings = false
        try save(tied, config: untiedConfig, to: scratch.url) { $0["lm_head.weight"] = try $0["model.embed_tokens.weight"]!.clone() }
        let untied = try DecoderModel.load(from: scratch.url)
        #expect(untied.lmHead != nil && tied.lmHead == nil)
        let tokens = try TinyConfigs.tokens(batch: 2, length: 7, vocabulary: config.vocabSize)
        #expect(try withNoGrad { try tied.logits(tokens: tokens).equal(untied.logits(tokens: tokens)) })
    }

    @Test func qwen2BiasesChangeTheOutput() throws {
        let scratch = try ScratchDirectory("loom-bias")
        let config = TinyConfigs.qwen2
        let model = try TinyConfigs.model(config)
        try save(model, config: config, to: scratch.url) { tensors in
            tensors["model.layers.0.self_attn.v_proj.bias"] = try tensors["model.layers.0.self_attn.v_proj.bias"]! + 0.5
        }
        let shifted = try DecoderModel.load(from: scratch.url)
        let tokens = try TinyConfigs.tokens(batch: 1, length: 6, vocabulary: config.vocabSize)
        #expect(try withNoGrad { try maxAbsDifference(model.logits(tokens: tokens), shifted.logits(tokens: tokens)) } > 1e-3)
    }

    @Test func slidingWindowLimitsTheReceptiveField() throws {
        // 2 layers with a window of 5: the last of 12 positions sees back 2·(5−1) = 8 positions, so the
        // first token cannot reach it; with global attention it does.
        let windowed = try TinyConfigs.model(TinyConfigs.mistralWindow)
        var globalConfig = TinyConfigs.mistralWindow
        globalConfig.slidingWindow = nil
        let global = try TinyConfigs.model(globalConfig)
        let tokens = try TinyConfigs.tokens(batch: 1, length: 12, vocabulary: 64)
        let changed = try tokens.clone()
        try changed.narrow(dim: 1, start: 0, length: 1).fill((try tokens.narrow(dim: 1, start: 0, length: 1).scalar(Int.self) + 1) % 64)
        func lastLogits(_ model: DecoderModel, _ ids: Tensor) throws -> Tensor {
            try withNoGrad { try model.logits(tokens: ids).select(dim: 1, index: 11) }
        }
        #expect(try lastLogits(windowed, tokens).equal(lastLogits(windowed, changed)))
        #expect(try maxAbsDifference(lastLogits(global, tokens), lastLogits(global, changed)) > 1e-4)
    }

    @Test func fusedAndCompositeKernelsAgree() throws {
        // The three dense families, and QLoRA (NF4 bases: their o_proj/down_proj take the in-place update too).
        let cases = [(TinyConfigs.qwen2, false), (TinyConfigs.llamaGQA, false), (TinyConfigs.mistralWindow, false), (TinyConfigs.llamaGQA, true)]
        for (config, quantized) in cases {
            let model = quantized
                ? try DecoderModel.random(config: config, seed: 3, standardDeviation: 0.2, baseLinear: NF4Linear.quantizing())
                : try TinyConfigs.model(config)
            try model.applyLoRA(LoRAConfiguration(rank: 4, alpha: 8, targets: LoRATarget.allCases), seed: 5)
            try withNoGrad { for (_, tensor) in model.trainableParameters { try tensor.normalInPlace(std: 0.1, generator: Generator(seed: 9)) } }
            let tokens = try TinyConfigs.tokens(batch: 2, length: 10, vocabulary: config.vocabSize)
            func run(_ kernels: ModelKernels) throws -> (loss: Tensor, gradients: [Tensor]) {
                model.kernels = kernels
                for (_, tensor) in model.trainableParameters { try tensor.clearGrad() }
                let loss = try model.loss(tokens: tokens)
                try loss.backward()
                return (try loss.detach(), try model.trainableParameters.map { try #require($0.tensor.grad).clone() })
            }
            let composite = try run(.composite)
            // Every fused path, and the separate projections each taking their LoRA update in place.
            for kernels in [ModelKernels.fused, ModelKernels(fusedProjections: false)] {
                let fused = try run(kernels)
                #expect(try maxAbsDifference(fused.loss, composite.loss) < 1e-5, "\(config.modelType)")
                for (a, b) in zip(fused.gradients, composite.gradients) {
                    #expect(try relativeDifference(a, b) < 1e-4, "\(config.modelType)")
                }
            }
        }
    }
}
