// TokenWindowsTests — training windows read from a token store are the windows the in-memory packing
// (PackedTokens) makes of the same documents: every sequence equal, for a tier selection, for a capped
// validation stream, across document boundaries; and the digest a checkpoint records changes with the
// selection, so a resume on other data is refused.
import Corpus
import Foundation
import LLM
import LoomCore
import Stages
import StageTestSupport
import TestSupport
import Testing
import Tokenizers
import Torch

@Suite struct TokenWindowsTests {
    let source: CorpusAndTokenizer
    let store: TokenStore
    var corpus: CorpusReader { source.corpus }
    var tokenizer: any Tokenizer { source.tokenizer }

    init() throws {
        source = try CorpusAndTokenizer()
        store = try TokenStore(directory: try source.buildStore("store", threads: 2, batchBytes: 16 << 20).0)
    }

    /// What the model kinds packed before the store: the scenes' training documents, concatenated.
    func packed(split: CorpusSplit, tiers: [String], length: Int, maxTokens: Int = 0) throws -> PackedTokens {
        var stream: [Int] = []
        try corpus.forEachScene(split: split, tiers: tiers) { stream += tokenizer.encodeDocument($0.text) }
        if maxTokens > 0, stream.count > maxTokens { stream.removeLast(stream.count - maxTokens) }
        return try PackedTokens(tokens: stream, sequenceLength: length)
    }

    func expectSameWindows(_ windows: TokenWindows, _ packed: PackedTokens) throws {
        #expect(windows.sequenceCount == packed.sequenceCount && windows.sequenceLength == packed.sequenceLength)
        let all = Array(0..<packed.sequenceCount)
        #expect(try windows.batch(all).equal(packed.batch(all)))
        // A shuffled batch gathers the same rows.
        let some = [packed.sequenceCount - 1, 0, packed.sequenceCount / 2]
        #expect(try windows.batch(some).equal(packed.batch(some)))
    }

    @Test(arguments: [16, 64, 257]) func windowsAreThePackedSequencesOfTheSameDocuments(_ length: Int) throws {
        for tiers in [["core"], ["core", "orbit"], corpus.tierNames] {
            let windows = try TokenWindows(store: store, documents: store.documents(split: .train, tiers: tiers), sequenceLength: length, name: "t")
            try expectSameWindows(windows, try packed(split: .train, tiers: tiers, length: length))
        }
        let capped = try TokenWindows(
            store: store, documents: store.documents(split: .validation, tiers: ["core"]), sequenceLength: length, maxTokens: 300, name: "v")
        try expectSameWindows(capped, try packed(split: .validation, tiers: ["core"], length: length, maxTokens: 300))
    }

    @Test func eachWindowKnowsWhereItsScenesBegin() throws {
        // Masked packing keeps the scenes of a window apart: their starts, from the scenes' own encodings.
        var sceneStarts: [Int] = []
        var offset = 0
        try corpus.forEachScene(split: .train, tiers: ["core", "orbit"]) { scene in
            sceneStarts.append(offset)
            offset += tokenizer.encodeDocument(scene.text).count
        }
        let length = 48
        let windows = try TokenWindows(store: store, documents: store.documents(split: .train, tiers: ["core", "orbit"]), sequenceLength: length, name: "t")
        for index in 0..<windows.sequenceCount {
            let expected = sceneStarts.filter { $0 > index * length && $0 < (index + 1) * length }.map { $0 - index * length }
            #expect(windows.documentStarts(window: index) == expected, "window \(index)")
        }
        #expect(windows.sequenceCount > 10 && (0..<windows.sequenceCount).contains { !windows.documentStarts(window: $0).isEmpty })
    }

    @Test func theDigestFollowsTheSelectionAndTooLittleTextIsNamed() throws {
        let core = store.documents(split: .train, tiers: ["core"])
        let a = try TokenWindows(store: store, documents: core, sequenceLength: 32, name: "a")
        #expect(try TokenWindows(store: store, documents: core, sequenceLength: 32, name: "b").digest == a.digest)
        #expect(try TokenWindows(store: store, documents: Array(core.dropLast()), sequenceLength: 32, name: "a").digest != a.digest)
        #expect(try TokenWindows(store: store, documents: core, sequenceLength: 64, name: "a").digest != a.digest)
        let one = try #require(core.first)
        let tokens = store.documents[one].tokens
        #expect(errorMessage { _ = try TokenWindows(store: store, documents: [one], sequenceLength: tokens + 1, name: "one book") }
            == "one book: \(tokens) tokens do not fill one sequence of \(tokens + 1) tokens")
    }
}
