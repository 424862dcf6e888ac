// RecipeLoadingTests — how a recipe becomes stages with resolved parameters: pipeline defaults,
// recipe params, extends, variants, inline stages, YAML anchors and merge keys, paths.
import Foundation
import Pipeline
import Testing

@Suite struct RecipeLoadingTests {
    let project: TestProject

    init() throws {
        project = try TestProject()
        try project.write("pipelines/train.yaml", """
            description: prepare, train, eval
            stages:
              prepare: {kind: write, params: {text: prep}}
              train: {kind: write, after: [prepare], params: {lora: {rank: 4}}}
              eval: {kind: write, after: [train]}
            """)
    }

    func stage(_ recipe: Recipe, _ variant: String, _ name: String) -> ResolvedStage? {
        recipe.variants[variant]?.first { $0.name == name }
    }

    @Test func pipelineDefaultsRecipeParamsAndSchemaDefaultsCombine() throws {
        try project.write("recipes/r.yaml", "pipeline: train\nparams:\n  train: {lora: {alpha: 32}}\n")
        let recipe = try project.load("recipes/r.yaml")
        #expect(recipe.name == "r")
        #expect(recipe.pipelineName == "train")
        #expect(recipe.variantNames.isEmpty)
        let train = try #require(stage(recipe, "", "train"))
        #expect(train.after == ["prepare"])
        #expect(train.params.resolved.value(atKeyPath: "lora.rank") == .int(4))
        #expect(train.params.resolved.value(atKeyPath: "lora.alpha") == .double(32))
        #expect(train.params.resolved.value(atKeyPath: "lora.dropout") == .double(0))
        #expect(train.params.resolved["method"] == .string("lora"))
        #expect(train.params.resolved["wait_for"] == nil)
        #expect(recipe.projectDirectory.path == project.root.standardizedFileURL.path)
    }

    @Test func extendsOverridesKeysDeeplyAndNullRestoresTheDefault() throws {
        try project.write("recipes/base.yaml", """
            pipeline: train
            params:
              train: {lora: {rank: 16, alpha: 8}, text: base}
            variants:
              small: {params: {train: {lora: {rank: 2}}}}
            """)
        try project.write("recipes/child.yaml", """
            extends: base.yaml
            params:
              train: {lora: {alpha: 64}, text: ~}
            variants:
              large: {params: {train: {lora: {rank: 64}}}}
            """)
        let recipe = try project.load("recipes/child.yaml")
        #expect(recipe.variantNames == ["small", "large"])
        let small = try #require(stage(recipe, "small", "train"))
        #expect(small.params.resolved.value(atKeyPath: "lora.rank") == .int(2))
        #expect(small.params.resolved.value(atKeyPath: "lora.alpha") == .double(64))
        #expect(small.params.resolved["text"] == .string(""))
        let large = try #require(stage(recipe, "large", "train"))
        #expect(large.params.resolved.value(atKeyPath: "lora.rank") == .int(64))
    }

    @Test func variantsCanBeRemovedByAnExtendingRecipe() throws {
        try project.write("recipes/base.yaml", "pipeline: train\nvariants:\n  a: {}\n  b: {}\n")
        try project.write("recipes/single.yaml", "extends: base.yaml\nvariants: ~\n")
        #expect(try project.load("recipes/single.yaml").variantNames.isEmpty)
    }

    @Test func inlineStagesAddToThePipelineOrChangeAStage() throws {
        try project.write("recipes/r.yaml", """
            pipeline: train
            stages:
              report: {kind: write, after: [eval, prepare], params: {text: report}}
              eval: {after: [train, prepare]}
            """)
        let recipe = try project.load("recipes/r.yaml")
        #expect(recipe.variants[""]?.map(\.name) == ["prepare", "train", "eval", "report"])
        #expect(stage(recipe, "", "eval")?.after == ["train", "prepare"])
        #expect(stage(recipe, "", "report")?.params.resolved["text"] == .string("report"))
    }

    @Test func aRecipeWithoutPipelineDeclaresAllItsStages() throws {
        try project.write("recipes/r.yaml", """
            stages:
              b: {kind: write, after: [a]}
              a: {kind: write}
            """)
        #expect(try project.load("recipes/r.yaml").variants[""]?.map(\.name) == ["a", "b"])
    }

    @Test func anchorsMergeKeysAndFreeXKeys() throws {
        try project.write("recipes/r.yaml", """
            x-shared: &shared {rank: 12, alpha: 3}
            pipeline: train
            params:
              train:
                lora:
                  <<: *shared
                  alpha: 5
              eval:
                lora: *shared
            """)
        let recipe = try project.load("recipes/r.yaml")
        #expect(stage(recipe, "", "train")?.params.resolved.value(atKeyPath: "lora.rank") == .int(12))
        #expect(stage(recipe, "", "train")?.params.resolved.value(atKeyPath: "lora.alpha") == .double(5))
        #expect(stage(recipe, "", "eval")?.params.resolved.value(atKeyPath: "lora.alpha") == .double(3))
    }

    @Test func numbersAreReadTheWayPeopleWriteThem() throws {
        try project.write("recipes/r.yaml", "pipeline: train\nparams:\n  train: {lora: {lr: 3e-4, alpha: 16}, verbose: yes}\n")
        let train = try #require(stage(try project.load("recipes/r.yaml"), "", "train"))
        #expect(train.params.resolved.value(atKeyPath: "lora.lr") == .double(3e-4))
        #expect(train.params.resolved.value(atKeyPath: "lora.alpha") == .double(16))
        #expect(train.params.resolved["verbose"] == .bool(true))
    }

    @Test func inputPathsResolveAgainstTheProjectAndStayPortable() throws {
        try project.write("data/core/a.txt", "a")
        try project.write("data/core/b.txt", "b")
        try project.write("data/extra.txt", "x")
        try project.write("recipes/r.yaml", "pipeline: train\nparams:\n  train: {inputs: data/extra.txt, tiers: {core: ['data/core/*.txt']}}\n")
        let train = try #require(stage(try project.load("recipes/r.yaml"), "", "train"))
        let root = project.root.standardizedFileURL.path
        #expect(train.params.resolved["inputs"] == .array([.string("\(root)/data/extra.txt")]))
        #expect(train.params.portable["inputs"] == .array([.string("data/extra.txt")]))
        #expect(train.params.paths.map(\.keyPath) == ["inputs[0]", "tiers.core[0]"])
        let files = try StageParameters(train.params.resolved).files("tiers.core")
        #expect(files.map(\.lastPathComponent) == ["a.txt", "b.txt"])
    }

    @Test func theProjectDirectoryIsWherePipelinesLive() throws {
        try project.write("recipes/nested/deep.yaml", "pipeline: train\n")
        let recipe = try project.load("recipes/nested/deep.yaml")
        #expect(recipe.projectDirectory.path == project.root.standardizedFileURL.path)
        #expect(recipe.name == "deep")
    }
}
