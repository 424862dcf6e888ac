// RecipeErrorTests — every kind of recipe mistake is caught before anything runs, reported at its
// file:line:column with its key path and, where a near name exists, a suggestion.
import Foundation
import Pipeline
import Testing

@Suite struct RecipeErrorTests {
    let project: TestProject

    init() throws {
        project = try TestProject()
        try project.write("pipelines/train.yaml", """
            stages:
              prepare:
                kind: write
                params: {text: prep}
              train:
                kind: write
                after: [prepare]
              eval:
                kind: write
                after: [train]
            """)
    }

    /// The single error a recipe produces, rendered.
    func onlyError(_ text: String, file: String = "recipes/r.yaml", variants: [String] = []) throws -> String {
        try project.write(file, text)
        let errors = project.errors(file, variants: variants)
        #expect(errors.count == 1, "expected one error, got \(errors)")
        return errors.first.map { description(of: $0) } ?? ""
    }

    /// Errors name files relative to the working directory; tests compare from the project root.
    func description(of error: RecipeError) -> String {
        error.description.replacingOccurrences(of: project.root.path + "/", with: "")
    }

    @Test func unknownKeySuggestsTheNearestKeyWithItsSection() throws {
        let message = try onlyError("""
            pipeline: train
            params:
              train:
                lora:
                  rnak: 16
            """)
        #expect(message.hasSuffix("recipes/r.yaml:5:7: params.train.lora.rnak: unknown key — did you mean lora.rank?"), "\(message)")
    }

    @Test func keyInTheWrongSectionSuggestsWhereItBelongs() throws {
        let message = try onlyError("pipeline: train\nparams:\n  train:\n    dropout: 0.1\n")
        #expect(message.hasSuffix("recipes/r.yaml:4:5: params.train.dropout: unknown key — did you mean lora.dropout?"), "\(message)")
    }

    @Test func wrongTypeNamesTheExpectedType() throws {
        let message = try onlyError("pipeline: train\nparams:\n  train:\n    lora: {rank: eight}\n")
        #expect(message.hasSuffix("recipes/r.yaml:4:18: params.train.lora.rank: expected an integer, got \"eight\""), "\(message)")
        let list = try onlyError("pipeline: train\nparams:\n  train:\n    inputs: {a: 1}\n")
        #expect(list.contains("params.train.inputs: expected a list of paths, got a map"), "\(list)")
    }

    @Test func outOfRangeValuesNameTheRange() throws {
        let rank = try onlyError("pipeline: train\nparams:\n  train:\n    lora: {rank: 0}\n")
        #expect(rank.hasSuffix("recipes/r.yaml:4:18: params.train.lora.rank: 0 is out of range: must be ≥ 1 and ≤ 1024"), "\(rank)")
        let dropout = try onlyError("pipeline: train\nparams:\n  train:\n    lora: {dropout: 1.5}\n")
        #expect(dropout.contains("params.train.lora.dropout: 1.5 is out of range: must be ≥ 0 and ≤ 1"), "\(dropout)")
        let lr = try onlyError("pipeline: train\nparams:\n  train:\n    lora: {lr: 0}\n")
        #expect(lr.contains("params.train.lora.lr: 0 is out of range: must be > 0"), "\(lr)")
    }

    @Test func choiceSuggestsTheNearestWord() throws {
        let message = try onlyError("pipeline: train\nparams:\n  train:\n    method: qlra\n")
        #expect(message.hasSuffix("recipes/r.yaml:4:13: params.train.method: 'qlra' is not one of lora, qlora — did you mean qlora?"), "\(message)")
    }

    @Test func missingRequiredKeyIsReportedAtTheStage() throws {
        let message = try onlyError("""
            stages:
              fit:
                kind: strict
                params: {}
            """)
        #expect(message.contains("recipes/r.yaml:4:13: stages.fit.params: missing required key 'steps' (an integer: optimizer steps)"), "\(message)")
    }

    @Test func missingStageInAfterSuggestsTheNearestStage() throws {
        let message = try onlyError("""
            pipeline: train
            stages:
              report:
                kind: write
                after: [evl]
            """)
        #expect(message.hasSuffix("recipes/r.yaml:5:13: stages.report.after[0]: unknown stage 'evl' — did you mean eval? (stages: prepare, train, eval, report)"), "\(message)")
    }

    @Test func paramsForAnUnknownStageSuggest() throws {
        let message = try onlyError("pipeline: train\nparams:\n  trian: {text: x}\n")
        #expect(message.hasSuffix("recipes/r.yaml:3:3: params.trian: unknown stage — did you mean train? (stages: prepare, train, eval)"), "\(message)")
    }

    @Test func cyclesAreReportedWithTheirPath() throws {
        let message = try onlyError("""
            stages:
              a: {kind: write, after: [c]}
              b: {kind: write, after: [a]}
              c: {kind: write, after: [b]}
              d: {kind: write}
            """)
        #expect(message.contains("cycle: a → c → b → a"), "\(message)")
        #expect(message.hasPrefix("recipes/r.yaml:2:28: stages.a.after[0]") || message.contains("recipes/r.yaml:"), "\(message)")
        let selfEdge = try onlyError("stages:\n  a: {kind: write, after: [a]}\n")
        #expect(selfEdge.contains("stages.a.after[0]: stage 'a' cannot come after itself"), "\(selfEdge)")
    }

    @Test func unknownPipelineSuggestsExistingOnes() throws {
        let message = try onlyError("pipeline: trian\n")
        #expect(message.hasSuffix("recipes/r.yaml:1:11: pipeline: unknown pipeline 'trian': no pipelines/trian.yaml — did you mean train?"), "\(message)")
        let far = try onlyError("pipeline: something\n")
        #expect(far.contains("(pipelines: train)"), "\(far)")
    }

