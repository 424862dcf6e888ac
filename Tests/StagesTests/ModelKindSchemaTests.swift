// ModelKindSchemaTests — the torch-free half of the model kinds: their descriptors are declared for
// `loom` (validated and fingerprinted, never run there), recipes with mistakes in their parameters are
// refused with the key and what was expected, and the decoded parameters fill in defaults that depend
// on other keys and refuse values that break rules between keys.
import Foundation
import Pipeline
import Stages
import StageTestSupport
import TestSupport
import Testing

@Suite struct ModelKindSchemaTests {
    let project: StagesProject

    init() throws {
        project = try StagesProject()
        try project.addFortuneTiers()
    }

    /// Every documented key of a schema, sections and list items included.
    func undocumentedKeys(_ schema: ParamSchema, prefix: String = "") -> [String] {
        schema.specs.flatMap { spec -> [String] in
            var missing = spec.doc.isEmpty ? [prefix + spec.key] : []
            switch spec.type {
            case .section(let nested), .list(.section(let nested)): missing += undocumentedKeys(nested, prefix: prefix + spec.key + ".")
            default: break
            }
            return missing
        }
    }

    @Test func theModelKindsAreDeclaredForLoomTorchWithDocumentedParameters() throws {
        let registry = StageCatalog.registry()
        for name in ["pretrain-base", "extend-vocab", "train", "eval"] {
            let descriptor = try #require(registry.descriptor(named: name))
            #expect(descriptor.executable == .loomTorch)
            #expect(registry.implementation(named: name) == nil, "\(name) is implemented by ModelStages, not by loom")
            #expect(undocumentedKeys(descriptor.schema).isEmpty)
        }
        for name in ["corpus", "base-tokenizer", "hyperwords"] {
            let descriptor = try #require(registry.descriptor(named: name))
            // hyperwords runs in loom-torch (its surprisal ranking reads the base model); its torch-free
            // implementation runs the frequency rankings in-process.
            #expect(descriptor.executable == (name == "hyperwords" ? .loomTorch : .loom))
            #expect(registry.implementation(named: name) != nil)
            #expect(undocumentedKeys(descriptor.schema).isEmpty)
        }
        #expect(registry.declaredGoal(forMetric: "eval/top1_agreement") == MetricGoal.none)
        #expect(registry.declaredGoal(forMetric: "eval/kl_base_tuned") == MetricGoal.none)
        #expect(registry.declaredGoal(forMetric: "hyperwords/token_reduction") == .maximize)
    }

