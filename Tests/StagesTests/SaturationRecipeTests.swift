// SaturationRecipeTests — the shipped saturation pipeline and its recipes (recipes/demo.yaml, qlora.yaml,
// hf-base.yaml) validate and plan without libtorch, with the documented DAG; the variants of a recipe,
// and the demo and qlora recipes, share one fingerprint for every stage before `train`, so those run once.
import Foundation
import Pipeline
import Stages
import StageTestSupport
import TestSupport
import Testing

@Suite struct SaturationRecipeTests {
    static let sharedStages = ["corpus", "tokenizer", "base", "hyperwords", "extend", "tokens"]
    static let edges: [String: [String]] = [
        "corpus": [], "tokenizer": ["corpus"], "base": ["corpus", "tokenizer"], "hyperwords": ["corpus", "tokenizer", "base"],
        "extend": ["base", "hyperwords"], "tokens": ["corpus", "extend"], "train": ["corpus", "extend", "tokens"], "eval": ["corpus", "base", "extend", "tokens", "train"],
    ]
    static let variants = ["core", "core+orbit", "core+orbit+fractal"]

    let home: ScratchDirectory

    init() throws { home = try ScratchDirectory("loom-saturation") }

    func plans(_ recipe: URL) throws -> [Plan] {
        let preparation = RunPreparation(store: try RunStore(home: home.url), registry: StageCatalog.registry())
        return try preparation.plan(recipeFile: recipe, variants: [], forcedStages: []).1
    }

    func fingerprints(_ plan: Plan) -> [String: String] {
        Dictionary(uniqueKeysWithValues: plan.stages.map { ($0.name, $0.fingerprint) })
    }

