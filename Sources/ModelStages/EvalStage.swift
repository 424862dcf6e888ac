// EvalStage — the `eval` kind (descriptor and parameters: Stages/EvalKind).
//
// Both models read the same whole scenes of `split` of `tier`: the base model with its own tokenizer,
// the tuned one (the extended model + the upstream adapter, on NF4 bases again when the adapter was
// trained with QLoRA) with the extended tokenizer. Measured for each (HeldOutScoring): mean loss per
// token, perplexity, and bits per byte — the one of the three comparable across vocabularies; the two
// tokenizers' tokens per word and bytes per token; the extended model's bits per byte before training
// (the tuned model with its adapter detached: where training started, so that new-row initialisations
// compare); KL(base‖tuned) and top-1 agreement of next-token distributions on probe windows
// (ProbeDivergence); what a scene costs each to train on (SceneCompute: tokens per scene, training FLOPs
// per MB of text, activations of a scene-length batch); and seeded generations for `prompts`.
//
// Output: eval.json (every measure, with the text's size) and generations.json
// ([{prompt, base, tuned, seed}]). Metrics `eval/*` at step 0.
import Corpus
import Foundation
import LLM
import LoomCore
import Pipeline
import Stages
import Tokenizers
import Torch

struct EvalStage: StageKind {
    var descriptor: StageKindDescriptor { EvalKind.descriptor }

