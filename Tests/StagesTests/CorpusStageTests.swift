// CorpusStageTests — the `corpus` kind run for real through the in-process runner on fortune fixtures:
// the corpus it writes, its metrics and artifacts, tier order as dedupe priority, the content of tier
// files in the fingerprint, cancellation mid-build, and the errors a bad `corpus` stage is refused with.
import Corpus
import Foundation
import LoomCore
import Pipeline
import Stages
import StageTestSupport
import TestSupport
import Testing

@Suite struct CorpusStageTests {
    let project: StagesProject

    init() throws {
        project = try StagesProject()
        try project.addFortuneTiers()
    }

    /// The first `count` entries of a fixture fortune file, as a fortune file of their own.
    func fortuneCopies(of fixture: String, count: Int) throws -> String {
        let text = try String(contentsOf: TestPaths.fixture(fixture), encoding: .utf8)
        let entries = text.components(separatedBy: "\n%\n").prefix(count)
        return entries.joined(separator: "\n%\n") + "\n%\n"
    }

    @Test func buildsTheCorpusOfTheTiersWithMetricsPerTier() throws {
        try project.write("books/fractal/copies", try fortuneCopies(of: "stages/man_and_woman", count: 2))
        try project.write("recipes/r.yaml", """
            stages:
              corpus:
                kind: corpus
                params:
                  tiers:
                    - {name: core, paths: [books/core]}
                    - {name: orbit, paths: ['books/orbit/*']}
                    - {name: fractal, paths: [books/fractal]}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded)
        let corpus = try CorpusReader(directory: try project.outputDirectory(result.id, "corpus"))
        #expect(corpus.tierNames == ["core", "orbit", "fractal"])
        let metrics = try project.metrics(result.id, "corpus")
        for tier in corpus.manifest.tiers {
            let counts = tier.counts
            #expect(counts.documents > 0)
            #expect(metrics["corpus/\(tier.name)/documents"] == Double(counts.documents))
            #expect(metrics["corpus/\(tier.name)/scenes"] == Double(counts.scenes))
            #expect(metrics["corpus/\(tier.name)/words"] == Double(counts.words))
            #expect(metrics["corpus/\(tier.name)/rejects"] == 0)
            #expect(metrics["corpus/\(tier.name)/validation_documents"] == Double((Double(counts.documents) * 0.1).rounded()))
            #expect(metrics["corpus/\(tier.name)/train_scenes"] == Double(try corpus.scenes(split: .train, tiers: [tier.name]).count))
        }
        let fractal = try #require(corpus.manifest.tier(named: "fractal")).counts
        #expect(metrics["corpus/fractal/duplicates"] == Double(fractal.duplicates.exactScenes + fractal.duplicates.nearScenes))
        #expect(metrics["corpus/fractal/duplicate_documents"] == Double(fractal.duplicates.documents))
        #expect(metrics["corpus/documents"] == Double(try corpus.documents().count))
        #expect(metrics["corpus/documents"] == Double(corpus.manifest.tiers.reduce(0) { $0 + $1.counts.documents }))
        let artifacts = try #require(try project.store().artifacts(ofRun: result.id).first { $0.stage == "corpus" }).artifacts
        #expect(artifacts.contains { $0.name == "manifest" && $0.path == "manifest.json" })
        #expect(artifacts.contains { $0.name == "documents" && $0.path == "documents.jsonl" })
        let core = try #require(corpus.manifest.tier(named: "core")).counts
        #expect(try project.log(result.id, "corpus").contains("core: \(core.documents) documents (\(core.validation.documents) held out), \(core.scenes) scenes"))
    }

    @Test func theListOrderOfTiersIsTheDedupePriority() throws {
        try project.write("books/copies", try fortuneCopies(of: "stages/man_and_woman", count: 3))
        func duplicates(order: [String]) throws -> [String: Double] {
            let paths = ["core": "books/core", "copies": "books/copies"]
            let tiers = order.map { "        - {name: \($0), paths: [\(paths[$0]!)]}" }.joined(separator: "\n")
            try project.write("recipes/r.yaml", "stages:\n  corpus:\n    kind: corpus\n    params:\n      tiers:\n\(tiers)\n")
            let result = try project.run("recipes/r.yaml")
            #expect(result.status == .succeeded)
            let metrics = try project.metrics(result.id, "corpus")
            return ["core": metrics["corpus/core/duplicates"] ?? -1, "copies": metrics["corpus/copies/duplicates"] ?? -1]
        }
        // man_and_woman repeats a few fortunes itself; the three copies move from one tier to the other.
        let coreFirst = try duplicates(order: ["core", "copies"])
        let copiesFirst = try duplicates(order: ["copies", "core"])
        #expect(coreFirst["copies"] == 3)
        #expect(copiesFirst["copies"] == 0)
        #expect(copiesFirst["core"] == (coreFirst["core"] ?? 0) + 3)
    }

    @Test func theContentOfTierFilesEntersTheFingerprint() throws {
        try project.write("recipes/r.yaml", """
            stages:
              corpus: {kind: corpus, params: {tiers: [{name: core, paths: [books/core]}]}}
            """)
        let before = try #require(try project.plans("recipes/r.yaml").first?.stage(named: "corpus")).fingerprint
        #expect(try project.plans("recipes/r.yaml").first?.stage(named: "corpus")?.fingerprint == before)
        try project.write("books/core/man_and_woman", "Новый текст.\n%\nЕщё один.\n%\n")
        #expect(try project.plans("recipes/r.yaml").first?.stage(named: "corpus")?.fingerprint != before)
    }

    @Test func cancellationStopsTheBuildAndPublishesNothing() throws {
        // About 8 MB of distinct paragraphs: seconds of work in a debug build, stopped well before the end.
        var paragraph = ""
        for file in 0..<24 {
            var text = ""
            for line in 0..<400 {
                paragraph = (0..<60).map { "слово\((file * 7919 + line * 104_729 + $0 * 15_485_863) % 50_000)" }.joined(separator: " ")
                text += paragraph + "\n\n"
            }
            try project.write("big/part\(file).txt", text)
        }
        try project.write("recipes/r.yaml", "stages:\n  corpus: {kind: corpus, params: {tiers: [{name: big, paths: [big]}]}}\n")
        let cancellation = CancellationFlag()
        let storeHome = project.root.appendingPathComponent("runs")
        Thread.detachNewThread {
            let deadline = ProcessState.now + 30
            while ProcessState.now < deadline {
                if let store = try? RunStore(home: storeHome), (try? store.stage(run: 1, name: "corpus"))??.status == .running { break }
                usleep(20_000)
            }
            usleep(200_000)
            cancellation.cancel(reason: "test")
        }
        let result = try project.run("recipes/r.yaml", cancellation: cancellation)
        #expect(result.status == .cancelled)
        let stage = try #require(try project.store().stage(run: result.id, name: "corpus"))
        #expect(stage.status == .cancelled)
        #expect(!(try project.store().layout.isCached(stage.fingerprint)))
    }

    @Test func badCorpusParametersAreRefusedWithTheirLocation() throws {
        try project.write("recipes/r.yaml", """
            stages:
              corpus:
                kind: corpus
                params:
                  tiers:
                    - {name: core, paths: [books/core, books/missing]}
                    - {name: orbit, path: [books/orbit]}
                  scene_max_char: 2000
                  validation_fraction: 1.5
                  shingle_words: 0
              other:
                kind: corpus
                params:
                  tiers: {core: [books/core]}
            """)
        let root = project.root.standardizedFileURL.path
        let errors = try project.recipeErrors("recipes/r.yaml").replacingOccurrences(of: root + "/", with: "").components(separatedBy: "\n")
        #expect(errors.contains("recipes/r.yaml:6:44: stages.corpus.params.tiers[0].paths[1]: no such file or directory: books/missing (looked in \(root))"))
        #expect(errors.contains("recipes/r.yaml:7:25: stages.corpus.params.tiers[1].path: unknown key — did you mean tiers[1].paths?"))
        #expect(errors.contains("recipes/r.yaml:7:11: stages.corpus.params.tiers[1]: missing required key 'tiers[1].paths' (a list of paths: files, directories (walked recursively) and patterns (books/*.fb2, books/**/*.epub) of this tier, relative to the project directory; their content enters the fingerprint)"))
        #expect(errors.contains("recipes/r.yaml:8:7: stages.corpus.params.scene_max_char: unknown key — did you mean scene_max_chars?"))
        #expect(errors.contains("recipes/r.yaml:9:28: stages.corpus.params.validation_fraction: 1.5 is out of range: must be ≥ 0 and ≤ 0.99"))
        #expect(errors.contains("recipes/r.yaml:10:22: stages.corpus.params.shingle_words: 0 is out of range: must be ≥ 1 and ≤ 16"))
        #expect(errors.contains("recipes/r.yaml:14:14: stages.other.params.tiers: expected a list of maps with keys name, paths, got a map"))
    }

    @Test func aBadTierNameFailsTheStageWithTheCorpusMessage() throws {
        try project.write("recipes/r.yaml", "stages:\n  corpus: {kind: corpus, params: {tiers: [{name: Core, paths: [books/core]}]}}\n")
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .failed)
        #expect(project.error(result.id, "corpus")
            == "invalid tier: 'Core': a tier name is lower-case letters, digits, '-' or '_', starting with a letter")
    }
}
