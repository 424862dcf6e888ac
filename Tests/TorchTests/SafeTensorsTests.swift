// SafeTensorsTests — writing and reading safetensors files: round trips of every dtype with metadata,
// Hugging Face's exact byte layout, the real tiny-llama fixture checked against the statistics
// transformers recorded, upcasting half precision, and atomic replacement.
import Foundation
import Testing
import TestSupport
import Torch

@Test func roundTripKeepsEveryTensorAndTheMetadata() throws {
    let scratch = try ScratchDirectory()
    let url = scratch.path("mixed.safetensors")
    let tensors: [String: Tensor] = try [
        "weight": Tensor.randn([3, 4], generator: Generator(seed: 1)),
        "half": Tensor([Float(1), -2, 0.5]).to(.bfloat16),
        "f16": Tensor([Float(0.25)]).to(.float16),
        "ids": Tensor([Int64(7), -1]),
        "mask": Tensor([true, false]),
        "codes": Tensor([UInt8(0x3A)]),
        "wide": Tensor([1.0, 2.0]),
        "empty": Tensor.zeros([0, 4]),
        "transposed": Tensor.arange(6, dtype: .float32).reshape([2, 3]).transpose(0, 1),
    ]
    try SafeTensors.write(tensors, metadata: ["format": "pt", "note": "quote \" and\nnewline"], to: url)

    let file = try SafeTensorsFile(url: url)
    #expect(file.names == tensors.keys.sorted())
    #expect(file.metadata == ["format": "pt", "note": "quote \" and\nnewline"])
    for (name, tensor) in tensors {
        let info = try file.info(name)
        #expect(info.dtype == tensor.dtype && info.shape == tensor.shape, "\(name)")
        // Every tensor starts at a multiple of its element size (the data section starts 8-aligned).
        #expect(info.dataOffsets.lowerBound % tensor.dtype.elementSize == 0, "\(name)")
        let loaded = try file.tensor(name)
        #expect(try loaded.equal(tensor), "\(name)")
    }
    #expect(try file.tensor("transposed").toArray(Float.self) == [0, 3, 1, 4, 2, 5])
}

