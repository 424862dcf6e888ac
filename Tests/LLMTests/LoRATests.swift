// LoRATests — PEFT's initialisation and scaling, dropout on the LoRA path only, merging (in memory and
// as a Hugging Face directory), replacing the frozen bases (the QLoRA seam), and the errors of adapter
// directories that Loom cannot load.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

@Suite struct LoRATests {
    private let tokens: () throws -> Tensor = { try TinyLlamaFixture.inputIds() }

    @Test func freshAdapterFollowsPEFTsInitialisationAndChangesNothing() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        let before = try withNoGrad { try model.logits(tokens: tokens()) }
        try model.applyLoRA(LoRAConfiguration(rank: 8, alpha: 16, targets: [.query, .value, .down]), seed: 1)
        #expect(try withNoGrad { try model.logits(tokens: tokens()) }.equal(before))
        #expect(model.trainableParameters.count == 2 * 3 * 2)
        #expect(model.trainableParameterCount == 2 * (8 * (64 + 64) * 2 + 8 * (172 + 64)))
        let adapter = try #require(model.adapter(layer: 1, .down))
        #expect(adapter.scale == 2 && adapter.loraA.shape == [8, 172] && adapter.loraB.shape == [64, 8])
        // kaiming_uniform(a = √5) on (r, in): U(−1/√in, 1/√in).
        let bound = 1 / Double(172).squareRoot()
        let largest = try adapter.loraA.abs().amax().scalar(Double.self)
        #expect(largest <= bound && largest > 0.9 * bound)
        #expect(try adapter.loraB.abs().amax().scalar(Double.self) == 0)
        #expect(model.adapter(layer: 0, .key) == nil)
        let rs = try LoRALinear(base: model.base(layer: 0, .query), rank: 16, alpha: 32, useRSLoRA: true, generator: Generator(seed: 0))
        #expect(rs.scale == 8)
    }

    @Test func dropoutActsOnTheLoRAInputPathOnly() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.applyLoRA(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.5, targets: LoRATarget.allCases), seed: 1)
        model.isTraining = true
        let base = try withNoGrad { try model.logits(tokens: tokens()) }
        // With B = 0 the LoRA path adds nothing, dropped or not: the base path saw no dropout.
        model.isTraining = false
        #expect(try withNoGrad { try model.logits(tokens: tokens()) }.equal(base))
        try withNoGrad { for entry in model.trainableParameters where entry.name.contains("lora_B") { try entry.tensor.fill(0.05) } }
        let evaluation = try withNoGrad { try model.logits(tokens: tokens()) }
        model.isTraining = true
        let training = try withNoGrad { try model.logits(tokens: tokens()) }
        #expect(try maxAbsDifference(training, evaluation) > 1e-3)
    }

    @Test func mergedAdapterComputesWhatTheAdapterDid() throws {
        let scratch = try ScratchDirectory("loom-merge")
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        let adapted = try withNoGrad { try model.logits(tokens: tokens()) }
        let merged = scratch.path("merged")
        try model.saveModel(to: merged)
        #expect(FileManager.default.fileExists(atPath: merged.appendingPathComponent("generation_config.json").path))
        let reloaded = try DecoderModel.load(from: merged)
        #expect(reloaded.loraConfiguration == nil && reloaded.config == model.config)
        #expect(try withNoGrad { try maxAbsDifference(reloaded.logits(tokens: tokens()), adapted) } < 1e-5)
        try model.mergeAdapter()
        #expect(model.loraConfiguration == nil && model.trainableParameters.isEmpty)
        #expect(try withNoGrad { try maxAbsDifference(model.logits(tokens: tokens()), adapted) } < 1e-5)
        // The base alone (no merge) is the fixture again.
        let base = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try base.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        try base.saveModel(to: scratch.path("base"), mergeAdapter: false)
        let plain = try withNoGrad { try DecoderModel.load(from: scratch.path("base")).logits(tokens: tokens()) }
        let original = try withNoGrad { try DecoderModel.load(from: TinyLlamaFixture.directory).logits(tokens: tokens()) }
        #expect(try plain.equal(original))
    }

    @Test func replacedBasesKeepTheOutputsAndTheAdapter() throws {
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        let before = try withNoGrad { try model.logits(tokens: tokens()) }
        var replaced: [Int] = []
        try model.quantizeBaseLinears(targets: [.query, .key, .up]) { dense in
            replaced.append(dense.outFeatures)
            return try DenseLinear(weight: dense.weight.clone(), bias: dense.bias?.clone())
        }
        #expect(replaced == [64, 64, 172, 64, 64, 172])
        #expect(model.adapter(layer: 0, .query)?.base === model.base(layer: 0, .query))
        #expect(try withNoGrad { try maxAbsDifference(model.logits(tokens: tokens()), before) } < 1e-5)
        // Built with replacement from the start (as QLoRA loads, one layer's dense weights at a time).
        var seen: [LoRATarget] = []
        let built = try DecoderModel.load(from: TinyLlamaFixture.directory) { target, dense in
            seen.append(target)
            return target == .down ? try DenseLinear(weight: dense.weight.clone()) : dense
        }
        #expect(seen.count == 14 && seen.prefix(7) == ArraySlice(model.config.projectionTargets))
        try built.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        #expect(try withNoGrad { try maxAbsDifference(built.logits(tokens: tokens()), before) } < 1e-5)
    }

    @Test func adaptersLoomCannotLoadAreNamed() throws {
        let scratch = try ScratchDirectory("loom-bad-adapter")
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        func adapter(_ name: String, config edit: (inout [String: Any]) -> Void, tensors: ((inout [String: Tensor]) throws -> Void)? = nil) throws -> URL {
            let directory = scratch.path(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var config = try JSONSerialization.jsonObject(
                with: Data(contentsOf: TinyLlamaFixture.adapterDirectory.appendingPathComponent("adapter_config.json"))) as! [String: Any]
            edit(&config)
            try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("adapter_config.json"))
            var weights = try SafeTensorsFile(url: TinyLlamaFixture.adapterDirectory.appendingPathComponent("adapter_model.safetensors")).tensors()
            try tensors?(&weights)
            try SafeTensors.write(weights, to: directory.appendingPathComponent("adapter_model.safetensors"))
            return directory
        }
        let cases: [(URL, String)] = [
            (try adapter("dora", config: { $0["use_dora"] = true }), "adapter_config.json: use_dora: is not supported by Loom (expected false)"),
            (try adapter("type", config: { $0["peft_type"] = "IA3" }), #"adapter_config.json: peft_type: expected "LORA", found "IA3""#),
            (try adapter("targets", config: { $0["target_modules"] = ["q_proj", "lm_head"] }),
             "adapter_config.json: target_modules: lm_head is not one of the model's projections, q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"),
            (try adapter("rank", config: { $0["r"] = "four" }), "adapter_config.json: r: expected a positive integer"),
            (try adapter("save", config: { $0["modules_to_save"] = ["lm_head"] }), "adapter_config.json: modules_to_save: is not supported by Loom (expected null or empty)"),
            (try adapter("missing", config: { _ in }, tensors: { $0["base_model.model.model.layers.1.mlp.up_proj.lora_B.weight"] = nil }),
             "adapter_model.safetensors: base_model.model.model.layers.1.mlp.up_proj.lora_B.weight: missing tensor (expected shape [172, 4])"),
            (try adapter("shape", config: { $0["r"] = 8 }),
             "adapter_model.safetensors: base_model.model.model.layers.0.mlp.down_proj.lora_A.weight: has shape [4, 172], expected [8, 172]"),
            (try adapter("extra", config: { _ in }, tensors: { $0["base_model.model.model.layers.0.mlp.up_proj.lora_C.weight"] = try Tensor.zeros([1]) }),
             "adapter_model.safetensors: base_model.model.model.layers.0.mlp.up_proj.lora_C.weight: unexpected tensor: not part of the adapter"),
        ]
        for (directory, expected) in cases {
            let message = errorMessage { try model.loadAdapter(from: directory) } ?? "no error"
            #expect(message.hasPrefix(directory.path + "/" + expected), "\(message)")
            #expect(model.loraConfiguration == nil)
        }
        let pickled = scratch.path("pickled")
        try FileManager.default.createDirectory(at: pickled, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TinyLlamaFixture.adapterDirectory.appendingPathComponent("adapter_config.json"), to: pickled.appendingPathComponent("adapter_config.json"))
        try Data("x".utf8).write(to: pickled.appendingPathComponent("adapter_model.bin"))
        #expect(errorMessage { try model.loadAdapter(from: pickled) }
            == "\(pickled.path)/adapter_model.safetensors: missing (adapter_model.bin is a pickle, which Loom never loads; re-save the adapter with safe_serialization=True)")
    }

    @Test func restoringAnAdapterWritesIntoTheSameTensors() throws {
        let scratch = try ScratchDirectory("loom-restore")
        let model = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try model.loadAdapter(from: TinyLlamaFixture.adapterDirectory)
        try model.saveTrainableState(to: scratch.path("saved"))
        let tensors = model.trainableParameters.map(\.tensor)
        let before = try tensors.map { try $0.clone() }
        try withNoGrad { for tensor in tensors { try tensor.fill(0) } }
        try model.loadTrainableState(from: scratch.path("saved"))
        for (tensor, original) in zip(tensors, before) { #expect(try tensor.equal(original)) }
        let other = try DecoderModel.load(from: TinyLlamaFixture.directory)
        try other.applyLoRA(LoRAConfiguration(rank: 2, targets: [.query]))
        #expect(errorMessage { try other.loadTrainableState(from: scratch.path("saved")) }
            == "\(scratch.path("saved").path)/adapter_config.json: describes another adapter than the attached one (rank, alpha, targets or token ids differ)")
    }
}
