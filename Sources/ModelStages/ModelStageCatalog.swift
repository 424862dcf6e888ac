// ModelStageCatalog — the registry `loom-torch exec-stage` runs with: every kind Stages declares and
// implements (StageCatalog), plus the implementations of the four kinds that need a model.
import Pipeline
import Stages

public enum ModelStageCatalog {
    public static func registry() -> StageKindRegistry {
        var registry = StageCatalog.registry()
        registry.register(PretrainBaseStage())
        registry.register(ExtendVocabStage())
        registry.register(TrainStage())
        registry.register(EvalStage())
        return registry
    }
}
