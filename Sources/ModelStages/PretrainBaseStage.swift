// PretrainBaseStage — the `pretrain-base` kind (descriptor and parameters: Stages/PretrainBaseKind).
//
// With `path` it checks that the directory is a model Loom can load (config.json of a supported
// architecture) and writes only `base-model.json` naming it. Otherwise it builds a Llama of the
// recipe's size with the base tokenizer's vocabulary, initialised as transformers does (N(0, 0.02),
// norms 1, seeded), trains every weight on the train split of `tiers` (scenes as `<s> … </s>`
// documents packed into seq_len windows; held-out loss on the same tiers' validation split) and writes
// a Hugging Face model directory: config.json, model.safetensors and the tokenizer files.
import Foundation
import LLM
import Pipeline
import Stages
import Tokenizers
import Torch

struct PretrainBaseStage: StageKind {
    var descriptor: StageKindDescriptor { PretrainBaseKind.descriptor }

    /// Most held-out tokens per `pretrain/val_loss` measurement.
    static let validationTokens = 65_536

    func run(_ context: StageContext) throws {
        let parameters = try PretrainBaseKind.Parameters.load(context.params)
        if let path = parameters.path {
            let directory = URL(fileURLWithPath: path)
            let configFile = directory.appendingPathComponent("config.json")
            guard FileManager.default.fileExists(atPath: configFile.path) else {
                throw UpstreamError("path: \(directory.path) holds no config.json: not a Hugging Face model directory")
            }
            let config = try ModelConfig.load(from: configFile)
            try BaseModelReference.write(pointingTo: directory, into: context.outputDirectory)
            context.log.info("using \(directory.path) (\(config.modelType), \(config.numHiddenLayers) layers, hidden \(config.hiddenSize), vocabulary \(config.vocabSize)) as the base model")
            return
        }

        let ranks = try DataParallelRanks.start(context, processes: parameters.loop.processes, timeoutSeconds: parameters.loop.groupTimeout)
        let upstream = UpstreamOutputs(context)
        let corpus = try upstream.corpus()
        let tokenizerDirectory = try upstream.baseTokenizerDirectory()
        let tokenizer = try TokenizerLoader.loadHF(tokenizerDirectory)
        let tiers = try CorpusSelection.tiers(parameters.tiers, in: corpus, parameter: "tiers")
        let loop = parameters.loop

        let (training, validation) = try TokenizedText.trainingData(
            context, corpus: corpus, tokenizerDirectory: tokenizerDirectory, tiers: tiers, validationTiers: tiers,
            sequenceLength: loop.seqLen, validationTokens: Self.validationTokens, metric: "pretrain/val_loss")

        let shape = parameters.model
        let special = tokenizer.specialTokens
        let config = ModelConfig(
            modelType: "llama", hiddenSize: shape.hiddenSize, intermediateSize: shape.mlpWidth, numHiddenLayers: shape.numHiddenLayers,
            numAttentionHeads: shape.numAttentionHeads, numKeyValueHeads: shape.keyValueHeads, vocabSize: tokenizer.vocabularySize,
            ropeTheta: shape.ropeTheta, rmsNormEps: shape.rmsNormEps, tieWordEmbeddings: shape.tieWordEmbeddings,
            maxPositionEmbeddings: loop.seqLen, bosTokenId: special.bos, eosTokenIds: special.eos.map { [$0] } ?? [])
        let device = ranks.device(try ModelLoading.device(loop.device, log: context.log), requested: loop.device)
        let model = try randomCausalLM(config: config, seed: UInt64(loop.seed), device: device)
        context.metrics.log("pretrain/parameters", Double(model.parameterCount), step: 0)
        context.log.info("pretraining a Llama of \(model.parameterCount) parameters (hidden \(shape.hiddenSize), \(shape.numHiddenLayers) layers, vocabulary \(config.vocabSize)) on \(training.tokenCount) tokens of \(tiers.joined(separator: ", "))")

        let configuration = StageTraining.configuration(loop)
        let trainable = try model.fullParameterTraining()
        let result = try StageTraining.run(
            context, model: trainable, configuration: configuration, training: training, evaluation: validation,
            generators: [:], metricPrefix: "pretrain", device: device, ranks: ranks)

        try model.saveModel(to: context.outputDirectory, mergeAdapter: false, companionsFrom: tokenizerDirectory)
        try TrainingSummary(
            result: result, configuration: configuration, corpusTokens: training.tokenCount, tiers: tiers,
            trainableParameters: model.parameterCount, device: device.description)
            .write(to: context.outputDirectory.appendingPathComponent(TrainingSummary.fileName))
        context.registerArtifact(name: "model", path: "model.safetensors")
        context.registerArtifact(name: "config", path: "config.json")
    }
}
