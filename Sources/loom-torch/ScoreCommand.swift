// `loom score` — how well a model (optionally with a PEFT adapter) predicts token sequences: mean
// next-token loss, the number of predicted tokens, bits per token and perplexity.
import ArgumentParser
import Foundation
import LLM
import Torch

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score token sequences: loss, bits per token.",
        discussion: """
            FILE holds a JSON array of token-id arrays, each at least 2 ids long; every id after the \
            first of a sequence is predicted from the ids before it. Example:
              loom score --model models/base --adapter runs/lora/adapter --tokens heldout.json --json
            """)

    @Option(help: "A Hugging Face model directory (config.json + model.safetensors).")
    var model: String
    @Option(help: "A PEFT LoRA adapter directory to apply.")
    var adapter: String?
    @Option(help: "Where the model runs: auto (the first CUDA device when libtorch sees one, else the CPU), cpu, cuda or cuda:N.")
    var device = "auto"
    @Option(help: "A JSON file holding an array of token-id arrays.")
    var tokens: String
    @Option(help: "Sequences per forward pass.")
    var batchSize = 8
    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let model = try ModelVerbSupport.loadModel(model, adapter: adapter, device: device)
        let sequences = try ModelVerbSupport.readSequences(tokens, vocabulary: model.config.vocabSize)
        guard batchSize > 0 else { throw VerbError("--batch-size must be positive") }
        let result = try model.score(sequences: sequences, batchSize: batchSize)
        if json {
            try ModelVerbSupport.printJSON([
                "mean_loss": result.meanLoss, "tokens": result.tokens, "sequences": result.sequences,
                "bits_per_token": result.bitsPerToken, "perplexity": result.perplexity,
            ])
        } else {
            print(String(format: "mean loss   %.6f nats/token", result.meanLoss))
            print("tokens      \(result.tokens) predicted, \(result.sequences) sequence\(result.sequences == 1 ? "" : "s")")
            print(String(format: "bits/token  %.4f", result.bitsPerToken))
            print(String(format: "perplexity  %.3f", result.perplexity))
        }
    }
}
