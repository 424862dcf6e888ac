// TokenizerExtendCommand — `loom tokenizer extend`: learn hyperwords on text files on top of a base
// tokenizer and write the extended tokenizer (tokenizer.json + hyperwords.json).
import ArgumentParser
import Foundation
import Tokenizers

struct TokenizerExtendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extend",
        abstract: "Learn hyperwords (multi-word tokens) and write the extended tokenizer.",
        discussion: """
            Writes OUTPUT/tokenizer.json (loads in Hugging Face tokenizers and encodes as Loom does) and \
            OUTPUT/hyperwords.json (new ids, their base decompositions, counts). Example:
              loom tokenizer extend --tokenizer models/base --input train.txt --output models/extended --count 2000
            """)

    @Option(help: "The base tokenizer: tokenizer.json, SentencePiece BPE .model, or a directory holding one.")
    var tokenizer: String

    @OptionGroup var input: TextInputOptions

    @Option(help: "Directory to write tokenizer.json and hyperwords.json into.")
    var output: String

    @Option(help: "New tokens to learn.")
    var count: Int

    @Option(help: "Least occurrences of a new token in the training text.")
    var minCount: Int = 8

    @Option(help: "Most words one new token may span.")
    var maxWords: Int = 4

    @Option(help: "Rank candidates by tokens saved (tokens) or by bytes covered (bytes).")
    var rank: HyperwordOptions.Ranking = .tokensSaved

    @Flag(inversion: .prefixedNo, help: "Allow two-token words to become one token that hyperwords build on.")
    var wordCompletions = true

    @Option(help: "How many of the top pieces to list.")
    var show: Int = 20

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard show >= 0 else { throw ValidationError("--show must be at least 0, got \(show)") }
    }

    func run() throws {
        try Output.guarded(extend)
    }

    private func extend() throws {
        try Output.checkOutputDirectory(output)
        let base = try TokenizerLoader.loadHF(URL(fileURLWithPath: tokenizer))
        var options = HyperwordOptions(targetCount: count)
        options.minCount = minCount
        options.maxWordsPerPiece = maxWords
        options.ranking = rank
        options.wordCompletions = wordCompletions
        let texts = try input.texts()
        let progressLine = ProgressLine()
        let extended = try Hyperwords.learn(base: base, texts: texts, options: options) { progress in
            switch progress {
            case .segmenting(let done, let total):
                progressLine.show("segmenting \(done)/\(total) texts", phase: "segmenting")
            case .learning(let tokens, let target, let latest):
                progressLine.show("learning \(tokens)/\(target) tokens (latest seen \(latest) times)", phase: "learning")
            case .verifying(let round):
                progressLine.show("checking every new token on the training text (round \(round))", phase: "verifying \(round)")
            }
        }
        progressLine.clear()
        try extended.save(to: URL(fileURLWithPath: output))
        guard let training = extended.training else { return }
        if json {
            struct Report: Encodable {
                let output: String
                let training: HyperwordTraining
                let tokens: [HyperwordToken]
            }
            return try printJSON(Report(output: output, training: training, tokens: extended.newTokens))
        }
        let multiWord = extended.newTokens.filter { $0.words >= 2 }.count
        print("learned \(extended.newTokens.count) tokens (\(multiWord) span several words; \(training.pruned) dropped as unused) in \(String(format: "%.1f", training.learningSeconds)) s")
        print(String(format: "training text: %d → %d tokens (%.1f%% fewer)", training.baseTokens, training.extendedTokens,
            100 * Double(training.baseTokens - training.extendedTokens) / Double(max(training.baseTokens, 1))))
        print("wrote \(output)/tokenizer.json and \(output)/hyperwords.json")
        print("top pieces by tokens saved:")
        for token in extended.newTokens.sorted(by: { $0.tokensSaved > $1.tokensSaved }).prefix(show) {
            print("  \(token.text.debugDescription)  count \(token.count)  replaces \(token.baseTokens) base tokens")
        }
    }
}

/// `--rank` takes the frequency rankings only: `surprisal` needs a base model, which this command does not
/// load (a recipe's `hyperwords` stage after a `pretrain-base` stage ranks by it).
extension HyperwordOptions.Ranking: ExpressibleByArgument {
    public init?(argument: String) {
        guard argument != Self.surprisal.rawValue else { return nil }
        self.init(rawValue: argument)
    }

    public static var allValueStrings: [String] { [Self.tokensSaved.rawValue, Self.bytes.rawValue] }
}
