// Recipe — a loaded, validated recipe: its stages in dependency order and, per variant, every stage's
// resolved parameters. Produced by `RecipeLoader`; turned into fingerprinted plans by `Planner`.
import Foundation

public struct Recipe: Sendable {
    /// The file's stem (`recipes/demo.yaml` → `demo`): the experiment name runs are grouped under.
    public let name: String
    public let file: URL
    /// How messages name the recipe file (relative to the working directory when under it).
    public let displayPath: String
    /// Where relative input paths resolve and where commands run: the nearest ancestor of the recipe
    /// holding a `pipelines/` directory, else the recipe's own directory.
    public let projectDirectory: URL
    public let description: String?
    /// The pipeline's name when the recipe names one.
    public let pipelineName: String?
    /// Variant names in the order written; empty when the recipe has no variants.
    public let variantNames: [String]
    /// Where `variants:` is written (or the recipe's first line): errors about `--variant` point here.
    public let variantsLocation: SourceLocation
    /// Stages with parameters per variant ("" when the recipe has no variants).
    public let variants: [String: [ResolvedStage]]
    /// The `executor:` section: retries and Slurm resources (empty when the recipe has none).
    public let executor: ExecutorSettings
}

/// One stage of one variant after validation.
public struct ResolvedStage: Sendable {
    public let name: String
    public let descriptor: StageKindDescriptor
    /// Upstream stages, whose output directories this stage receives.
    public let after: [String]
    public let params: ValidatedParams
}
