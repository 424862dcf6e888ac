// `loom-torch exec-stage …` — runs one stage attempt of a kind that needs a model. It is the shared
// stage driver with this executable's registry: every descriptor and torch-free implementation from
// Stages, plus the model kinds' implementations as ModelStages registers them.
import ArgumentParser
import Pipeline
import ModelStages
import Stages

struct ExecStage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec-stage",
        abstract: "Run one stage attempt (started by `loom run`; not for direct use).",
        shouldDisplay: false)

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp(StageInvocation.usage))
    var arguments: [String] = []

    func run() throws {
        let status = ExecStageMain.run(arguments: arguments, registry: ModelStageCatalog.registry(), role: .loomTorch)
        if status != 0 { throw ExitCode(status) }
    }
}
