// ModelLoadingTests — Hugging Face directories in their variants (single file, sharded with an index,
// bf16/f16 weights) and an error naming the file, the tensor and the expected shape for each broken one.
import Foundation
import LLM
import TestSupport
import Testing
import Torch

@Suite struct ModelLoadingTests {
    /// A copy of the fixture's config.json and the given tensors as model.safetensors.
    private func modelDirectory(_ scratch: ScratchDirectory, _ name: String, tensors: [String: Tensor]) throws -> URL {
        let directory = scratch.path(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TinyLlamaFixture.directory.appendingPathComponent("config.json"), to: directory.appendingPathComponent("config.json"))
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))
        return directory
    }

    private func fixtureTensors() throws -> [String: Tensor] {
        try SafeTensorsFile(url: TinyLlamaFixture.directory.appendingPathComponent("model.safetensors")).tensors()
    }

    private func logits(_ directory: URL) throws -> Tensor {
        try withNoGrad { try DecoderModel.load(from: directory).logits(tokens: TinyLlamaFixture.inputIds()) }
    }

    @Test func shardedCheckpointEqualsSingleFile() throws {
        let scratch = try ScratchDirectory("loom-shards")
        let directory = scratch.path("sharded")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TinyLlamaFixture.directory.appendingPathComponent("config.json"), to: directory.appendingPathComponent("config.json"))
        var shards: [[String: Tensor]] = [[:], [:], [:]]
        var weightMap: [String: String] = [:]
        for (offset, (name, tensor)) in try fixtureTensors().sorted(by: { $0.key < $1.key }).enumerated() {
            shards[offset % 3][name] = tensor
            weightMap[name] = "model-0000\(offset % 3 + 1)-of-00003.safetensors"
        }
        for (index, shard) in shards.enumerated() {
            try SafeTensors.write(shard, to: directory.appendingPathComponent("model-0000\(index + 1)-of-00003.safetensors"))
        }
        let index = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 660_000], "weight_map": weightMap])
        try index.write(to: directory.appendingPathComponent("model.safetensors.index.json"))
        #expect(try logits(directory).equal(logits(TinyLlamaFixture.directory)))
    }

    @Test func halfPrecisionCheckpointsAreUpcast() throws {
        let scratch = try ScratchDirectory("loom-half")
        for dtype in [DType.bfloat16, .float16] {
            let half = try fixtureTensors().mapValues { try $0.to(dtype) }
            let rounded = try half.mapValues { try $0.to(.float32) }
            let halfDirectory = try modelDirectory(scratch, "half-\(dtype)", tensors: half)
            let roundedDirectory = try modelDirectory(scratch, "rounded-\(dtype)", tensors: rounded)
            let model = try DecoderModel.load(from: halfDirectory)
            #expect(model.embedTokens.dtype == .float32)
            #expect(try logits(halfDirectory).equal(logits(roundedDirectory)), "\(dtype)")
        }
    }

    @Test func missingMisshapedAndUnexpectedTensorsAreNamed() throws {
        let scratch = try ScratchDirectory("loom-broken")
        var missing = try fixtureTensors()
        missing["model.layers.1.mlp.up_proj.weight"] = nil
        let missingDirectory = try modelDirectory(scratch, "missing", tensors: missing)
        #expect(errorMessage { _ = try DecoderModel.load(from: missingDirectory) }
            == "\(missingDirectory.path)/model.safetensors: model.layers.1.mlp.up_proj.weight: missing tensor (expected shape [172, 64])")

        var misshaped = try fixtureTensors()
        misshaped["model.layers.0.self_attn.k_proj.weight"] = try Tensor.zeros([32, 64])
        let misshapedDirectory = try modelDirectory(scratch, "misshaped", tensors: misshaped)
        #expect(errorMessage { _ = try DecoderModel.load(from: misshapedDirectory) }
            == "\(misshapedDirectory.path)/model.safetensors: model.layers.0.self_attn.k_proj.weight: has shape [32, 64], expected [64, 64]")

        var extra = try fixtureTensors()
        extra["model.layers.2.mlp.up_proj.weight"] = try Tensor.zeros([2])
        let extraDirectory = try modelDirectory(scratch, "extra", tensors: extra)
        #expect(errorMessage { _ = try DecoderModel.load(from: extraDirectory) }
            == "\(extraDirectory.path)/model.safetensors: model.layers.2.mlp.up_proj.weight: unexpected tensor: not part of the model \(extraDirectory.path)/config.json describes")
    }

    @Test func aDirectoryWithoutSafetensorsIsRefusedAndPickleNamed() throws {
        let scratch = try ScratchDirectory("loom-pickle")
        let directory = scratch.path("model")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TinyLlamaFixture.directory.appendingPathComponent("config.json"), to: directory.appendingPathComponent("config.json"))
        try Data("not read".utf8).write(to: directory.appendingPathComponent("pytorch_model.bin"))
        #expect(errorMessage { _ = try DecoderModel.load(from: directory) }
            == "\(directory.path): holds neither model.safetensors nor model.safetensors.index.json (found pytorch_model.bin: Loom never loads pickle checkpoints; convert them to safetensors first)")
    }

    @Test func anIndexNamingAMissingShardIsNamed() throws {
        let scratch = try ScratchDirectory("loom-index")
        let directory = scratch.path("model")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TinyLlamaFixture.directory.appendingPathComponent("config.json"), to: directory.appendingPathComponent("config.json"))
        try Data(#"{"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors"}}"#.utf8)
            .write(to: directory.appendingPathComponent("model.safetensors.index.json"))
        #expect(errorMessage { _ = try DecoderModel.load(from: directory) }
            == "\(directory.path)/model.safetensors.index.json: weight_map.lm_head.weight: names model-00002-of-00002.safetensors, which does not exist")
        try Data(#"{"metadata": {}}"#.utf8).write(to: directory.appendingPathComponent("model.safetensors.index.json"))
        #expect(errorMessage { _ = try DecoderModel.load(from: directory) }
            == "\(directory.path)/model.safetensors.index.json: weight_map: required key is missing")
    }
}
