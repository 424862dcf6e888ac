// ReportCLITests — `loom report` as people use it, through the built `loom` binary: the shipped
// bigram recipe run for real and reported, the saturation pipeline in miniature (tiers, an init
// ablation, a rerun found entirely in the cache) answering its questions, a store shaped like the
// saturation experiment, and the errors (unknown run, no metrics, an --out that cannot be written, no
// store) with their messages.
import Foundation
import FoundationXML
import Report
import TestSupport
import Testing

@Suite struct ReportCLITests {
    let loom = TestPaths.executable("loom")

    @Test func theBigramRecipeRunsAndIsReported() throws {
        let scratch = try ScratchDirectory("loom-report-cli")
        let home = scratch.path("runs").path
        let run = try runProcess(loom, ["run", "recipes/bigram.yaml", "-j", "2", "--home", home], currentDirectory: TestPaths.packageRoot)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let out = scratch.path("bigram.html")
        let result = try runProcess(loom, ["report", "bigram", "--out", out.path, "--home", home])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("wrote \(out.path) (3 runs, "))
        #expect(result.stderr.isEmpty)
        let document = try XMLDocument(contentsOf: out, options: [])
        // The variants differ only in corpus.deps: an ablation of it, and its winner among the findings.
        #expect(try document.elements("section").compactMap { $0.attribute("id") }
            == ["findings", "runs", "params", "metrics", "ablations", "loss", "eval", "saturation", "generations"])
        #expect(try document.elements("div", where: "@class='ablation'").compactMap { $0.attribute("data-parameter") } == ["corpus.deps"])
        let finding = try #require(try document.elements("li", where: "@data-topic='ablation'").first?.stringValue)
        #expect(finding.hasPrefix("Which corpus.deps won. corpus.deps = "), "\(finding)")
        let params = try document.elements("section", where: "@id='params'").first?.elements("td").compactMap(\.stringValue) ?? []
        #expect(params.first == "corpus.deps")
        #expect(params.last?.hasSuffix("/usr/share/games/fortunes/ru") == true)
        let bits = try #require(try document.elements("tr").first { try $0.elements("td").dropFirst().first?.stringValue == "eval/bits_per_byte" })
        #expect(try bits.elements("td", where: "@class='num best'").count == 1)
        // The bigram model reports bits per byte but neither per-step losses nor corpus tokens.
        #expect(try document.elements("figure", where: "@data-key='eval/bits_per_byte'").count == 1)
        let saturation = try document.elements("section", where: "@id='saturation'").first?.elements("p", where: "@class='missing'").first?.stringValue
        #expect(saturation == "No curve: no run recorded both train/corpus_tokens and eval/bits_per_byte.")
    }

    /// The miniature saturation recipe with three variants: core, core+orbit, and core with random init.
    static let answersRecipe = SyntheticBooks.miniatureRecipe.components(separatedBy: "variants:")[0]
        .replacingOccurrences(of: "    steps: 60\n", with: "    steps: 30\n").replacingOccurrences(of: "    eval_every: 20\n", with: "    eval_every: 10\n")
        + """
        variants:
          core: {params: {train: {tiers: [core]}}}
          core+orbit: {params: {train: {tiers: [core, orbit]}}}
          core-random: {params: {train: {tiers: [core]}, extend: {init: random}}}

        """

    @Test func aMiniatureExperimentAnswersItsQuestions() throws {
        let scratch = try ScratchDirectory("loom-report-answers")
        try SyntheticBooks.installMiniature(in: scratch.url)
        try Self.answersRecipe.write(to: scratch.path("recipes/answers.yaml"), atomically: true, encoding: .utf8)
        let home = scratch.path("runs").path
        let loom = { (arguments: [String]) in try runProcess(self.loom, arguments + ["--home", home], currentDirectory: scratch.url) }
        let run = try loom(["run", "recipes/answers.yaml", "-j", "2"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        // Run again, core only: every stage comes from the cache.
        let again = try loom(["run", "recipes/answers.yaml", "--variant", "core"])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let out = scratch.path("answers.html")
        let report = try loom(["report", "answers", "--out", out.path])
        #expect(report.status == 0, "\(report.stderr)")
        let document = try XMLDocument(contentsOf: out, options: [])

        let topics = try document.elements("li", where: "@class='finding'").compactMap { $0.attribute("data-topic") }
        #expect(topics == ["tiers", "hyperwords", "ablation"])
        let answers = try document.elements("span", where: "@class='answer'").compactMap(\.stringValue)
        #expect(answers[0].hasPrefix("Training on core") || answers[0].hasPrefix("No tier set improved"), "\(answers)")
        #expect(answers[1].hasPrefix("Hyperwords saved ") && answers[1].contains(" tokens instead of "), "\(answers)")
        #expect(answers[2].hasPrefix("extend.init = "), "\(answers)")
        #expect(try document.elements("div", where: "@class='ablation'").compactMap { $0.attribute("data-parameter") } == ["extend.init"])

        // The core run of the second `loom run` computed nothing: the page names run 1 instead of 0 s.
        let rows = try #require(try document.elements("table", where: "@class='runs'").first).elements("tr").dropFirst()
        let cells = try rows.map { try $0.elements("td").map { $0.stringValue ?? "" } }
        // `answers` is the latest run of each variant, in run order: the rerun of core comes last.
        #expect(cells.map { $0[3] } == ["core+orbit", "core-random", "core"])
        #expect(cells[2][1] == "4" && cells[2][6] == "all 8 stages cached")
        #expect(cells[0][6] != "all 8 stages cached" && cells[1][6] != "all 8 stages cached")
        let note = try #require(try document.elements("li", where: "@data-run='4'").first?.stringValue)
        #expect(note.hasPrefix("core: all 8 stages came from the cache — corpus, tokenizer, base, hyperwords, extend, tokens, train, eval "
            + "computed by run 1 (answers/core) on "), "\(note)")

        let smoothed = try document.elements("figure", where: "@data-key='train/loss'").first?.elements("polyline", where: "@class='series smoothed'") ?? []
        #expect(smoothed.count == 3)
        if ChromiumCheckTests.browser != nil {
            let check = try ChromiumCheckTests.check([out.path, scratch.path("answers.png").path])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        }
    }

    @Test func aSaturationStoreGivesTheFullReport() throws {
        let fixture = try SaturationStore.complete()
        let out = fixture.scratch.path("report.html")
        let result = try runProcess(loom, ["report", String(fixture.runs[0].id), "saturation/core+orbit", "saturation",
                                           "-o", out.path, "--home", fixture.store.layout.home.path])
        #expect(result.status == 0, "\(result.stderr)")
        // Named twice, reported once.
        #expect(result.stdout.hasPrefix("wrote \(out.path) (3 runs, "))
        let document = try XMLDocument(contentsOf: out, options: [])
        let loss = try #require(try document.elements("figure", where: "@data-key='train/loss'").first)
        #expect(try loss.elements("polyline", where: "@class='series smoothed'").compactMap { $0.attribute("data-series") } == SaturationStore.variants)
        #expect(try document.elements("figure", where: "contains(@class, 'saturation-chart')").first?.elements("circle").count == 3)
        #expect(try document.elements("div", where: "@class='generation'").count == 2)
        let compare = try runProcess(loom, ["compare", "saturation", "--home", fixture.store.layout.home.path])
        let line = try #require(compare.stdout.split(separator: "\n").first { $0.contains("eval/bits_per_byte") })
        #expect(line.split(separator: " ") == ["eval", "eval/bits_per_byte", "↓", "1.62", "1.45", "1.36", "1.25", "*"])
    }

    @Test func errorsSayWhatIsWrongAndLeaveTheOldReport() throws {
        let fixture = try SaturationStore()
        let home = fixture.store.layout.home.path
        let out = fixture.scratch.path("report.html")
        try "previous report".write(to: out, atomically: true, encoding: .utf8)

        let unknown = try runProcess(loom, ["report", "99", "--out", out.path, "--home", home])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "loom: no run '99' in this store (see `loom runs`)\n")

        let empty = try runProcess(loom, ["report", "saturation", "--out", out.path, "--home", home])
        #expect(empty.status == 1)
        let runs = fixture.runs.map { "\($0.id) (saturation/\($0.variant), running)" }.joined(separator: ", ")
        #expect(empty.stderr == "loom: no metrics recorded in runs \(runs) — nothing to report "
            + "(did the stages run? see `loom status RUN` and `loom logs RUN STAGE`)\n")
        #expect(try String(contentsOf: out, encoding: .utf8) == "previous report")

        try fixture.logEval(1, bitsPerByte: 1.3)
        let missingDirectory = fixture.scratch.path("nowhere/report.html")
        let unwritable = try runProcess(loom, ["report", "saturation", "--out", missingDirectory.path, "--home", home])
        #expect(unwritable.status == 1)
        #expect(unwritable.stderr.hasSuffix("loom: cannot write the report to \(missingDirectory.path): the directory "
            + "\(missingDirectory.deletingLastPathComponent().path) does not exist\n"))

        let partial = try runProcess(loom, ["report", "saturation", "--out", out.path, "--home", home])
        #expect(partial.status == 0)
        #expect(partial.stderr == "loom: warning: run \(fixture.runs[0].id) (saturation/core, running) recorded no metrics\n"
            + "loom: warning: run \(fixture.runs[2].id) (saturation/core+orbit+fractal, running) recorded no metrics\n")
        #expect(try String(contentsOf: out, encoding: .utf8).hasPrefix("<!DOCTYPE html>"))

        let noStore = try runProcess(loom, ["report", "1", "--home", fixture.scratch.path("elsewhere").path])
        #expect(noStore.status == 1)
        #expect(noStore.stderr.hasPrefix("loom: no run store in "))
        let noRuns = try runProcess(loom, ["report", "--home", home])
        #expect(noRuns.status == 64)
        #expect(noRuns.stderr.contains("Missing expected argument '<runs> ...'"))
    }
}
