// `loom generate` — continue a prompt with a model (optionally with a PEFT adapter): greedy, or sampled
// with a temperature and nucleus (top-p) filtering from a seed.
import ArgumentParser
import Foundation
import LLM
import Tokenizers
import Torch

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt (greedy or sampled).",
        discussion: """
            The prompt is token ids (--prompt-ids) or text (--prompt, encoded with the model directory's \
            tokenizer, with the special tokens that tokenizer puts first, as transformers' tokenizer(prompt) does: \
            BOS for Llama or Gemma, nothing for SmolLM2 or Qwen; --no-bos leaves them out). Generation stops at the model's eos_token_id or after \
            --max-new tokens. Example:
              loom generate --model models/base --prompt "Once upon a time" --max-new 40 --temperature 0.8 --seed 7
            """)

    @Option(help: "A Hugging Face model directory (config.json + model.safetensors).")
    var model: String
    @Option(help: "A PEFT LoRA adapter directory to apply.")
    var adapter: String?
    @Option(help: "Where the model runs: auto (the first CUDA device when libtorch sees one, else the CPU), cpu, cuda or cuda:N.")
    var device = "auto"
    @Option(help: "Comma-separated prompt token ids, e.g. 1,2,3.")
    var promptIds: String?
    @Option(help: "Prompt text (needs tokenizer.json or tokenizer.model in the model directory).")
    var prompt: String?
    @Flag(help: "With --prompt: do not put the tokenizer's BOS (its template's leading special tokens) first.")
    var noBos = false
    @Option(help: "Most tokens to generate.")
    var maxNew = 32
    @Option(help: "Sampling seed.")
    var seed: UInt64 = 0
    @Option(help: "0 picks the most likely token (greedy); above 0 samples.")
    var temperature = 0.0
    @Option(help: "Sample only from the most likely tokens holding this much probability.")
    var topP = 1.0
    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard (promptIds == nil) != (prompt == nil) else { throw ValidationError("give exactly one of --prompt-ids and --prompt") }
        guard maxNew >= 0 else { throw ValidationError("--max-new must not be negative") }
        guard temperature >= 0 else { throw ValidationError("--temperature must not be negative") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: model)
        let model = try ModelVerbSupport.loadModel(self.model, adapter: adapter, device: device)
        var tokenizer: (any Tokenizer)?
        let promptTokens: [Int]
        if let text = prompt {
            let loaded: any Tokenizer
            do {
                loaded = try TokenizerLoader.load(directory)
            } catch {
                throw VerbError("--prompt needs the model's tokenizer: \(error) (or pass --prompt-ids)")
            }
            tokenizer = loaded
            // The tokenizer says what goes before the text (transformers' `tokenizer(prompt)`): nothing for
            // SmolLM2 or Qwen, BOS for Llama and Gemma.
            promptTokens = noBos ? loaded.encode(text) : loaded.encodePrompt(text)
        } else {
            promptTokens = try ModelVerbSupport.parseIds(promptIds ?? "", option: "--prompt-ids")
        }
        if let outside = promptTokens.first(where: { !(0..<model.config.vocabSize).contains($0) }) {
            throw VerbError("\(prompt == nil ? "--prompt-ids" : "--prompt"): token id \(outside) is outside the model's vocabulary (0..<\(model.config.vocabSize))")
        }
        guard !promptTokens.isEmpty else { throw VerbError("the prompt has no tokens") }
        let options = GenerationOptions(maxNewTokens: maxNew, temperature: temperature, topP: topP, seed: seed)
        let result = try model.generate(prompt: promptTokens, options: options)
        let text = tokenizer.map { $0.decode(result.tokens) }
        if json {
            var object: [String: Any] = ["prompt_ids": promptTokens, "ids": result.tokens, "stop_reason": result.stopReason.rawValue]
            if let text { object["text"] = text }
            try ModelVerbSupport.printJSON(object)
        } else if let text {
            print(text)
        } else {
            print(result.tokens.map(String.init).joined(separator: ","))
        }
    }
}