    func run(_ context: StageContext) throws {
        let parameters = try EvalKind.Parameters.load(context.params)
        let upstream = UpstreamOutputs(context)
        let corpus = try upstream.corpus()
        _ = try CorpusSelection.tiers([parameters.tier], in: corpus, parameter: "tier")
        let baseDirectory = try upstream.baseModelDirectory()
        let tunedDirectory = try upstream.optionalDirectory(ofKind: ExtendVocabKind.descriptor.name) ?? baseDirectory
        let adapterDirectory = try upstream.directory(ofKind: TrainKind.descriptor.name)
        let training = try TrainingSummary.read(from: adapterDirectory)
        let method = training?.method.flatMap(TrainKind.Method.init(rawValue:)) ?? .lora
        let computeDType = try ModelLoading.computeDType(parameters.dtype, method: method)

        let scenes = try Self.scenes(of: corpus, parameters: parameters)
        let bytes = scenes.reduce(0) { $0 + $1.utf8.count }
        context.log.info("evaluating on \(scenes.count) scenes (\(bytes) bytes) of the \(parameters.split) split of \(parameters.tier)")

        let baseTokenizer = try TokenizerLoader.loadHF(baseDirectory)
        let tunedTokenizer = try TokenizerLoader.loadHF(tunedDirectory)
        let tokenizers = TokenizerMeasures.compare(base: baseTokenizer, extended: tunedTokenizer, texts: scenes)

        context.progress.report(message: "scoring the base model")
        let device = try ModelLoading.device(parameters.device, log: context.log)
        // Both models compute in the same dtype, so that the comparison measures the tuning alone.
        let base = try loadCausalLM(from: baseDirectory, dtype: computeDType, device: device)
        // The base windows serve both the base model's score and the probe.
        let baseWindows = TokenizedText.scoringWindows(scenes: scenes, tokenizer: baseTokenizer, length: parameters.seqLen)
        let baseScore = try HeldOutScoring.score(model: base, windows: baseWindows, bytes: bytes, batchSize: parameters.batchSize)
        try context.checkCancellation()

        context.progress.report(message: "scoring the tuned model")
        // QLoRA's base quantised as its training quantised it: the adapter's own targets.
        let tuned = try ModelLoading.load(tunedDirectory, method: method, targets: nil, adapter: adapterDirectory, computeDType: computeDType, device: device)
        // The tuned model's prompts from the token store its training read, when there is one.
        let tunedPrompts = try TokenizeStage.upstreamStore(context, tokenizerDirectory: tunedDirectory)?
            .scenePrompts(split: parameters.corpusSplit, tiers: [parameters.tier], count: scenes.count) ?? scenes.map { tunedTokenizer.encodePrompt($0) }
        let tunedWindows = tunedPrompts.flatMap { TokenizedText.scoringWindows($0, length: parameters.seqLen) }
        let tunedScore = try HeldOutScoring.score(model: tuned, windows: tunedWindows, bytes: bytes, batchSize: parameters.batchSize)
        try context.checkCancellation()

        context.progress.report(message: "comparing next-token distributions")
        let probe = try ProbeDivergence.measure(
            base: base, tuned: tuned, windows: ProbeDivergence.windows(from: baseWindows, count: parameters.probeSize, seed: parameters.seed))
        try context.checkCancellation()

        let baseCompute = SceneCompute(
            config: base.config, trainableParameters: tuned.trainableParameterCount,
            sceneTokens: scenes.map { baseTokenizer.encodePrompt($0).count }, bytes: bytes, batch: parameters.batchSize)
        let tunedCompute = SceneCompute(
            config: tuned.config, trainableParameters: tuned.trainableParameterCount,
            sceneTokens: tunedPrompts.map(\.count), bytes: bytes, batch: parameters.batchSize)

        var generations: [Generation] = []
        for (index, prompt) in parameters.prompts.enumerated() {
            context.progress.report(step: index, total: parameters.prompts.count, message: "generating")
            let seed = parameters.seed + index
            generations.append(Generation(
                prompt: prompt, base: try generate(base, baseTokenizer, prompt, parameters, seed: seed),
                tuned: try generate(tuned, tunedTokenizer, prompt, parameters, seed: seed), seed: seed))
            try context.checkCancellation()
        }

        // Step 0 of the tuned model: the extended model as extend-vocab initialised it, without the adapter
        // (its LoRA and its trained new-token rows detached), on the same windows — what training started from.
        var extendedScore: HeldOutScore? = nil
        if tunedDirectory != baseDirectory {
            context.progress.report(message: "scoring the extended model without the adapter")
            tuned.removeAdapter()
            extendedScore = try HeldOutScoring.score(model: tuned, windows: tunedWindows, bytes: bytes, batchSize: parameters.batchSize)
            try context.checkCancellation()
        }

        var metrics: [String: Double] = [
            "eval/loss": tunedScore.meanLoss, "eval/bits_per_byte": tunedScore.bitsPerByte, "eval/perplexity": tunedScore.perplexity,
            "eval/base_loss": baseScore.meanLoss, "eval/base_bits_per_byte": baseScore.bitsPerByte,
            "eval/base_perplexity": baseScore.perplexity,
            "eval/tokens_per_word": tokenizers.extended.tokensPerWord, "eval/bytes_per_token": tokenizers.extended.bytesPerToken,
            "eval/base_tokens_per_word": tokenizers.base.tokensPerWord, "eval/base_bytes_per_token": tokenizers.base.bytesPerToken,
            "eval/tokens_per_scene": tunedCompute.tokensPerScene, "eval/base_tokens_per_scene": baseCompute.tokensPerScene,
            "eval/train_gflops_per_mb": tunedCompute.trainingFLOPsPerMB / 1e9, "eval/base_train_gflops_per_mb": baseCompute.trainingFLOPsPerMB / 1e9,
            "eval/activation_mb_per_batch": tunedCompute.activationBytes / 1_048_576,
            "eval/base_activation_mb_per_batch": baseCompute.activationBytes / 1_048_576,
        ]
        if let extendedScore { metrics["eval/extended_bits_per_byte"] = extendedScore.bitsPerByte }
        if let probe {
            metrics["eval/kl_base_tuned"] = probe.klDivergence
            metrics["eval/top1_agreement"] = probe.topOneAgreement
        }
        context.metrics.log(metrics, step: 0)
        context.log.info(String(
            format: "bits per byte %.4f (base %.4f%@); loss %.4f (base %.4f); tokens per word %.3f (base %.3f)%@",
            tunedScore.bitsPerByte, baseScore.bitsPerByte,
            extendedScore.map { String(format: ", extended before training %.4f", $0.bitsPerByte) } ?? "", tunedScore.meanLoss, baseScore.meanLoss,
            tokenizers.extended.tokensPerWord, tokenizers.base.tokensPerWord,
            probe.map { String(format: "; KL(base‖tuned) %.4f, top-1 agreement %.3f", $0.klDivergence, $0.topOneAgreement) } ?? ""))
        context.log.info(String(
            format: "per scene: %.1f tokens (base %.1f); training %.1f GFLOP per MB of text (base %.1f); activations of a batch of %d scene-length sequences %.1f MB (base %.1f)",
            tunedCompute.tokensPerScene, baseCompute.tokensPerScene, tunedCompute.trainingFLOPsPerMB / 1e9, baseCompute.trainingFLOPsPerMB / 1e9,
            parameters.batchSize, tunedCompute.activationBytes / 1_048_576, baseCompute.activationBytes / 1_048_576))

        let output = context.outputDirectory
        let report = EvalReport(
            tier: parameters.tier, split: parameters.split, scenes: scenes.count, bytes: bytes, base: baseScore, tuned: tunedScore,
            extended: extendedScore,
            tokenizers: tokenizers, probe: probe, compute: Compute(base: baseCompute, tuned: tunedCompute), device: device.description,
            metrics: metrics)
        try AtomicFile.writeJSON(report, to: output.appendingPathComponent("eval.json"))
        try AtomicFile.writeJSON(generations, to: output.appendingPathComponent("generations.json"))
        context.registerArtifact(name: "eval", path: "eval.json")
        context.registerArtifact(name: "generations", path: "generations.json")
    }

