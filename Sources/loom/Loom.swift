// Loom — the root command people type. Verbs that need a model are forwarded to `loom-torch`.
import ArgumentParser
import LoomCore

struct Loom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loom",
        abstract: "LoRA fine-tuning pipelines: recipes, cached stages, runs you can resume and compare.",
        version: LoomVersion.string,
        subcommands: [Version.self, ExecStageCommand.self],
        groupedSubcommands: [
            CommandGroup(name: "Runs", subcommands: [
                RunCommand.self, ResumeCommand.self, StatusCommand.self, RunsCommand.self, ShowCommand.self,
                LogsCommand.self, CompareCommand.self, ReportCommand.self, GCCommand.self, KindsCommand.self,
            ]),
            CommandGroup(name: "Corpus and tokenizers", subcommands: [
                CorpusCommand.self, TokenizeCommand.self, TokenizerCommand.self,
            ]),
            CommandGroup(name: "Models (run by loom-torch)", subcommands: ModelVerbs.commands),
        ]
    )
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print Loom's version.")
    func run() { print("loom \(LoomVersion.string)") }
}
