// TrainStage — the `train` kind (descriptor and parameters: Stages/TrainKind).
//
// The model is the upstream `extend-vocab` output (or the base model when the recipe extends no
// vocabulary), with its tokenizer. LoRA adapters go on the chosen projections (QLoRA: those
// projections' weights stored as NF4 as the model is read, so one dense layer exists at a time); the
// new-token rows (ids from the base vocabulary size on, listed in hyperwords.json) train beside them
// when `train_new_rows`. Scenes of the train split of `tiers` are `<s> … </s>` documents packed into
// seq_len windows; `train/val_loss` comes from the validation split of `val_tiers`. The Trainer
// checkpoints into the resume directory and a resumed attempt continues from the newest checkpoint.
//
// Output: the PEFT adapter (adapter_config.json — base_model_name_or_path is the extended model
// directory — and adapter_model.safetensors with the trained rows), the tokenizer files of the model
// it trained on, and training.json.
import Foundation
import LLM
import LoomCore
import Pipeline
import Stages
import Tokenizers
import Torch

struct TrainStage: StageKind {
    var descriptor: StageKindDescriptor { TrainKind.descriptor }

    func run(_ context: StageContext) throws {
        let parameters = try TrainKind.Parameters.load(context.params)
        // The other data-parallel ranks start first, so that they load the model and data meanwhile.
        let ranks = try DataParallelRanks.start(context, processes: parameters.loop.processes, timeoutSeconds: parameters.loop.groupTimeout)
        let upstream = UpstreamOutputs(context)
        let corpus = try upstream.corpus()
        let modelDirectory = try upstream.optionalDirectory(ofKind: ExtendVocabKind.descriptor.name) ?? upstream.baseModelDirectory()
        let tokenizer = try TokenizerLoader.loadHF(modelDirectory)
        let tiers = try CorpusSelection.tiers(parameters.tiers, in: corpus, parameter: "tiers")
        let validationTiers = parameters.valTiers.isEmpty ? tiers : try CorpusSelection.tiers(parameters.valTiers, in: corpus, parameter: "val_tiers")
        let computeDType = try ModelLoading.computeDType(parameters.dtype, method: parameters.method)
        // The recipe's targets as this model's family has them (Phi-3: q/k/v → qkv_proj, gate/up → gate_up_proj).
        let requested = parameters.lora.moduleNames.compactMap(LoRATarget.init(name:))
        let targets = try ModelConfig.load(from: modelDirectory).loraTargets(for: requested)
        if targets.map(\.rawValue) != parameters.lora.moduleNames {
            context.log.info("lora.targets \(parameters.lora.targets.joined(separator: ", ")) on this model: \(targets.map(\.rawValue).joined(separator: ", "))")
        }

        let device = ranks.device(try ModelLoading.device(parameters.loop.device, log: context.log), requested: parameters.loop.device)
        let model = try ModelLoading.load(modelDirectory, method: parameters.method, targets: targets, computeDType: computeDType, device: device)
        model.gradientCheckpointing = parameters.gradientCheckpointing
        let newRows = parameters.trainNewRows ? try ModelLoading.newTokenIds(in: modelDirectory) : []
        try model.applyLoRA(
            LoRAConfiguration(
                rank: parameters.lora.rank, alpha: parameters.lora.alpha, dropout: parameters.lora.dropout, targets: targets,
                useRSLoRA: parameters.lora.rslora, trainableTokenIndices: newRows, baseModelNameOrPath: modelDirectory.path),
            seed: UInt64(parameters.loop.seed))

        let loop = parameters.loop
        let (training, validation) = try TokenizedText.trainingData(
            context, corpus: corpus, tokenizerDirectory: modelDirectory, tiers: tiers, validationTiers: validationTiers,
            sequenceLength: loop.seqLen, validationTokens: parameters.valMaxTokens, metric: "train/val_loss",
            books: parameters.books, booksSeed: parameters.booksSeed)
        context.log.info(
            "\(parameters.method.rawValue) rank \(parameters.lora.rank) on \(parameters.lora.moduleNames.joined(separator: ", "))\(newRows.isEmpty ? "" : " and \(newRows.count) new-token rows"): \(model.trainableParameterCount) trainable parameters; \(training.tokenCount) training tokens of \(tiers.joined(separator: ", "))")
        if parameters.method == .qlora {
            let bytes = (0..<model.config.numHiddenLayers).reduce(0) { total, layer in
                total + targets.reduce(0) { $0 + model.base(layer: layer, $1).residentBytes }
            }
            let perParameter = Double(bytes) / Double(model.config.projectionWeights(targets))
            context.log.info("NF4 projections hold \(bytes) bytes (\(String(format: "%.3f", perParameter)) bytes per parameter)")
            context.metrics.log("train/nf4_bytes_per_parameter", perParameter, step: 0)
        }

        let configuration = StageTraining.configuration(loop, gradientAccumulation: parameters.gradAccum)
        let generators = model.dropoutGenerator.map { ["lora_dropout": $0] } ?? [:]
        let result = try StageTraining.run(
            context, model: model, configuration: configuration, training: training, evaluation: validation,
            generators: generators, metricPrefix: "train", device: device, maskPackedDocuments: parameters.packing == "masked", ranks: ranks)

        let output = context.outputDirectory
        try model.saveAdapter(to: output)
        for name in modelCompanionFileNames {  // hyperwords.json among them
            let source = modelDirectory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: source.path) else { continue }
            try AtomicFile.write(Data(contentsOf: source), to: output.appendingPathComponent(name))
        }
        let summary = TrainingSummary(
            result: result, configuration: configuration, corpusTokens: training.tokenCount, tiers: tiers,
            method: parameters.method.rawValue, trainableParameters: model.trainableParameterCount, device: device.description)
        try summary.write(to: output.appendingPathComponent(TrainingSummary.fileName))
        context.metrics.log([
            "train/tokens_seen": Double(summary.tokensSeen), "train/corpus_tokens": Double(summary.corpusTokens),
            "train/trainable_params": Double(summary.trainableParameters),
        ], step: summary.steps)
        context.registerArtifact(name: "adapter", path: "adapter_model.safetensors")
        context.registerArtifact(name: "adapter_config", path: "adapter_config.json")
    }
}
