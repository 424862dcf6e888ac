// ModelStageErrorTests — what the model kinds say when a recipe asks for something they cannot do,
// run on the miniature's project (its shared stages come from the cache): the failing stage's error
// names the key and what was expected, and nothing downstream runs; and bf16 LoRA, once an error, now
// trains near the f32 run.
import Foundation
import Pipeline
import StageTestSupport
import Testing
import TestSupport
import Torch

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

    @Test func loraTrainsInBFloat16NearTheFloat32Run() throws {
        // dtype: bfloat16 stores and multiplies LoRA's frozen matrices in bf16 (the adapter, the optimizer and
        // the loss stay f32): the run succeeds, and its held-out bits per byte land near the f32 core run's
        // (same data, seed and steps; measured 4e-5 apart here, 1.01371 against 1.01367).
        let runs = try run("half", variants: "  half: {params: {train: {tiers: [core], dtype: bfloat16}}}\n")
        let half = try #require(runs["half"])
        #expect(try project.store().stage(run: half, name: "train")?.status == .succeeded, "\(project.error(half, "train") ?? "")")
        #expect(try project.store().stage(run: half, name: "eval")?.status == .succeeded, "\(project.error(half, "eval") ?? "")")
        let core = try #require(try MiniatureRun.shared.get().runs["core"])
        let bf16 = try #require(try project.metrics(half, "eval")["eval/bits_per_byte"])
        let f32 = try #require(try project.metrics(core, "eval")["eval/bits_per_byte"])
        #expect(abs(bf16 - f32) < 0.01, "bf16 \(bf16) vs f32 \(f32)")
    }

    @Test func aDeviceThisMachineLacksFailsTheStageByKey() throws {
        // The recipe is valid anywhere; the machine that runs the stage says the device is not there. (A
        // seed of its own: device is not in the fingerprint, so the miniature's cached train would be reused.)
        let count = try TorchRuntime.cudaIsAvailable() ? TorchRuntime.cudaDeviceCount() : 0
        let runs = try run("bad-device", variants: "  gpu: {params: {train: {tiers: [core], seed: 97, device: 'cuda:\(count)'}}}\n")
        let gpu = try #require(runs["gpu"])
        let error = try #require(project.error(gpu, "train"))
        #expect(error.hasPrefix("device: device cuda:\(count) is not available: "), "\(error)")
    }

    @Test func dataParallelRanksNeedTheStageToRunAsItsOwnProcess() throws {
        // The other ranks run the stage's own command again; in-process there is none, and the stage says so.
        let runs = try run("in-process-ranks", variants: "  two: {params: {train: {tiers: [core], processes: 2}}}\n")
        let two = try #require(runs["two"])
        let error = try #require(project.error(two, "train"))
        #expect(error.hasPrefix("processes: 2 ranks need stage train to run as its own `loom-torch exec-stage` process"), "\(error)")
    }

    @Test func aTierTheCorpusLacksIsARecipeErrorAtItsValue() throws {
        // train's and eval's tiers are checked against the corpus stage's own tiers before anything runs,
        // variant by variant, at the value's file, line and column.
        let recipe = SyntheticBooks.miniatureRecipe.components(separatedBy: "variants:")[0] + """
            variants:
              typo: {params: {train: {tiers: [core, orbt]}}}
              core: {params: {train: {tiers: [core]}, eval: {tier: fractl}}}

            """
        try project.write("recipes/bad-tiers.yaml", recipe)
        let runsBefore = try project.store().runs(recipe: "bad-tiers").count
        let errors = try project.recipeErrors("recipes/bad-tiers.yaml")
        let lines = recipe.components(separatedBy: "\n")
        let typoLine = try #require(lines.firstIndex { $0.contains("orbt") }) + 1
        let typoColumn = try #require(lines[typoLine - 1].range(of: "orbt")).lowerBound.utf16Offset(in: lines[typoLine - 1]) + 1
        #expect(errors.contains("recipes/bad-tiers.yaml:\(typoLine):\(typoColumn): variants.typo.params.train.tiers: unknown tier 'orbt' — did you mean orbit? (the corpus has core, orbit, fractal)"), "\(errors)")
        #expect(errors.contains("eval.tier: unknown tier 'fractl' — did you mean fractal? (the corpus has core, orbit, fractal)"), "\(errors)")
        #expect(try project.store().runs(recipe: "bad-tiers").count == runsBefore, "no run was created")
    }

    @Test func aBasePathWithoutConfigJSONIsNotAModelDirectory() throws {
        try FileManager.default.createDirectory(at: project.root.appendingPathComponent("models/empty"), withIntermediateDirectories: true)
        let runs = try run("bad-base", variants: "  core: {params: {base: {path: models/empty}, train: {tiers: [core]}}}\n")
        let core = try #require(runs["core"])
        #expect(project.error(core, "base") == "path: \(project.root.appendingPathComponent("models/empty").standardizedFileURL.path) holds no config.json: not a Hugging Face model directory")
    }
}
