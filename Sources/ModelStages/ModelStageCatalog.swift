// ModelStageCatalog — the registry `loom-torch exec-stage` runs with: every kind Stages declares and
// implements (StageCatalog), plus the implementations of the four kinds that need a model, and
// `hyperwords` with the base model's scoring plugged in (its `surprisal` ranking).
import Pipeline
import Stages

public enum ModelStageCatalog {
    public static func registry() -> StageKindRegistry {
        var registry = StageCatalog.registry()
        registry.register(PretrainBaseStage())
        registry.register(ExtendVocabStage())
        registry.register(TrainStage())
        registry.register(EvalStage())
        registry.register(HyperwordsStage(scoring: HyperwordSurprisalScoring()))
        return registry
    }
}
