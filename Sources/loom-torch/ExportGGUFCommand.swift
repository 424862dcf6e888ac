// `loom export-gguf` — a model (with a PEFT adapter folded in, when given) as one GGUF file for llama.cpp
// and Ollama: the weights in f16 or q8_0, the hyperparameters, and the tokenizer (the adapter directory's
// when it has one — a `train` output carries the extended tokenizer — else the model's), with BOS/EOS
// added as the tokenizer's post-processor says.
import ArgumentParser
import Foundation
import LLM
import LoomCore
import Tokenizers

struct ExportGGUF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-gguf",
        abstract: "Write a model (and a LoRA adapter folded in) as a GGUF file for llama.cpp or Ollama.",
        discussion: """
            The file is written atomically: it appears complete or not at all. Example:
              loom export-gguf runs/cache/<extend>/ --adapter runs/cache/<train>/ --out demo-core.gguf --type q8_0
            """)

    @Argument(help: "A Hugging Face model directory (config.json, safetensors, tokenizer.json).")
    var model: String
    @Option(help: "A PEFT LoRA adapter directory to fold in.")
    var adapter: String?
    @Option(help: "The GGUF file to write.")
    var out: String
    @Option(help: "Weight encoding: f16 or q8_0 (norms and biases stay f32).")
    var type: GGUFExportType = .f16
    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let output = URL(fileURLWithPath: out).standardizedFileURL
        let parent = output.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: parent.path) else { throw VerbError("\(parent.path): no such directory") }
        let modelDirectory = URL(fileURLWithPath: model)
        let tokenizerDirectory = adapter.map { URL(fileURLWithPath: $0) }
            .flatMap { FileManager.default.fileExists(atPath: $0.appendingPathComponent("tokenizer.json").path) ? $0 : nil } ?? modelDirectory
        let tokenizer: HFTokenizer
        do {
            tokenizer = try TokenizerLoader.loadHF(tokenizerDirectory)
        } catch {
            throw VerbError("\(tokenizerDirectory.path): a GGUF file carries its tokenizer, and this directory's cannot be read: \(error)")
        }
        // The model on the CPU: export reads every weight once, in f32.
        let loaded = try ModelVerbSupport.loadModel(model, adapter: adapter, device: "cpu")
        guard tokenizer.vocabularySize <= loaded.config.vocabSize else {
            throw VerbError("\(tokenizerDirectory.path): the tokenizer has \(tokenizer.vocabularySize) ids, the model \(loaded.config.vocabSize) rows")
        }
        var metadata = try loaded.ggufMetadata(name: modelDirectory.standardizedFileURL.lastPathComponent, type: type)
        let tokenizerMetadata = try tokenizer.ggufMetadata(rows: loaded.config.vocabSize)
        metadata += tokenizerMetadata
        let tensors = try loaded.ggufTensors(type: type)
        try GGUFWriter.write(metadata: metadata, tensors: tensors, to: output)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int) ?? 0
        if json {
            try ModelVerbSupport.printJSON([
                "out": output.path, "type": type.rawValue, "tensors": tensors.count, "bytes": bytes,
                "architecture": loaded.ggufArchitecture, "vocab_size": loaded.config.vocabSize,
            ])
        } else {
            print("wrote \(output.path) (\(loaded.ggufArchitecture), \(type.rawValue), \(tensors.count) tensors, \(bytes / 1_048_576) MiB)")
        }
    }
}

extension GGUFExportType: ExpressibleByArgument {}
