// GGUFKQuantImportTests — `loom import-gguf` on Tests/Fixtures/tiny-gguf-kquants (make-fixtures.py's
// tiny-gguf-kquants: a tiny tied Llama written with llama.cpp's own Python writer whose three down projections
// are Q4_K, Q5_K and Q6_K super-blocks of random bytes, with the SentencePiece vocabulary of the spm-llama2
// tokenizer fixture as convert_hf_to_gguf.py writes Llama-2's): each K-quant tensor against gguf-py's own
// dequantisation (1e-6; the script checked transformers' loader holds the same values), the logits and loss
// against transformers' GGUF loader, the tokenizer's ids against `AutoTokenizer.from_pretrained(dir,
// gguf_file=…)` on all 361 tokenizer cases (exactly), and the errors a bad K-quant tensor or vocabulary gets, naming it.
import Foundation
import LLM
import LoomCore
import TestSupport
import Testing
import Tokenizers
import Torch

@Suite struct GGUFKQuantImportTests {
    private let loom = TestPaths.executable("loom")
    // Every line of cases.txt: the last ones put <s>, </s> and <unk> inside text, where Metaspace prepends "▁"
    // to the text's first piece only.
    private let fixture = GGUFFixture("tiny-gguf-kquants", cases: 361)

    @Test func everyKQuantTensorIsWhatGGUFPyDequantises() throws {
        let reader = try GGUFReader(contentsOf: fixture.file)
        let types = Dictionary(uniqueKeysWithValues: reader.tensors.map { ($0.name, $0.type) })
        #expect((0..<3).map { types["blk.\($0).ffn_down.weight"] } == [12, 13, 14], "Q4_K, Q5_K, Q6_K")
        let expected = try SafeTensorsFile(url: fixture.directory.appendingPathComponent("kquants.safetensors"))
        // Through the library, and through the binary's model.safetensors.
        let scratch = try ScratchDirectory("loom-gguf-kquants")
        let imported = try SafeTensorsFile(url: try fixture.importModel(scratch).appendingPathComponent("model.safetensors"))
        for layer in 0..<3 {
            let name = "blk.\(layer).ffn_down.weight"
            let reference = try expected.tensor(name)
            let info = try #require(reader.tensors.first { $0.name == name })
            let direct = try GGUFDequantize.tensor(info, from: reader)
            let written = try imported.tensor("model.layers.\(layer).mlp.down_proj.weight")
            #expect(direct.shape == [32, 256] && written.shape == [32, 256])
            #expect(try maxAbsDifference(direct, reference) <= 1e-6, "\(name)")
            #expect(try maxAbsDifference(written, reference) <= 1e-6, "\(name)")
        }
    }

    @Test func theModelComputesWhatTransformersLoadsFromTheFile() throws {
        let scratch = try ScratchDirectory("loom-gguf-kquants-model")
        let model = try DecoderModel.load(from: try fixture.importModel(scratch))
        #expect(model.config.vocabSize == 3000 && model.config.tieWordEmbeddings && model.config.numHiddenLayers == 3)
        try fixture.expectTransformersLogits(model)
    }

    @Test func theSentencePieceVocabularyGivesTransformersIds() throws {
        let scratch = try ScratchDirectory("loom-gguf-kquants-tokenizer")
        let directory = try fixture.importModel(scratch)
        try fixture.expectTransformersIds(try TokenizerLoader.load(directory))
        let document = try OrderedJSON.parse(Data(contentsOf: directory.appendingPathComponent("tokenizer.json")))
        #expect(document["model"]?["byte_fallback"] == .bool(true) && document["pre_tokenizer"]?["type"] == .string("Metaspace"))
        #expect(document["model"]?["vocab"]?["<0x0A>"] == .int(13), "byte pieces kept as written")
    }

    /// The fixture with `edit` applied to the bytes of its header, written to `scratch`/`name`.
    private func patchedFile(_ scratch: ScratchDirectory, _ name: String, _ edit: (inout Data) throws -> Void) throws -> URL {
        var data = try Data(contentsOf: fixture.file)
        try edit(&data)
        let url = scratch.path(name)
        try data.write(to: url)
        return url
    }

    /// Where the tensor info of `tensor` begins its dimension count (after its name).
    private func tensorInfo(_ data: Data, _ tensor: String) throws -> Int {
        let range = try #require(data.range(of: Data(tensor.utf8)), "\(tensor) in the header")
        return range.upperBound
    }

    private func importFails(_ file: URL, _ scratch: ScratchDirectory, out: String) throws -> String {
        let result = try runProcess(loom, ["import-gguf", file.path, "--out", scratch.path(out).path])
        #expect(result.status != 0)
        #expect(!FileManager.default.fileExists(atPath: scratch.path(out).path))
        return result.stderr
    }

    @Test func badKQuantTensorsAndVocabulariesAreNamed() throws {
        let scratch = try ScratchDirectory("loom-gguf-kquants-errors")
        // The file ends inside blk.2.ffn_down.weight's Q6_K blocks.
        let truncated = try patchedFile(scratch, "truncated.gguf") { $0 = $0.prefix($0.count - 100) }
        let cut = try importFails(truncated, scratch, out: "a")
        #expect(cut.contains("\(truncated.path): tensor blk.2.ffn_down.weight: its 6720 bytes (32 Q6_K blocks of 210)")
                    && cut.contains("run past the end of the file"), "\(cut)")
        // Rows of 255 values: not whole super-blocks of 256.
        let rows = try patchedFile(scratch, "rows.gguf") { data in
            let at = try tensorInfo(data, "blk.0.ffn_down.weight")
            data.replaceSubrange((at + 4)..<(at + 12), with: withUnsafeBytes(of: UInt64(255).littleEndian) { Data($0) })
        }
        let short = try importFails(rows, scratch, out: "b")
        #expect(short.contains("\(rows.path): tensor blk.0.ffn_down.weight: Q4_K stores each row as whole blocks of 256 values, "
                                + "but its rows (the innermost dimension of shape [32, 255]) hold 255"), "\(short)")
        // A K type Loom does not decode (Q3_K, type 11) is refused by name.
        let q3 = try patchedFile(scratch, "q3k.gguf") { data in
            let at = try tensorInfo(data, "blk.1.ffn_down.weight")
            data.replaceSubrange((at + 20)..<(at + 24), with: withUnsafeBytes(of: UInt32(11).littleEndian) { Data($0) })
        }
        let refused = try importFails(q3, scratch, out: "c")
        #expect(refused.contains("\(q3.path): tensor blk.1.ffn_down.weight: Q3_K (type 11) is not supported (F32, F16, BF16, "), "\(refused)")
        // A SentencePiece vocabulary with neither merges nor scores (the key renamed in place).
        let noScores = try patchedFile(scratch, "scores.gguf") { data in
            let range = try #require(data.range(of: Data("tokenizer.ggml.scores".utf8)))
            data.replaceSubrange(range, with: Data("tokenizer.ggml.scorez".utf8))
        }
        let missing = try importFails(noScores, scratch, out: "d")
        #expect(missing.contains("\(noScores.path): tokenizer.ggml.scores: missing"), "\(missing)")
    }
}
