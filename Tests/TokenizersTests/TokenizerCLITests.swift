// TokenizerCLITests — the tokenizer verbs of the built `loom` executable: tokenize (table and
// JSON), tokenizer train / convert / stats / extend, and the errors a user sees.
import Foundation
import TestSupport
import Testing
@testable import Tokenizers

@Suite struct TokenizerCLITests {
    static let loom = TestPaths.executable("loom")
    static let llama3 = TestPaths.fixture("tokenizers/bytelevel-llama3/tokenizer.json").path
    static let llama2 = TestPaths.fixture("tokenizers/spm-llama2/tokenizer.json").path

    static func run(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(loom, arguments)
    }

    static func writeTexts(_ scratch: ScratchDirectory, _ name: String, _ texts: [String]) throws -> String {
        let url = scratch.path(name)
        try texts.joined(separator: "\n\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func tokenizePrintsIdsAndTokensAsJSON() throws {
        let scratch = try ScratchDirectory("cli-tokenize")
        let row = try FixtureRows.expected("bytelevel-llama3").first { $0.text == "Привет, мир!" }!
        let input = scratch.path("in.txt")
        try row.text.write(to: input, atomically: true, encoding: .utf8)
        let result = try Self.run(["tokenize", "--tokenizer", Self.llama3, "--input", input.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let document = try OrderedJSON.parse(Data(result.stdout.utf8))
        #expect(document["ids"] == .array(row.ids.map { .int($0) }))
        #expect(document["tokens"] == .array(row.tokens.map { .string($0) }))

        // --special-tokens: what transformers' tokenizer(text) gives — Llama-3's template puts <|begin_of_text|> first.
        let special = try Self.run(["tokenize", "--tokenizer", Self.llama3, "--input", input.path, "--json", "--special-tokens"])
        #expect(special.status == 0, "\(special.stderr)")
        #expect(try OrderedJSON.parse(Data(special.stdout.utf8))["ids"] == .array(([4000] + row.ids).map { .int($0) }))

        let table = try Self.run(["tokenize", "--tokenizer", Self.llama3, "--input", input.path])
        #expect(table.stdout.hasPrefix("\(row.ids.count) tokens, \(row.text.utf8.count) bytes"))
        #expect(table.stdout.contains(row.tokens[0]))
    }

    @Test func tokenizeReadsStandardInputAndPipes() throws {
        let scratch = try ScratchDirectory("cli-tokenize-stdin")
        let row = try FixtureRows.expected("bytelevel-llama3").first { $0.text == "Привет, мир!" }!
        let expected = OrderedJSON.array(row.ids.map { .int($0) })
        let stdin = try runProcess(Self.loom, ["tokenize", "--tokenizer", Self.llama3, "--input", "-", "--json"], standardInput: Data(row.text.utf8))
        #expect(stdin.status == 0, "\(stdin.stderr)")
        #expect(try OrderedJSON.parse(Data(stdin.stdout.utf8))["ids"] == expected)
        // A FIFO, as bash's <(…) hands one over: it has no size and cannot be mapped.
        let fifo = scratch.path("scene.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let text = row.text
        Thread.detachNewThread {
            guard let handle = FileHandle(forWritingAtPath: fifo) else { return }
            handle.write(Data(text.utf8))
            try? handle.close()
        }
        let piped = try Self.run(["tokenize", "--tokenizer", Self.llama3, "--input", fifo, "--json"])
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(try OrderedJSON.parse(Data(piped.stdout.utf8))["ids"] == expected)
        let badStdin = try runProcess(Self.loom, ["tokenize", "--tokenizer", Self.llama3, "--input", "-"], standardInput: Data([0x63, 0xE9, 0x0A]))
        #expect(badStdin.status == 1)
        #expect(badStdin.stderr == "loom: standard input: not valid UTF-8 (byte 0xE9 at offset 1)\n", "\(badStdin.stderr)")
    }

    @Test func tokenizeNamesTheBrokenField() throws {
        let scratch = try ScratchDirectory("cli-broken")
        let document = try TokenizerErrorTests.replacing(["model", "type"], in: try TokenizerErrorTests.fixtureDocument(), with: .string("Unigram"))
        let file = scratch.path("tokenizer.json")
        try Data(document.serialized().utf8).write(to: file)
        try "x".write(to: scratch.path("in.txt"), atomically: true, encoding: .utf8)
        let result = try Self.run(["tokenize", "--tokenizer", file.path, "--input", scratch.path("in.txt").path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(file.path): model.type: \"Unigram\" is not supported (expected BPE)"))
        let missing = try Self.run(["tokenize", "--tokenizer", Self.llama3, "--input", scratch.path("absent.txt").path])
        #expect(missing.status != 0 && missing.stderr.contains("absent.txt: cannot read"))
    }

    @Test func unreadableAndNonUTF8InputsAreOneCleanLine() throws {
        let scratch = try ScratchDirectory("cli-input-errors")
        let absent = scratch.path("absent.txt").path
        let missing = try Self.run(["tokenize", "--tokenizer", Self.llama3, "--input", absent])
        #expect(missing.status == 1)
        #expect(missing.stderr == "loom: \(absent): cannot read: No such file or directory\n", "\(missing.stderr)")
        let latin1 = scratch.path("latin1.txt")
        try Data([0x63, 0x61, 0x66, 0xE9, 0x0A]).write(to: latin1)
        let notUTF8 = try Self.run(["tokenize", "--tokenizer", Self.llama3, "--input", latin1.path])
        #expect(notUTF8.status == 1)
        #expect(notUTF8.stderr == "loom: \(latin1.path): not valid UTF-8 (byte 0xE9 at offset 3)\n", "\(notUTF8.stderr)")
    }

    @Test func aDirectoryGivenAsTextIsNamedAsOne() throws {
        let scratch = try ScratchDirectory("cli-input-directory")
        let directory = scratch.path("books").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let tokenize = try Self.run(["tokenize", "--tokenizer", Self.llama3, "--input", directory])
        #expect(tokenize.status == 1)
        #expect(tokenize.stderr == "loom: \(directory): is a directory, not a text file\n", "\(tokenize.stderr)")
        let train = try Self.run(["tokenizer", "train", "--input", directory, "--output", scratch.path("out").path, "--vocab-size", "300"])
        #expect(train.status == 1)
        #expect(train.stderr == "loom: \(directory): training input is a directory, not a text file\n", "\(train.stderr)")
    }

    @Test func anOutputThatIsAFileIsRefusedBeforeAnyWork() throws {
        let scratch = try ScratchDirectory("cli-output-file")
        let corpus = try SentencePieceTrainerTests.writeCorpus(scratch)
        let file = scratch.path("taken")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        let train = try Self.run(["tokenizer", "train", "--input", corpus.path, "--output", file.path, "--vocab-size", "1200"])
        #expect(train.status == 1)
        #expect(train.stderr == "loom: cannot write to \(file.path): it is a file, not a directory\n", "\(train.stderr)")
        let training = try Self.writeTexts(scratch, "train.txt", Array(HyperwordFixtures.trainingTexts.prefix(50)))
        let extend = try Self.run(["tokenizer", "extend", "--tokenizer", Self.llama2, "--input", training, "--output", file.path, "--count", "5"])
        #expect(extend.status == 1)
        #expect(extend.stderr == "loom: cannot write to \(file.path): it is a file, not a directory\n", "\(extend.stderr)")
        #expect(try String(contentsOf: file, encoding: .utf8) == "x")
    }

    @Test func rankingBySurprisalIsLeftToRecipes() throws {
        // `--rank surprisal` needs a base model, which `tokenizer extend` does not load.
        let scratch = try ScratchDirectory("cli-rank")
        let training = try Self.writeTexts(scratch, "train.txt", ["и в том"])
        let rank = try Self.run(["tokenizer", "extend", "--tokenizer", Self.llama2, "--input", training, "--output",
                                 scratch.path("out").path, "--rank", "surprisal"])
        #expect(rank.status == 64, "\(rank.stderr)")
        #expect(rank.stderr.hasPrefix("Error: The value 'surprisal' is invalid for '--rank <rank>'. Please provide one of 'tokens' and 'bytes'."), "\(rank.stderr)")
    }

    @Test func negativeCountsAreUsageErrorsNotCrashes() throws {
        let scratch = try ScratchDirectory("cli-negative")
        let training = try Self.writeTexts(scratch, "train.txt", Array(HyperwordFixtures.trainingTexts.prefix(50)))
        // --show -1 used to pass validation and crash after learning (a negative prefix length).
        let show = try Self.run(["tokenizer", "extend", "--tokenizer", Self.llama2, "--input", training, "--output",
                                 scratch.path("out").path, "--count", "5", "--show=-1"])
        #expect(show.status == 64, "\(show.stderr)")
        #expect(show.stderr.hasPrefix("Error: --show must be at least 0, got -1\n"), "\(show.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out").path))
        let sample = try Self.run(["tokenizer", "train", "--input", training, "--output", scratch.path("out").path,
                                   "--vocab-size", "300", "--sample-sentences=-5"])
        #expect(sample.status == 1, "\(sample.stderr)")
        #expect(sample.stderr == "loom: sampled sentences must be at least 0 (0: use all), got -5\n", "\(sample.stderr)")
    }

    @Test func trainingOnAnEmptyFileSaysSo() throws {
        let scratch = try ScratchDirectory("cli-train-empty")
        let empty = scratch.path("empty.txt")
        try Data().write(to: empty)
        let result = try Self.run(["tokenizer", "train", "--input", empty.path, "--output", scratch.path("out").path, "--vocab-size", "100"])
        #expect(result.status == 1)
        #expect(result.stderr == "loom: no training sentences: the input files hold no non-empty lines (\(empty.path))\n", "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out").path), "a failed training leaves no empty output directory")
    }

    @Test func jsonOutputEndsWithANewline() throws {
        let scratch = try ScratchDirectory("cli-json-newline")
        let input = scratch.path("in.txt")
        try "Привет".write(to: input, atomically: true, encoding: .utf8)
        let tokens = try Self.run(["tokenize", "--tokenizer", Self.llama3, "--input", input.path, "--json"])
        #expect(tokens.status == 0 && tokens.stdout.hasSuffix("]}\n"), "\(tokens.stdout)")
        let corpus = try SentencePieceTrainerTests.writeCorpus(scratch)
        let trained = try Self.run(["tokenizer", "train", "--input", corpus.path, "--output", scratch.path("m").path, "--vocab-size", "1200", "--json"])
        #expect(trained.status == 0 && trained.stdout.hasSuffix("}\n"), "\(trained.stdout)")
    }

    @Test func trainConvertAndStats() throws {
        let scratch = try ScratchDirectory("cli-train")
        let corpus = try SentencePieceTrainerTests.writeCorpus(scratch)
        let output = scratch.path("base")
        let trained = try Self.run(["tokenizer", "train", "--input", corpus.path, "--output", output.path, "--vocab-size", "1200", "--json"])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("tokenizer.model").path))
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("tokenizer.json").path))
        #expect(try OrderedJSON.parse(Data(trained.stdout.utf8))["vocabulary_size"] == .int(1200))

        let converted = scratch.path("converted.json")
        let convert = try Self.run([
            "tokenizer", "convert", "--model", output.appendingPathComponent("tokenizer.model").path, "--output", converted.path,
        ])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(try Data(contentsOf: converted) == Data(contentsOf: output.appendingPathComponent("tokenizer.json")))

        let stats = try Self.run(["tokenizer", "stats", "--tokenizer", output.path, "--input", corpus.path, "--unit", "line", "--json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let measures = try JSONDecoder().decode(TokenizationStats.self, from: Data(stats.stdout.utf8))
        #expect(measures.vocabularySize == 1200 && measures.tokens > 0 && measures.bytesPerToken > 1)
        #expect(measures.texts == (try FixtureRows.cases()).filter { !$0.isEmpty }.count * 2)
        let human = try Self.run(["tokenizer", "stats", "--tokenizer", output.appendingPathComponent("tokenizer.model").path, "--input", corpus.path])
        #expect(human.stdout.contains("bytes/token") && human.stdout.contains("MB/s"))
    }

    @Test func extendWritesALoadableTokenizerAndReport() throws {
        let scratch = try ScratchDirectory("cli-extend")
        let training = try Self.writeTexts(scratch, "train.txt", Array(HyperwordFixtures.trainingTexts.prefix(1500)))
        let heldOut = try Self.writeTexts(scratch, "heldout.txt", HyperwordFixtures.heldOutTexts)
        let output = scratch.path("extended")
        let result = try Self.run([
            "tokenizer", "extend", "--tokenizer", Self.llama2, "--input", training, "--output", output.path, "--count", "150", "--min-count", "4",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("learned") && result.stdout.contains("top pieces by tokens saved:"))
        // stderr is a pipe here: progress comes as plain lines, without terminal control sequences.
        #expect(!result.stderr.contains("\u{1B}") && !result.stderr.contains("\r"), "\(result.stderr.debugDescription)")
        #expect(result.stderr.contains("learning"), "\(result.stderr)")
        let extended = try ExtendedTokenizer(contentsOf: output)
        #expect(extended.newTokens.count > 50)
        #expect(extended.training?.options.minCount == 4)

        let compare = try Self.run(["tokenizer", "stats", "--tokenizer", output.path, "--base", Self.llama2, "--input", heldOut, "--json"])
        #expect(compare.status == 0, "\(compare.stderr)")
        let comparison = try JSONDecoder().decode(TokenizerComparison.self, from: Data(compare.stdout.utf8))
        #expect(comparison.tokensSaved > 0 && comparison.newTokensUsed > 0)

        let refused = try Self.run([
            "tokenizer", "extend", "--tokenizer", Self.llama2, "--input", training, "--output", scratch.path("again").path, "--count", "10",
            "--max-words", "1",
        ])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("max words per piece must be at least 2, got 1"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("again").path))
    }
}