    /// The model stages after corpus and tokenizer, with `train` and `eval` parameters as given.
    func writeModelRecipe(base: String = "{}", extend: String = "{}", train: String, eval: String = "{}") throws {
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + """
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}
              base: {kind: pretrain-base, after: [corpus, tokenizer], params: \(base)}
              hyperwords: {kind: hyperwords, after: [corpus, tokenizer]}
              extend: {kind: extend-vocab, after: [base, hyperwords], params: \(extend)}
              train: {kind: train, after: [corpus, extend], params: \(train)}
              eval: {kind: eval, after: [corpus, base, extend, train], params: \(eval)}
            """)
    }

    @Test func mistakesInModelParametersAreRefusedWithoutLibtorch() throws {
        try writeModelRecipe(
            base: "{path: models/nope, model: {hidden_size: 4}}",
            train: "{method: qlra, lora: {rnak: 8, targets: [q, x]}, rank: 4, lr: 0}",
            eval: "{split: test, top_p: 1.5}")
        let root = project.root.standardizedFileURL.path
        let errors = try project.recipeErrors("recipes/r.yaml").replacingOccurrences(of: root + "/", with: "").components(separatedBy: "\n")
        let expected = [
            "stages.base.params.path: no such file or directory: models/nope (looked in \(root))",
            "stages.base.params.model.hidden_size: 4 is out of range: must be ≥ 8 and ≤ 65536",
            "stages.train.params.method: 'qlra' is not one of lora, qlora — did you mean qlora?",
            "stages.train.params.lora.rnak: unknown key — did you mean lora.rank?",
            "stages.train.params.lora.targets[1]: 'x' is not one of q, k, v, o, gate, up, down, qkv, gate_up — did you mean q?",
            "stages.train.params.rank: unknown key — did you mean lora.rank?",
            "stages.train.params.lr: 0 is out of range: must be > 0 and ≤ 1",
            "stages.eval.params.split: 'test' is not one of validation, train",
            "stages.eval.params.top_p: 1.5 is out of range: must be > 0 and ≤ 1",
        ]
        for message in expected {
            #expect(errors.contains { $0.hasPrefix("recipes/r.yaml:") && $0.hasSuffix(": " + message) }, "missing: \(message)\nin:\n\(errors.joined(separator: "\n"))")
        }
        #expect(errors.count == expected.count)
    }

    @Test func extendVocabInitialisationsAndTheirSettingsAreChecked() throws {
        try writeModelRecipe(extend: "{init: hiden, ridge: 0, layer: 5000, fit_tokens: -1, device: tpu}", train: "{}")
        let errors = try ruleErrors()
        for message in [
            "stages.extend.params.init: 'hiden' is not one of mean, first-last, random, hidden — did you mean hidden?",
            "stages.extend.params.ridge: 0 is out of range: must be > 0 and ≤ 1000",
            "stages.extend.params.layer: 5000 is out of range: must be ≥ -1025 and ≤ 1024",
            "stages.extend.params.fit_tokens: -1 is out of range: must be ≥ 0",
        ] {
            #expect(errors.contains(message), "missing: \(message)\nin:\n\(errors.joined(separator: "\n"))")
        }
        try writeModelRecipe(extend: "{init: hidden, device: tpu}", train: "{}")
        #expect(try ruleErrors() == ["stages.extend.params.device: expected auto, cpu, cuda or cuda:N, got 'tpu'"])
        try writeModelRecipe(extend: "{init: hidden, layer: 6}", train: "{}")
        let extend = try ExtendVocabKind.Parameters.load(try params("extend"))
        #expect(extend.initialisation == .hidden && extend.layer == 6 && extend.fitTokens == 4096 && extend.ridge == 0.01)
        #expect(extend.batchSize == 64 && extend.device == "auto")
    }

    /// The resolved parameters of one stage of the recipe's plan.
    func params(_ stage: String) throws -> StageParameters {
        StageParameters(try #require(try project.plans("recipes/r.yaml").first?.stage(named: stage)).params)
    }

    @Test func decodedParametersFillInDependentDefaults() throws {
        try writeModelRecipe(
            base: "{model: {hidden_size: 128, num_attention_heads: 4}}",
            train: "{method: qlora, lora: {rank: 16, alpha: 32, targets: [v, q, down], rslora: true}, steps: 30}",
            eval: "{prompts: [Жизнь]}")
        let base = try PretrainBaseKind.Parameters.load(try params("base"))
        #expect(base.path == nil)
        #expect(base.model.mlpWidth == 384)
        #expect(base.model.keyValueHeads == 4)
        #expect(base.model.headSize == 32)
        #expect(base.loop.schedule == .cosine && base.loop.seqLen == 256 && base.loop.batchSize == 16)
        let train = try TrainKind.Parameters.load(try params("train"))
        #expect(train.method == .qlora)
        #expect(train.lora.moduleNames == ["q_proj", "v_proj", "down_proj"])
        #expect(train.lora.scale == 32 / 4)
        #expect(train.trainNewRows)
        #expect(train.tiers.isEmpty)
        #expect(train.loop.steps == 30 && train.loop.warmupSteps == 20 && train.loop.lr == 2e-4 && train.gradAccum == 1)
        let eval = try EvalKind.Parameters.load(try params("eval"))
        #expect(eval.tier == "core" && eval.split == "validation" && eval.prompts == ["Жизнь"])
        #expect(try ExtendVocabKind.Parameters.load(try params("extend")).initialisation == .mean)
    }

    /// The recipe errors of the rules between keys (checked when the recipe is validated, before any stage
    /// runs, and again when a kind decodes its parameters), without their positions.
    func ruleErrors() throws -> [String] {
        try project.recipeErrors("recipes/r.yaml").components(separatedBy: "\n").filter { !$0.isEmpty }
            .map { String($0.split(separator: " ", maxSplits: 1).last!) }
    }

    @Test func rulesBetweenKeysAreRecipeErrors() throws {
        try writeModelRecipe(base: "{model: {hidden_size: 100, num_attention_heads: 3}}", train: "{lora: {targets: [q, q]}}")
        #expect(try ruleErrors() == [
            "stages.base.params.model.num_attention_heads: 3 does not divide hidden_size 100",
            "stages.train.params.lora.targets: 'q' is listed twice",
        ])
        try writeModelRecipe(base: "{model: {hidden_size: 96, num_attention_heads: 32}}", train: "{lora: {targets: []}}")
        #expect(try ruleErrors() == [
            "stages.base.params.model.num_attention_heads: head size hidden_size / num_attention_heads = 3 must be even (RoPE rotates pairs)",
            "stages.train.params.lora.targets: name at least one of q, k, v, o, gate, up, down",
        ])
        try writeModelRecipe(base: "{model: {num_attention_heads: 4, num_key_value_heads: 3}}", train: "{steps: 10, warmup_steps: 20}")
        #expect(try ruleErrors() == [
            "stages.base.params.model.num_key_value_heads: 3 does not divide num_attention_heads 4",
            "stages.train.params.warmup_steps: 20 is more than steps (10)",
        ])
    }
}

