// StageCatalog — every stage kind Loom knows. Descriptors (name, version, schema, executable) are
// torch-free and all declared here, so `loom` validates and fingerprints any recipe; implementations
// are registered by the executable that runs them: `loom` registers the torch-free ones below,
// `loom-torch` starts from this registry and registers the model kinds from ModelStages. `hyperwords`
// runs in `loom-torch` (its `surprisal` ranking reads the base model) but its code is torch-free: it is
// registered here without the model's scoring, so the torch-free registry runs its frequency rankings
// in-process (tests), and ModelStages registers it again with the scoring plugged in.
import Pipeline

public enum StageCatalog {
    /// The kinds that need a model: declared here, implemented in ModelStages (run by `loom-torch`).
    public static let modelKinds: [StageKindDescriptor] = [
        PretrainBaseKind.descriptor, ExtendVocabKind.descriptor, TrainKind.descriptor, EvalKind.descriptor,
    ]

    /// Every descriptor, with the implementations that need no model.
    public static func registry() -> StageKindRegistry {
        var registry = StageKindRegistry()
        registry.register(CommandStage())
        registry.register(CorpusStage())
        registry.register(BaseTokenizerStage())
        registry.register(HyperwordsStage())
        registry.register(SynthesizeStage())
        registry.register(TokenizeStage())
        for descriptor in modelKinds { registry.declare(descriptor) }
        return registry
    }
}
