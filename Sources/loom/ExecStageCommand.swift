// `loom exec-stage …` — internal: runs one stage attempt of a torch-free kind (the runner starts it).
// `loom-torch exec-stage` is the same driver with the model kinds registered.
import ArgumentParser
import Pipeline
import Stages

struct ExecStageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec-stage",
        abstract: "Run one stage attempt (started by `loom run`; not for direct use).",
        shouldDisplay: false)

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp(StageInvocation.usage))
    var arguments: [String] = []

    func run() throws {
        let status = ExecStageMain.run(arguments: arguments, registry: StageCatalog.registry(), role: .loom)
        if status != 0 { throw ExitCode(status) }
    }
}