    /// The DAG, the variants' tier sets, and the stages they share.
    func checkSaturationPlans(_ plans: [Plan]) throws {
        #expect(plans.map(\.variant) == Self.variants)
        for plan in plans {
            #expect(plan.stages.map(\.name) == ["corpus", "tokenizer", "base", "hyperwords", "extend", "tokens", "train", "eval"])
            for stage in plan.stages { #expect(stage.after == Self.edges[stage.name], "\(stage.name)") }
            let tiers = plan.stage(named: "train")?.params["tiers"]?.arrayValue?.compactMap(\.stringValue)
            #expect(tiers?.joined(separator: "+") == plan.variant)
            #expect(plan.stage(named: "base")?.executable == .loomTorch)
            #expect(plan.stage(named: "hyperwords")?.executable == .loomTorch)
        }
        let first = fingerprints(plans[0])
        for plan in plans.dropFirst() {
            let these = fingerprints(plan)
            for stage in Self.sharedStages { #expect(these[stage] == first[stage], "\(plan.variant) shares \(stage)") }
            #expect(these["train"] != first["train"])
            #expect(these["eval"] != first["eval"])
        }
        #expect(Set(plans.map { fingerprints($0)["train"] }).count == plans.count)
    }

    @Test func theDemoRecipeSharesEverythingBeforeTrain() throws {
        let plans = try plans(TestPaths.packageRoot.appendingPathComponent("recipes/demo.yaml"))
        try checkSaturationPlans(plans)
        let corpus = try #require(plans[0].stage(named: "corpus"))
        let tiers = corpus.params["tiers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(tiers == ["core", "orbit", "fractal"])
        #expect(corpus.pathDigests.keys.contains("tiers[2].paths[0]"), "the fractal directory's content is in the fingerprint")
        #expect(plans[0].stage(named: "base")?.params.value(atKeyPath: "tiers") == .array([.string("fractal")]))
        #expect(plans[0].stage(named: "eval")?.params["tier"] == .string("core"))
    }

    @Test func theQLoRARecipeReusesTheDemosSharedStages() throws {
        let demo = try plans(TestPaths.packageRoot.appendingPathComponent("recipes/demo.yaml"))
        let qlora = try plans(TestPaths.packageRoot.appendingPathComponent("recipes/qlora.yaml"))
        try checkSaturationPlans(qlora)
        for (lora, quantised) in zip(demo, qlora) {
            let (a, b) = (fingerprints(lora), fingerprints(quantised))
            for stage in Self.sharedStages { #expect(a[stage] == b[stage], "qlora/\(quantised.variant) reuses demo's \(stage)") }
            #expect(a["train"] != b["train"])
            #expect(quantised.stage(named: "train")?.params["method"] == .string("qlora"))
            #expect(lora.stage(named: "train")?.params["method"] == .string("lora"))
        }
    }

    @Test func theBooksRecipeSweepsNestedSubsetsOverTheDemosSharedStages() throws {
        let demo = try plans(TestPaths.packageRoot.appendingPathComponent("recipes/demo.yaml"))
        let books = try plans(TestPaths.packageRoot.appendingPathComponent("recipes/books.yaml"))
        #expect(books.count == 15 && books[0].variant == "books-1+books_seed-0" && books[14].variant == "books-0+books_seed-2")
        for plan in books {
            for stage in Self.sharedStages { #expect(fingerprints(plan)[stage] == fingerprints(demo[0])[stage], "\(plan.variant) shares \(stage)") }
            #expect(plan.stage(named: "train")?.params["tiers"] == .array([]))
        }
        #expect(Set(books.map { fingerprints($0)["train"] }).count == 15)
    }

    @Test func theHuggingFaceRecipeValidatesWithAModelDirectoryAndBooks() throws {
        let project = try StagesProject()
        try FileManager.default.copyItem(
            at: TestPaths.packageRoot.appendingPathComponent("pipelines/saturation.yaml"),
            to: project.root.appendingPathComponent("pipelines/saturation.yaml"))
        try project.write("recipes/hf-base.yaml", try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("recipes/hf-base.yaml"), encoding: .utf8))
        #expect(try project.recipeErrors("recipes/hf-base.yaml").contains("params.base.path: no such file or directory: models/base"))
        try project.copyFixture("tokenizers/spm-llama2", to: "models/base")
        try project.write("models/base/config.json", #"{"model_type": "llama", "vocab_size": 32000}"#)
        try project.addFortuneTiers()
        let plans = try project.plans("recipes/hf-base.yaml")
        try checkSaturationPlans(plans)
        let model = project.root.appendingPathComponent("models/base").standardizedFileURL.path
        #expect(plans[0].stage(named: "base")?.params["path"] == .string(model))
        #expect(plans[0].stage(named: "tokenizer")?.params["path"] == .string(model))
        #expect(plans[0].stage(named: "base")?.pathDigests.keys.contains("path") == true)
    }

    @Test func aSweepExpandsIntoOneVariantPerCombinationSharingEverythingBeforeTrain() throws {
        let project = try StagesProject()
        try FileManager.default.copyItem(
            at: TestPaths.packageRoot.appendingPathComponent("pipelines/saturation.yaml"),
            to: project.root.appendingPathComponent("pipelines/saturation.yaml"))
        try project.addFortuneTiers()
        // The demo's pipeline and description, over the fortune tiers under books/.
        let demo = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("recipes/demo.yaml"), encoding: .utf8)
        let recipe = demo.components(separatedBy: "\nparams:")[0] + "\n" + SyntheticBooks.corpusParams
        try project.write("recipes/sweep.yaml", recipe + """

            sweep:
              train.books: [1, 3, 0]
              train.books_seed: [0, 1]
            variants:
              core: {params: {train: {tiers: [core]}}}
              all: {params: {train: {tiers: []}}}
            """)
        let plans = try project.plans("recipes/sweep.yaml")
        #expect(plans.map(\.variant) == ["core", "all"].flatMap { base in
            ["1", "3", "0"].flatMap { books in ["0", "1"].map { "\(base)+books-\(books)+books_seed-\($0)" } }
        })
        let first = fingerprints(plans[0])
        for plan in plans {
            for stage in Self.sharedStages { #expect(fingerprints(plan)[stage] == first[stage], "\(plan.variant) shares \(stage)") }
        }
        #expect(Set(plans.map { fingerprints($0)["train"] }).count == plans.count)
        let train = try #require(plans.first { $0.variant == "all+books-3+books_seed-1" }?.stage(named: "train"))
        #expect(train.params["books"] == .int(3) && train.params["books_seed"] == .int(1) && train.params["tiers"] == .array([]))

        try project.write("recipes/bad.yaml", recipe + """

            sweep:
              trian.books: [1]
              train.books: [2, -1]
              train.steps: 10
            """)
        let errors = try project.recipeErrors("recipes/bad.yaml")
        #expect(errors.contains("sweep.trian.books: expected STAGE.KEY with a stage of the recipe"), "\(errors)")
        #expect(errors.contains("did you mean train?"), "\(errors)")
        #expect(errors.contains("sweep.train.steps: expected a non-empty list of values to sweep over, got 10"), "\(errors)")
        try project.write("recipes/range.yaml", recipe + """

            sweep:
              train.books: [2, -1]
            """)
        let range = try project.recipeErrors("recipes/range.yaml")
        #expect(range.contains("recipes/range.yaml:29:20: sweep.train.books[1]: -1 is out of range: must be ≥ 0"), "\(range)")
    }
}
