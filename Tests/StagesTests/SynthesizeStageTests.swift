// SynthesizeStageTests — the `synthesize` kind run for real after a corpus, a base tokenizer and
// hyperwords on the fortune fixtures: its output is a corpus that downstream kinds read as theirs
// (UpstreamOutputs prefers it), CorpusSelection selects the synthetic tier beside the real ones, held-out
// text is the real corpus's, the scenes are made of hyperwords and words within their length, and
// synthesis.json says how. Errors: a wrong tier (named key, suggestion), a missing hyperwords stage, a
// tier with no training text, and a bad or taken tier name.
import Corpus
import Foundation
import LoomCore
import Pipeline
import Stages
import StageTestSupport
import TestSupport
import Testing
import Tokenizers

@Suite struct SynthesizeStageTests {
    let project: StagesProject

    init() throws {
        project = try StagesProject()
        try project.addFortuneTiers()
    }

    static let upstream = StagesProject.corpusStage() + """
          tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}
          hyperwords: {kind: hyperwords, after: [corpus, tokenizer], params: {count: 60, min_count: 3}}

        """

    @Test func writesTheCorpusWithASyntheticTierThatDownstreamKindsRead() throws {
        try project.write("recipes/r.yaml", "stages:\n" + Self.upstream + """
              synthesize:
                kind: synthesize
                after: [corpus, hyperwords]
                params: {tiers: [core, orbit], scenes: 300, max_words: 25, seed: 4, document_scenes: 50}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .succeeded, "\(project.error(result.id, "synthesize") ?? "")")
        let corpusDirectory = try project.outputDirectory(result.id, "corpus")
        let synthesized = try project.outputDirectory(result.id, "synthesize")

        // Downstream kinds find it as their corpus, whatever else `after:` holds.
        let inputs = ["corpus": corpusDirectory, "synthesize": synthesized]
        #expect(try UpstreamOutputs(stage: "train", inputDirectories: inputs).corpus().directory == synthesized)
        #expect(try UpstreamOutputs(stage: "train", inputDirectories: ["corpus": corpusDirectory]).corpus().directory == corpusDirectory)

        let base = try CorpusReader(directory: corpusDirectory)
        let corpus = try CorpusReader(directory: synthesized)
        #expect(try CorpusSelection.tiers(["synthetic", "core"], in: corpus, parameter: "tiers") == ["core", "synthetic"])
        #expect(try CorpusSelection.tiers([], in: corpus, parameter: "tiers") == ["core", "orbit", "fractal", "synthetic"])
        #expect(throws: UpstreamError.self) { try CorpusSelection.tiers(["synthetc"], in: corpus, parameter: "train.tiers") }
        do {
            _ = try CorpusSelection.tiers(["synthetc"], in: corpus, parameter: "train.tiers")
        } catch {
            #expect("\(error)" == "train.tiers: unknown tier 'synthetc' — did you mean synthetic? (the corpus has core, orbit, fractal, synthetic)")
        }
        #expect(try CorpusSelection.texts(of: corpus, split: .validation, tiers: corpus.tierNames)
            == CorpusSelection.texts(of: base, split: .validation, tiers: base.tierNames))
        #expect(try CorpusSelection.texts(of: corpus, split: .train, tiers: ["core"]) == CorpusSelection.texts(of: base, split: .train, tiers: ["core"]))
        let synthetic = try CorpusSelection.texts(of: corpus, split: .train, tiers: ["synthetic"])
        #expect(synthetic.count == 300)
        #expect(try corpus.documents().filter { $0.tier == "synthetic" }.count == 6)

        // Made of the hyperwords and words of the core and orbit training text, within 25 words.
        let hyperwords = try ExtendedTokenizer(contentsOf: project.outputDirectory(result.id, "hyperwords")).newTokens
            .filter { $0.words >= 2 }.map(\.text)
        #expect(!hyperwords.isEmpty)
        #expect(synthetic.contains { scene in hyperwords.contains { scene.contains($0) } })
        #expect(try corpus.scenes(split: .train, tiers: ["synthetic"]).allSatisfy { $0.words >= 1 && $0.words <= 25 })
        let training = Set(try CorpusSelection.texts(of: base, split: .train, tiers: ["core", "orbit"]))
        #expect(synthetic.allSatisfy { !training.contains($0) })

        let synthesis = try JSONValue.parse(try #require(try project.output(result.id, "synthesize", "synthesis.json")))
        #expect(synthesis["scenes"]?.intValue == 300)
        #expect(synthesis["model_tiers"] == .array([.string("core"), .string("orbit")]))
        #expect(synthesis["training_scenes"]?.intValue == training.count)
        #expect((synthesis["hyperword_share"]?.doubleValue ?? 0) > 0)
        #expect(synthesis["corpus_manifest_sha256"]?.stringValue
            == (try Digest.sha256Hex(fileAt: corpusDirectory.appendingPathComponent(CorpusManifest.fileName))))
        let metrics = try project.metrics(result.id, "synthesize")
        #expect(metrics["synthesize/scenes"] == 300)
        #expect(metrics["synthesize/words"] == Double(corpus.manifest.tier(named: "synthetic")?.counts.words ?? -1))
        #expect(metrics["synthesize/hyperword_share"] == synthesis["hyperword_share"]?.doubleValue)
        let log = try project.log(result.id, "synthesize")
        #expect(log.contains("learning an order-3 model of core, orbit (train split) over words and"))
        let artifacts = try #require(try project.store().artifacts(ofRun: result.id).first { $0.stage == "synthesize" }).artifacts
        #expect(Set(artifacts.map(\.name)).isSuperset(of: ["manifest", "documents", "synthesis"]))
    }

    @Test func aDownstreamStageMayNameTheSyntheticTier() throws {
        try project.write("recipes/r.yaml", "stages:\n" + Self.upstream + """
              synthesize: {kind: synthesize, after: [corpus, hyperwords], params: {tier_name: made-up}}
              again: {kind: hyperwords, after: [synthesize, tokenizer], params: {tiers: [made-up, core], heldout_tier: mad-up}}
              typo: {kind: synthesize, after: [corpus, hyperwords], params: {tiers: [cor]}}
              bad: {kind: synthesize, after: [corpus, hyperwords], params: {tier_name: Synthetic}}
            """)
        let errors = try project.recipeErrors("recipes/r.yaml")
        #expect(errors.contains("stages.again.params.heldout_tier: unknown tier 'mad-up' — did you mean made-up? (the corpus has core, orbit, fractal, made-up)"), "\(errors)")
        #expect(!errors.contains("stages.again.params.tiers"), "\(errors)")
        #expect(errors.contains("stages.typo.params.tiers: unknown tier 'cor' — did you mean core? (the corpus has core, orbit, fractal)"), "\(errors)")
        #expect(errors.contains("stages.bad.params.tier_name: 'Synthetic' is not a tier name: lower-case letters, digits, '-' or '_', starting with a letter"), "\(errors)")
    }

    @Test func withoutAHyperwordsStageItSaysWhichKindIsMissing() throws {
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + """
              synthesize: {kind: synthesize, after: [corpus]}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .failed)
        #expect(project.error(result.id, "synthesize")
            == "stage synthesize needs the output of a `hyperwords` stage: add that stage to its `after:` list (its inputs: corpus (corpus))")
    }

    @Test func aTierWithoutTrainingTextOrWordsOrATakenNameFails() throws {
        try project.write("books/empty/blank.txt", "\n\n")
        try project.write("books/marks/marks.txt", "--- !!! ...\n\n*** ???\n")
        try project.write("recipes/r.yaml", """
            stages:
              corpus:
                kind: corpus
                params:
                  tiers:
                    - {name: core, paths: [books/core]}
                    - {name: empty, paths: [books/empty]}
                    - {name: marks, paths: [books/marks]}
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}
              hyperwords: {kind: hyperwords, after: [corpus, tokenizer], params: {tiers: [core], count: 20, min_count: 3}}
              nothing: {kind: synthesize, after: [corpus, hyperwords], params: {tiers: [empty]}}
              marks: {kind: synthesize, after: [corpus, hyperwords], params: {tiers: [marks]}}
              taken: {kind: synthesize, after: [corpus, hyperwords], params: {tier_name: core}}
            """)
        let result = try project.run("recipes/r.yaml")
        #expect(result.status == .failed)
        #expect(project.error(result.id, "nothing") == "tiers: the train split of empty holds no text to learn the n-gram model from")
        #expect(project.error(result.id, "marks") == "tiers: the train split of marks holds no word (only punctuation), so no scene can be composed")
        #expect(project.error(result.id, "taken")
            == "tier_name: 'core' is already a tier of the corpus (core, empty, marks); name the synthetic tier something new")
    }
}
