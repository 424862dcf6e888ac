// `loom run RECIPE` — plan the recipe (every variant, or those named), record one run per variant, and
// execute what is not cached; `--dry-run` shows the DAG with cached/run per stage and why.
import ArgumentParser
import Foundation
import Pipeline
import Report
import Stages

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a recipe: every stage not already in the cache, one run per variant.",
        discussion: """
            Examples:
              loom run recipes/demo.yaml                      # all variants
              loom run recipes/demo.yaml --variant core -j 2  # one variant, two stages at a time
              loom run recipes/demo.yaml --force train        # rerun train and what depends on it
              loom run recipes/demo.yaml --dry-run            # what would run, and why
              loom run recipes/demo.yaml --executor slurm     # one sbatch job per stage
            """)

    @OptionGroup var store: StoreOptions

    @Argument(help: "The recipe file (recipes/NAME.yaml).")
    var recipe: String

    @Option(name: .long, help: ArgumentHelp("Run only this variant (repeatable).", valueName: "name"))
    var variant: [String] = []

    @OptionGroup var execution: ExecutorOptions

    @Option(name: .long, help: ArgumentHelp("Execute this stage even if cached, and everything after it (repeatable).", valueName: "stage"))
    var force: [String] = []

    @Flag(name: .long, help: "Show the DAG with cached/run per stage and why; run nothing.")
    var dryRun = false

    @Flag(name: .long, help: "With --dry-run: print JSON.")
    var json = false

    func run() throws {
        try Output.guarded {
            let recipeURL = URL(fileURLWithPath: recipe)
            guard FileManager.default.fileExists(atPath: recipeURL.path) else {
                throw CLIError("no such recipe: \(recipe)", exitCode: 2)
            }
            let store = try store.openStore()
            let preparation = RunPreparation(store: store, registry: StageCatalog.registry())
            let (recipe, plans) = try preparation.plan(recipeFile: recipeURL, variants: variant, forcedStages: force)
            if dryRun {
                let forecasts = try PlanExplainer(store: store).forecast(plans, forcedStages: Set(force))
                printDryRun(recipe: recipe, plans: plans, forecasts: forecasts)
                return
            }
            let (executor, jobs) = try StageRunning.executor(execution.executor ?? .local, options: execution, store: store, plans: plans)
            let runs = try preparation.createRuns(plans, recipe: recipe, executor: executor.name)
            let statuses = try StageRunning.execute(runs, store: store, executor: executor, jobs: jobs, forcedStages: Set(force))
            try StageRunning.exit(for: statuses)
        }
    }

    private func printDryRun(recipe: Recipe, plans: [Plan], forecasts: [[StageForecast]]) {
        if json {
            Output.printJSON(.object([
                "recipe": .string(recipe.displayPath),
                "variants": .array(zip(plans, forecasts).map { plan, stages in
                    .object([
                        "variant": .string(plan.variant),
                        "stages": .array(stages.map { forecast in
                            .object(["stage": .string(forecast.stage), "kind": .string(forecast.kind),
                                     "after": .array(forecast.after.map(JSONValue.string)), "fingerprint": .string(forecast.fingerprint),
                                     "action": .string(forecast.action.rawValue), "reason": .string(forecast.reason)])
                        }),
                    ])
                }),
            ]))
            return
        }
        var text = ""
        for (plan, stages) in zip(plans, forecasts) {
            text += "\(plan.label)  (\(recipe.displayPath)\(plan.variant.isEmpty ? "" : ", variant \(plan.variant)"))\n"
            var table = TextTable(header: [])
            for forecast in stages {
                let after = forecast.after.isEmpty ? "" : " ← " + forecast.after.joined(separator: ", ")
                table.add(["  " + forecast.stage + after, forecast.kind, forecast.action.rawValue,
                           String(forecast.fingerprint.prefix(12)), forecast.reason])
            }
            text += table.render()
        }
        let all = forecasts.joined()
        let toRun = all.filter { $0.action == .run }.count
        text += "\(toRun) stage(s) to run, \(all.filter { $0.action == .cached }.count) cached, \(all.filter { $0.action == .shared }.count) shared between variants (dry run: nothing was run)\n"
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
