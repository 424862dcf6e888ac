// `loom import-gguf` — a llama.cpp GGUF file as a Hugging Face model directory Loom (and transformers)
// load: config.json, model.safetensors (f32, dequantised) and the tokenizer rebuilt from the file
// (tokenizer.json, tokenizer_config.json). The directory appears complete or not at all.
import ArgumentParser
import Foundation
import LLM
import LoomCore
import Tokenizers
import Torch

struct ImportGGUF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-gguf",
        abstract: "Write a GGUF file (llama, qwen2; F32/F16/BF16/Q8_0/Q4_0/Q4_1/Q4_K/Q5_K/Q6_K) as a Hugging Face model directory.",
        discussion: """
            The weights are dequantised to f32 (a 4-bit file's model is its dequantised 4-bit weights). Example:
              loom import-gguf SmolLM2-135M-Instruct.Q4_1.gguf --out models/smollm2
            """)

    @Argument(help: "The GGUF file.") var file: String
    @Option(help: "The model directory to write (a new directory).") var out: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let output = URL(fileURLWithPath: out).standardizedFileURL
        guard !FileManager.default.fileExists(atPath: output.path) else { throw VerbError("\(out): already exists (import-gguf writes a new directory)") }
        let parent = output.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: parent.path) else { throw VerbError("\(parent.path): no such directory") }
        let reader: GGUFReader
        let model: (config: ModelConfig, tensors: [String: Tensor])
        let tokenizer: (tokenizer: OrderedJSON, config: OrderedJSON)
        do {
            reader = try GGUFReader(contentsOf: URL(fileURLWithPath: file))
            tokenizer = try GGUFTokenizerImport.files(from: reader)
            model = try GGUFImport.model(reader)
        } catch let error as GGUFFileError {
            throw VerbError(error.description)
        }
        let staging = parent.appendingPathComponent(".\(output.lastPathComponent).importing-\(getpid())", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        try SafeTensors.write(model.tensors, metadata: ["format": "pt"], to: staging.appendingPathComponent("model.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(model.config), to: staging.appendingPathComponent("config.json"))
        try AtomicFile.write(tokenizer.tokenizer.serialized(), to: staging.appendingPathComponent("tokenizer.json"))
        try AtomicFile.write(tokenizer.config.serialized(), to: staging.appendingPathComponent("tokenizer_config.json"))
        try FileManager.default.moveItem(at: staging, to: output)
        let parameters = model.tensors.values.reduce(0) { $0 + $1.count }
        if json {
            try ModelVerbSupport.printJSON([
                "out": output.path, "architecture": reader["general.architecture"]?.stringValue ?? "", "tensors": model.tensors.count,
                "parameters": parameters, "vocab_size": model.config.vocabSize,
            ])
        } else {
            print("wrote \(output.path) (\(model.config.modelType), \(parameters) parameters, vocabulary \(model.config.vocabSize))")
        }
    }
}
