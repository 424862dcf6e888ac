// ModelStageErrorTests — what the model kinds say when a recipe asks for something they cannot do,
// run on the miniature's project (its shared stages come from the cache): the failing stage's error
// names the key and what was expected, and nothing downstream runs.
import Foundation
import Pipeline
import StageTestSupport
import Testing
import TestSupport

@Suite struct ModelStageErrorTests {
    let project: StagesProject

    init() throws { project = try MiniatureRun.shared.get().project }

    /// Runs the miniature recipe with `variants` in place of its own under the name `name`.
    func run(_ name: String, variants: String) throws -> [String: Int64] {
        let recipe = SyntheticBooks.miniatureRecipe.components(separatedBy: "variants:")[0] + "variants:\n" + variants
        try project.write("recipes/\(name).yaml", recipe)
        _ = try project.run("recipes/\(name).yaml")
        var runs: [String: Int64] = [:]
        for record in try project.store().runs(recipe: name) { runs[record.variant] = record.id }
        return runs
    }

    @Test func trainRefusesHalfPrecisionLoRAAndAnUnknownTierByKey() throws {
        let runs = try run("bad-train", variants: """
              half: {params: {train: {tiers: [core], dtype: bfloat16}}}
              typo: {params: {train: {tiers: [core, orbt]}}}

            """)
        let half = try #require(runs["half"])
        #expect(project.error(half, "train") == "dtype: bfloat16 applies to QLoRA's NF4 weights (method: qlora); a LoRA model's dense weights stay float32")
        #expect(try project.store().stage(run: half, name: "eval")?.status != .succeeded)
        let typo = try #require(runs["typo"])
        #expect(project.error(typo, "train") == "tiers: unknown tier 'orbt' — did you mean orbit? (the corpus has core, orbit, fractal)")
    }

    @Test func evalRefusesATierTheCorpusLacks() throws {
        let runs = try run("bad-eval", variants: "  core: {params: {train: {tiers: [core]}, eval: {tier: fractl}}}\n")
        let core = try #require(runs["core"])
        #expect(project.error(core, "eval") == "tier: unknown tier 'fractl' — did you mean fractal? (the corpus has core, orbit, fractal)")
        #expect(try project.store().stage(run: core, name: "train")?.status == .cached)
    }

    @Test func aBasePathWithoutConfigJSONIsNotAModelDirectory() throws {
        try FileManager.default.createDirectory(at: project.root.appendingPathComponent("models/empty"), withIntermediateDirectories: true)
        let runs = try run("bad-base", variants: "  core: {params: {base: {path: models/empty}, train: {tiers: [core]}}}\n")
        let core = try #require(runs["core"])
        #expect(project.error(core, "base") == "path: \(project.root.appendingPathComponent("models/empty").standardizedFileURL.path) holds no config.json: not a Hugging Face model directory")
    }
}