    struct Generation: Codable, Equatable {
        let prompt: String
        let base: String
        let tuned: String
        let seed: Int
    }

    struct EvalReport: Encodable {
        let tier: String
        let split: String
        let scenes: Int
        let bytes: Int
        let base: HeldOutScore
        let tuned: HeldOutScore
        /// The extended model without the adapter (step 0 of training); nil when nothing extended the base.
        let extended: HeldOutScore?
        let tokenizers: TokenizerComparison
        let probe: ProbeDivergence.Result?
        let compute: Compute
        /// Where both models ran (`cpu`, `cuda:0`).
        let device: String
        let metrics: [String: Double]
    }

    struct Compute: Encodable {
        let base: SceneCompute
        let tuned: SceneCompute
    }

    /// The scene texts evaluated: corpus order, at most `max_scenes` of them and until `max_bytes`.
    static func scenes(of corpus: CorpusReader, parameters: EvalKind.Parameters) throws -> [String] {
        var scenes: [String] = []
        var bytes = 0
        try corpus.forEachScene(split: parameters.corpusSplit, tiers: [parameters.tier]) { scene in
            if parameters.maxScenes > 0, scenes.count >= parameters.maxScenes { return }
            if parameters.maxBytes > 0, bytes >= parameters.maxBytes { return }
            scenes.append(scene.text)
            bytes += scene.text.utf8.count
        }
        guard !scenes.isEmpty else {
            throw UpstreamError("tier: the \(parameters.split) split of \(parameters.tier) holds no scenes to evaluate")
        }
        return scenes
    }

    private func generate(_ model: any CausalLanguageModel, _ tokenizer: any Tokenizer, _ prompt: String, _ parameters: EvalKind.Parameters, seed: Int) throws -> String {
        // Training documents are `<s> scene </s>`: a scene ends at `</s>`, or where the next would begin.
        let stops = model.config.eosTokenIds + (tokenizer.specialTokens.bos.map { [$0] } ?? [])
        let result = try model.generate(prompt: tokenizer.encodePrompt(prompt), options: GenerationOptions(
            maxNewTokens: parameters.maxNewTokens, temperature: parameters.temperature, topP: parameters.topP, seed: UInt64(seed),
            stopTokenIds: stops))
        return tokenizer.decode(result.tokens.filter { !stops.contains($0) })
    }
}
