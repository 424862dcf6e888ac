// CorpusWithAddedTierTests — a corpus plus a tier of given scenes, read back by CorpusReader: the base's
// shards are the same files (hard links: same inode), the new tier is train only and holds the scenes in
// order, grouped into documents whose offsets, ids and counts agree with the text; the manifest's digests
// and totals agree with what is on disk; bad tier names are refused.
import Foundation
import LoomCore
import Testing
@testable import Corpus
import TestSupport

@Suite struct CorpusWithAddedTierTests {
    let scratch: ScratchDirectory
    let base: CorpusReader
    let scenes = (0..<7).map { "Синтетическая сцена номер \($0): кто-то сказал «да»." }

    init() throws {
        scratch = try ScratchDirectory("corpus-added-tier")
        base = try buildCorpus(
            [TierSpec(name: "core", inputs: [TestPaths.fixture("stages/man_and_woman").path]),
             TierSpec(name: "orbit", inputs: [TestPaths.fixture("stages/lovers").path])],
            in: scratch
        ) { $0.validationFraction = 0.2 }.reader
    }

    func inode(_ url: URL) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? Int)
    }

    @Test func theBaseIsLinkedAndTheTierIsTrainOnly() throws {
        let output = scratch.path("with-synthetic")
        let result = try CorpusWithAddedTier.write(
            base: base, tier: "synthetic", inputs: ["synthesis.json"], scenes: scenes, scenesPerDocument: 3, into: output)
        #expect(result.linkedShards == base.manifest.shards.count && result.copiedShards == 0)
        let reader = try CorpusReader(directory: output)
        #expect(reader.tierNames == ["core", "orbit", "synthetic"])
        for shard in base.manifest.shards {
            #expect(try inode(output.appendingPathComponent(shard.path)) == inode(base.directory.appendingPathComponent(shard.path)))
        }
        // Held-out text is exactly the base's; the base tiers' training text too.
        #expect(try reader.scenes(split: .validation) == base.scenes(split: .validation))
        #expect(try reader.scenes(split: .train, tiers: ["core", "orbit"]) == base.scenes(split: .train))
        #expect(try reader.shards(split: .validation, tiers: ["synthetic"]).isEmpty)

        let added = try reader.scenes(split: .train, tiers: ["synthetic"])
        #expect(added.map(\.text) == scenes)
        #expect(added.map(\.index) == [0, 1, 2, 0, 1, 2, 0])
        #expect(added.map(\.source) == ["synthetic/00000", "synthetic/00000", "synthetic/00000", "synthetic/00001", "synthetic/00001",
                                        "synthetic/00001", "synthetic/00002"])
        for document in Dictionary(grouping: added, by: \.doc).values {
            let text = document.map(\.text).joined(separator: "\n\n")
            #expect(document[0].doc == String(Digest.sha256Hex(text).prefix(16)))
            for scene in document {
                let scalars = Array(text.unicodeScalars)
                #expect(String(String.UnicodeScalarView(scalars[scene.start..<scene.end])) == scene.text)
                #expect(scene.chars == scene.text.unicodeScalars.count && scene.words == 7)
            }
        }

        let tier = try #require(reader.manifest.tier(named: "synthetic"))
        #expect(tier.inputs == ["synthesis.json"])
        #expect(tier.counts.documents == 3 && tier.counts.scenes == 7 && tier.counts.words == 49)
        #expect(tier.counts.bytes == scenes.reduce(0) { $0 + $1.utf8.count })
        #expect(tier.counts.train == SplitCounts(documents: 3, scenes: 7, bytes: tier.counts.bytes, characters: tier.counts.characters, words: 49))
        #expect(tier.counts.validation == SplitCounts() && tier.counts.sourceFiles == 0)
        var total = base.manifest.total
        total.add(tier.counts)
        #expect(reader.manifest.total == total)
        #expect(reader.manifest.settings == base.manifest.settings)
        #expect(reader.manifest.sources == base.manifest.sources)
        // Every shard listed exists with its recorded size and digest; train shards come first, tier by tier.
        for shard in reader.manifest.shards {
            let url = output.appendingPathComponent(shard.path)
            #expect(try Digest.sha256Hex(fileAt: url) == shard.sha256)
            #expect(try Data(contentsOf: url).count == shard.bytes)
        }
        #expect(reader.manifest.shards.map(\.path) == base.manifest.shards.filter { $0.split == .train }.map(\.path)
            + ["train/synthetic-00000.jsonl"] + base.manifest.shards.filter { $0.split == .validation }.map(\.path))
        let documents = try reader.documents()
        #expect(documents.count == base.manifest.total.documents + 3)
        #expect(Array(documents.prefix(base.manifest.total.documents)) == (try base.documents()))
        #expect(documents.suffix(3).allSatisfy { $0.split == .train && $0.tier == "synthetic" && $0.format == "synthetic" })
    }

    @Test func theSameScenesGiveTheSameBytes() throws {
        let first = scratch.path("first"), second = scratch.path("second")
        for output in [first, second] {
            _ = try CorpusWithAddedTier.write(base: base, tier: "synthetic", inputs: ["synthesis.json"], scenes: scenes, scenesPerDocument: 2, into: output)
        }
        for file in [CorpusManifest.fileName, CorpusManifest.documentsFileName, "train/synthetic-00000.jsonl"] {
            #expect(try Data(contentsOf: first.appendingPathComponent(file)) == Data(contentsOf: second.appendingPathComponent(file)))
        }
    }

    @Test func aTierNameMustBeValidAndNew() throws {
        #expect(throws: CorpusError.invalidTier("'orbit' is listed twice")) {
            try CorpusWithAddedTier.write(base: base, tier: "orbit", inputs: ["x"], scenes: scenes, scenesPerDocument: 2, into: scratch.path("a"))
        }
        #expect(throws: CorpusError.invalidTier("'Synthetic': a tier name is lower-case letters, digits, '-' or '_', starting with a letter")) {
            try CorpusWithAddedTier.write(base: base, tier: "Synthetic", inputs: ["x"], scenes: scenes, scenesPerDocument: 2, into: scratch.path("b"))
        }
    }
}
