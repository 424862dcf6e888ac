// StageCatalog — every stage kind Loom knows. Descriptors (name, version, schema, executable) are
// torch-free and all declared here, so `loom` validates and fingerprints any recipe; implementations
// are registered by the executable that runs them: `loom` registers the torch-free ones below,
// `loom-torch` starts from this registry and registers the model kinds from ModelStages.
import Pipeline

public enum StageCatalog {
    /// Every descriptor, with the implementations that need no model.
    public static func registry() -> StageKindRegistry {
        var registry = StageKindRegistry()
        registry.register(CommandStage())
        return registry
    }
}
