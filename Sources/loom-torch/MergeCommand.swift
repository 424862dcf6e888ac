// `loom merge` — a model directory with a PEFT LoRA adapter folded in (W + s·B·A, the trained token
// rows written into the embedding and head): a plain Hugging Face model any transformers user loads
// without peft. The tokenizer files come from the adapter directory when it has them (a `train` stage
// output does: the extended tokenizer, with its hyperwords.json), else from the model directory.
import ArgumentParser
import Foundation
import LLM
import LoomCore

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Fold a LoRA adapter into its model and write a Hugging Face model directory.",
        discussion: """
            The output directory must not exist yet; it appears complete or not at all. Example:
              loom merge --model runs/cache/<extend>/ --adapter runs/cache/<train>/ --out models/demo-core
            """)

    @Option(help: "The Hugging Face model directory the adapter was trained on.")
    var model: String
    @Option(help: "The PEFT LoRA adapter directory.")
    var adapter: String
    @Option(help: "Where the model runs: auto (the first CUDA device when libtorch sees one, else the CPU), cpu, cuda or cuda:N.")
    var device = "auto"
    @Option(help: "Where to write the merged model (a new directory).")
    var out: String
    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let output = URL(fileURLWithPath: out).standardizedFileURL
        guard !FileManager.default.fileExists(atPath: output.path) else {
            throw VerbError("\(out): already exists (merge writes a new directory)")
        }
        let parent = output.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: parent.path) else { throw VerbError("\(parent.path): no such directory") }
        let adapterDirectory = URL(fileURLWithPath: adapter)
        let merged = try ModelVerbSupport.loadModel(model, adapter: adapter, device: device)
        let staging = parent.appendingPathComponent(".\(output.lastPathComponent).merging-\(getpid())", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        let hasTokenizer = FileManager.default.fileExists(atPath: adapterDirectory.appendingPathComponent("tokenizer.json").path)
        try merged.saveModel(to: staging, mergeAdapter: true, companionsFrom: hasTokenizer ? adapterDirectory : nil)
        try FileManager.default.moveItem(at: staging, to: output)
        if json {
            try ModelVerbSupport.printJSON(["out": output.path, "vocab_size": merged.config.vocabSize, "parameters": merged.parameterCount])
        } else {
            print("wrote \(output.path) (\(merged.parameterCount) parameters, vocabulary \(merged.config.vocabSize))")
        }
    }
}