@Suite struct DeviceKeyTests {
    // `device` says where a model kind runs, not what it computes: it is not in the fingerprint, and only
    // its syntax is checked when the recipe is validated (the machine that runs the stage checks the rest).
    @Test func deviceIsOutOfTheFingerprintAndItsSyntaxIsChecked() throws {
        let project = try StagesProject()
        try project.addFortuneTiers()
        func recipe(_ device: String) -> String {
            "stages:\n" + StagesProject.corpusStage() + """
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}
              base: {kind: pretrain-base, after: [corpus, tokenizer], params: {steps: 10, warmup_steps: 2\(device)}}
            """
        }
        try project.write("recipes/auto.yaml", recipe(""))
        try project.write("recipes/cpu.yaml", recipe(", device: cpu"))
        try project.write("recipes/cuda.yaml", recipe(", device: 'cuda:1'"))
        let fingerprints = try ["auto", "cpu", "cuda"].map { name in
            try #require(try project.plans("recipes/\(name).yaml").first?.stages.first { $0.name == "base" }?.fingerprint)
        }
        #expect(Set(fingerprints).count == 1, "\(fingerprints)")
        try project.write("recipes/bad.yaml", recipe(", device: gpu"))
        #expect(try project.recipeErrors("recipes/bad.yaml").contains("stages.base.params.device: expected auto, cpu, cuda or cuda:N, got 'gpu'"))
    }
}

@Suite struct RulesBetweenKeysTests {
    // A rule between keys (warmup_steps ≤ steps, heads dividing the hidden size) is checked when the
    // recipe is validated, with the key's position — not when the stage starts, after the stages
    // before it ran for minutes.
    @Test func brokenRulesBetweenKeysAreRecipeErrorsAtTheirKeys() throws {
        let project = try StagesProject()
        try project.addFortuneTiers()
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + """
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}
              base: {kind: pretrain-base, after: [corpus, tokenizer], params: {model: {hidden_size: 100, num_attention_heads: 3}}}
              hyperwords: {kind: hyperwords, after: [corpus, tokenizer]}
              extend: {kind: extend-vocab, after: [base, hyperwords]}
              train: {kind: train, after: [corpus, extend], params: {steps: 10, warmup_steps: 20}}
            """)
        let root = project.root.standardizedFileURL.path
        let errors = try project.recipeErrors("recipes/r.yaml").replacingOccurrences(of: root + "/", with: "")
        #expect(errors.contains("stages.base.params.model.num_attention_heads: 3 does not divide hidden_size 100"), "\(errors)")
        #expect(errors.contains("stages.train.params.warmup_steps: 20 is more than steps (10)"), "\(errors)")
        // Each at its key's line and column in the recipe.
        let lines = try String(contentsOf: project.root.appendingPathComponent("recipes/r.yaml"), encoding: .utf8).components(separatedBy: "\n")
        let warmupLine = try #require(lines.firstIndex { $0.contains("warmup_steps: 20") }) + 1
        #expect(errors.contains("recipes/r.yaml:\(warmupLine):"), "\(errors)")
    }
}

@Suite struct TypedParametersTests {
    // Every kind reads its parameters as one Decodable struct (KindParameters): the schema's resolved
    // values, defaults included, decode into it — so a key added to a schema without its field (or the
    // other way round) fails here, not in a run.
    @Test func theTorchFreeKindsDecodeTheirResolvedParameters() throws {
        let project = try StagesProject()
        try project.addFortuneTiers()
        try project.write("recipes/r.yaml", "stages:\n" + StagesProject.corpusStage() + """
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400, tiers: [core]}}
              hyperwords: {kind: hyperwords, after: [corpus, tokenizer], params: {count: 50, heldout_tier: orbit}}
              note: {kind: command, params: {run: 'echo hi', env: {A: b}, vars: {n: 3}}}
            """)
        let stages = try #require(try project.plans("recipes/r.yaml").first?.stages)
        func params(_ name: String) throws -> StageParameters { StageParameters(try #require(stages.first { $0.name == name }).params) }
        let corpus = try CorpusStage.Parameters.load(params("corpus"))
        #expect(corpus.tiers.map(\.name) == ["core", "orbit", "fractal"] && corpus.sceneMaxChars == 4000 && corpus.options.shardBytes == 64 << 20)
        let tokenizer = try BaseTokenizerStage.Parameters.load(params("tokenizer"))
        #expect(tokenizer.path == nil && tokenizer.vocabSize == 400 && tokenizer.tiers == ["core"] && tokenizer.byteFallback)
        let hyperwords = try HyperwordsStage.Parameters.load(params("hyperwords"))
        #expect(hyperwords.options.targetCount == 50 && hyperwords.heldoutTier == "orbit" && hyperwords.ranking == "tokens")
        let command = try CommandStage.Parameters.load(params("note"))
        #expect(command.run == "echo hi" && command.env == ["A": "b"] && command.vars == .object(["n": .int(3)]))
    }
}