    @Test func unknownKindListsTheKinds() throws {
        let message = try onlyError("stages:\n  a: {kind: wrte}\n")
        #expect(message.hasSuffix("recipes/r.yaml:2:13: stages.a.kind: unknown stage kind 'wrte' — did you mean write? (kinds: misbehave, strict, train-model, write)"), "\(message)")
    }

    @Test func badExtendsNamesTheMissingFileAndSuggests() throws {
        try project.write("recipes/base.yaml", "pipeline: train\n")
        let message = try onlyError("extends: bse.yaml\n")
        #expect(message.hasSuffix("recipes/r.yaml:1:10: extends: cannot extend bse.yaml: no such file — did you mean base.yaml?"), "\(message)")
    }

    @Test func aRecipeThatIsNotUTF8NamesTheFirstBadByte() throws {
        try project.write("recipes/r.yaml", "pipeline: train\n")
        try Data("pipeline: tr".utf8 + [0xE9] + Data("in\n".utf8)).write(to: project.root.appendingPathComponent("recipes/r.yaml"))
        let errors = project.errors("recipes/r.yaml").map(description(of:))
        #expect(errors == ["recipes/r.yaml: cannot read file: not valid UTF-8 (byte 0xE9 at offset 12)"], "\(errors)")
    }

    @Test func aPipelineThatFailsToLoadDoesNotCascadeIntoUnknownStageErrors() throws {
        let message = try onlyError("""
            pipeline: trian
            params:
              train: {text: x}
            variants:
              a: {params: {eval: {text: y}}}
            """)
        #expect(message.contains("recipes/r.yaml:1:11: pipeline: unknown pipeline 'trian'"), "\(message)")
    }

    @Test func extendsCyclesAreCaught() throws {
        try project.write("recipes/a.yaml", "extends: b.yaml\npipeline: train\n")
        try project.write("recipes/b.yaml", "extends: a.yaml\n")
        let errors = project.errors("recipes/a.yaml").map(description(of:))
        #expect(errors.contains { $0.contains("extends cycle: a.yaml → b.yaml → a.yaml") }, "\(errors)")
    }

    @Test func unknownVariantSelectionSuggests() throws {
        let message = try onlyError("""
            pipeline: train
            variants:
              core: {}
              core+orbit: {params: {train: {text: more}}}
            """, variants: ["coer"])
        #expect(message.hasSuffix("recipes/r.yaml:2:1: variants: unknown variant 'coer' — did you mean core? (variants: core, core+orbit)"), "\(message)")
    }

    @Test func badVariantDefinitionsAreCaught() throws {
        let unknownStage = try onlyError("""
            pipeline: train
            variants:
              core:
                params: {trian: {text: x}}
            """)
        #expect(unknownStage.contains("recipes/r.yaml:4:14: variants.core.params.trian: unknown stage — did you mean train?"), "\(unknownStage)")
        let badKey = try onlyError("pipeline: train\nvariants:\n  core: {parms: {}}\n")
        #expect(badKey.contains("variants.core.parms: unknown variant key — did you mean params?"), "\(badKey)")
        let badName = try onlyError("pipeline: train\nvariants:\n  'core orbit': {}\n")
        #expect(badName.contains("variant names use letters, digits"), "\(badName)")
        let badValue = try onlyError("pipeline: train\nvariants:\n  core:\n    params: {train: {lora: {rank: 2000}}}\n")
        #expect(badValue.contains("recipes/r.yaml:4:35: variants.core.params.train.lora.rank: 2000 is out of range"), "\(badValue)")
    }

    @Test func missingInputPathsAreCaught() throws {
        let message = try onlyError("pipeline: train\nparams:\n  train: {inputs: [data/missing.txt]}\n")
        #expect(message.contains("recipes/r.yaml:3:20: params.train.inputs[0]: no such file or directory: data/missing.txt"), "\(message)")
        let pattern = try onlyError("pipeline: train\nparams:\n  train: {tiers: {core: [books/*.txt]}}\n")
        #expect(pattern.contains("params.train.tiers.core[0]: 'books/*.txt' matches no files"), "\(pattern)")
    }

    @Test func yamlSyntaxErrorsHaveAPosition() throws {
        let message = try onlyError("pipeline: train\nparams:\n  train: {text: [unclosed\n")
        #expect(message.hasPrefix(project.root.path) == false)
        #expect(message.contains("recipes/r.yaml:4:1: invalid YAML"), "\(message)")
    }

    @Test func unknownTopLevelKeySuggests() throws {
        let message = try onlyError("pipeline: train\nvariant: {}\n")
        #expect(message.hasSuffix("recipes/r.yaml:2:1: variant: unknown recipe key — did you mean variants? (valid: pipeline, description, extends, params, stages, variants, sweep, executor)"), "\(message)")
    }

    @Test func everyErrorIsReportedAtOnce() throws {
        try project.write("recipes/r.yaml", """
            pipeline: train
            params:
              train: {lora: {rnak: 4}, method: x}
              eval: {lora: {rank: -1}}
            """)
        let errors = project.errors("recipes/r.yaml")
        #expect(errors.count == 3, "\(errors)")
    }

    @Test func runningAModelKindIsPlannedWithItsExecutable() throws {
        try project.write("recipes/m.yaml", "stages:\n  fit: {kind: train-model, params: {steps: 5}}\n")
        let plan = try project.plans("recipes/m.yaml")[0]
        #expect(plan.stages[0].executable == .loomTorch)
    }
}