@Test func headerIsPaddedToEightBytesAndLaidOutLikeHuggingFace() throws {
    let scratch = try ScratchDirectory()
    let url = scratch.path("layout.safetensors")
    try SafeTensors.write(["b": Tensor([Float(1)]), "a": Tensor([Int64(2)]), "c": Tensor([UInt8(3)])], to: url)
    let bytes = try Data(contentsOf: url)
    let headerLength = bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    #expect(headerLength % 8 == 0)
    let header = String(decoding: bytes[8..<(8 + Int(headerLength))], as: UTF8.self)
    // Larger elements first (alignment), then by name; compact JSON; trailing spaces as padding.
    #expect(header.trimmingCharacters(in: .whitespaces) == """
        {"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"c":{"dtype":"U8","shape":[1],"data_offsets":[12,13]}}
        """)
    #expect(bytes.count == 8 + Int(headerLength) + 13)
}

@Test func rewritingTheHuggingFaceFixtureReproducesItByteForByte() throws {
    let original = TestPaths.fixture("tiny-llama-a/model.safetensors")
    let file = try SafeTensorsFile(url: original)
    let scratch = try ScratchDirectory()
    let copy = scratch.path("model.safetensors")
    try SafeTensors.write(file.tensors(), metadata: file.metadata, to: copy)
    #expect(try Data(contentsOf: copy) == Data(contentsOf: original))
}

@Test func tinyLlamaFixtureReadsWithTheShapesOfItsConfig() throws {
    let file = try SafeTensorsFile(url: TestPaths.fixture("tiny-llama-a/model.safetensors"))
    #expect(file.metadata == ["format": "pt"])
    #expect(file.names.count == 2 + 2 * 9 + 1)
    #expect(try file.info("model.embed_tokens.weight").shape == [512, 64])
    #expect(try file.info("lm_head.weight").shape == [512, 64])
    #expect(try file.info("model.layers.1.mlp.down_proj.weight").shape == [64, 172])
    #expect(try file.info("model.layers.0.self_attn.q_proj.weight").dtype == .float32)
    #expect(try file.info("model.norm.weight").shape == [64])
    let missing = errorMessage { _ = try file.tensor("model.layers.9.mlp.up_proj.weight") }
    #expect(missing?.hasSuffix("model.safetensors: tensor 'model.layers.9.mlp.up_proj.weight': no such tensor (the file has 21)") == true)
}

/// tiny-llama-a's reference.json: what transformers and PEFT recorded when scripts/make-fixtures.py made the fixture.
private func tinyLlamaReference() throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.fixture("tiny-llama-a/reference.json"))) as! [String: Any]
}

@Test func fixtureLogitsMatchTheStatisticsTransformersRecorded() throws {
    // reference.json: the logits' float64 sum, abs max and l2, and the loss (mean cross-entropy of
    // logits[:, :-1] against input_ids[:, 1:]).
    let reference = try tinyLlamaReference()
    let statistics = try #require(reference["logits"] as? [String: Any])
    let logits = try SafeTensorsFile(url: TestPaths.fixture("tiny-llama-a/logits.safetensors")).tensor("logits")
    #expect(logits.shape == [2, 17, 512])
    #expect(abs(try logits.to(.float64).sum().scalar(Double.self) - (statistics["sum"] as! Double)) < 1e-9)
    #expect(try logits.abs().amax().scalar(Float.self) == Float(statistics["abs_max"] as! Double))
    #expect(abs(try logits.to(.float64).norm().scalar(Double.self) - (statistics["l2"] as! Double)) < 1e-9)

    let ids = try JSONDecoder().decode([[Int64]].self, from: Data(contentsOf: TestPaths.fixture("tiny-llama-a/input_ids.json")))
    let inputIDs = try Tensor(ids.flatMap { $0 }, shape: [2, 17])
    let predictions = try logits.narrow(dim: 1, start: 0, length: 16).reshape([-1, 512])
    let targets = try inputIDs.narrow(dim: 1, start: 1, length: 16).reshape([-1])
    let loss = try predictions.crossEntropy(targets: targets).scalar(Double.self)
    #expect(abs(loss - (reference["loss"] as! Double)) < 1e-5)
}

@Test func fixtureLoraGradientsHaveTheRecordedGlobalNorm() throws {
    // reference.json: lora_grad_global_l2 over every tensor of lora_grads.safetensors.
    let expected = try #require(tinyLlamaReference()["lora_grad_global_l2"] as? Double)
    let grads = try SafeTensorsFile(url: TestPaths.fixture("tiny-llama-a/lora_grads.safetensors")).tensors()
    #expect(grads.count == 2 * 7 * 2)
    let parameters = try grads.values.map { grad in
        let parameter = try grad.zerosLike().setRequiresGrad()
        try parameter.setGrad(grad)
        return parameter
    }
    #expect(abs(try Gradients.totalNorm(parameters) - expected) < 1e-5)
}

@Test func halfPrecisionUpcastsToFloat32OnRequest() throws {
    let scratch = try ScratchDirectory()
    let url = scratch.path("half.safetensors")
    try SafeTensors.write(["b": Tensor([Float(1.5), -3]).to(.bfloat16), "h": Tensor([Float(0.5)]).to(.float16),
                           "i": Tensor([Int64(4)])], to: url)
    let file = try SafeTensorsFile(url: url)
    #expect(try file.tensor("b").dtype == .bfloat16)
    let upcast = try file.tensors(upcastHalf: true)
    #expect(upcast["b"]?.dtype == .float32 && upcast["h"]?.dtype == .float32 && upcast["i"]?.dtype == .int64)
    #expect(try upcast["b"]!.toArray(Float.self) == [1.5, -3])
    #expect(try file.tensor("i", as: .float64).toArray(Double.self) == [4])
}

@Test func aFailedWriteLeavesTheOldFileInPlace() throws {
    let scratch = try ScratchDirectory()
    let url = scratch.path("keep.safetensors")
    try SafeTensors.write(["w": Tensor([Float(1)])], to: url)
    let before = try Data(contentsOf: url)
    let message = errorMessage { try SafeTensors.write(["__metadata__": Tensor([Float(2)])], to: url) }
    #expect(message == "\(url.path): tensor '__metadata__': the name is reserved for metadata")
    let missingDirectory = scratch.path("no/such/dir/x.safetensors")
    let directoryMessage = errorMessage { try SafeTensors.write(["w": Tensor([Float(1)])], to: missingDirectory) }
    #expect(directoryMessage?.hasPrefix("\(missingDirectory.path): ") == true)
    #expect(try Data(contentsOf: url) == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["keep.safetensors"])
}
