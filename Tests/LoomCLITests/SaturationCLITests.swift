// SaturationCLITests — the built `loom` with the saturation recipes and the torch-free stage kinds:
// `loom run recipes/demo.yaml --dry-run` prints the DAG with the shared stages (no libtorch), `loom
// kinds` documents the new kinds, and corpus → base-tokenizer → hyperwords run for real in
// `loom exec-stage` child processes (hyperwords in `loom-torch exec-stage`, whose surprisal ranking reads
// a model; SentencePiece opened beside the binaries), then come from the cache.
import Foundation
import TestSupport
import Testing

@Suite struct SaturationCLITests {
    let project: CLIProject

    init() throws { project = try CLIProject() }

    @Test func theDemoDryRunShowsTheDAGAndTheSharedStages() throws {
        let result = try runProcess(
            project.loom, ["run", "recipes/demo.yaml", "--dry-run", "--json", "--home", project.home],
            currentDirectory: TestPaths.packageRoot)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let variants = try #require(object["variants"] as? [[String: Any]])
        #expect(variants.map { $0["variant"] as? String } == ["core", "core+orbit", "core+orbit+fractal"])
        var fingerprints: [[String: String]] = []
        for (index, variant) in variants.enumerated() {
            let stages = try #require(variant["stages"] as? [[String: Any]])
            #expect(stages.map { $0["stage"] as? String } == ["corpus", "tokenizer", "base", "hyperwords", "extend", "tokens", "train", "eval"])
            let actions = Dictionary(uniqueKeysWithValues: stages.map { ($0["stage"] as! String, $0["action"] as! String) })
            for shared in ["corpus", "tokenizer", "base", "hyperwords", "extend", "tokens"] {
                #expect(actions[shared] == (index == 0 ? "run" : "shared"))
            }
            #expect(actions["train"] == "run" && actions["eval"] == "run")
            fingerprints.append(Dictionary(uniqueKeysWithValues: stages.map { ($0["stage"] as! String, $0["fingerprint"] as! String) }))
        }
        #expect(fingerprints[1]["extend"] == fingerprints[0]["extend"])
        #expect(fingerprints[2]["train"] != fingerprints[1]["train"])

        let text = try runProcess(project.loom, ["run", "recipes/demo.yaml", "--dry-run", "--home", project.home], currentDirectory: TestPaths.packageRoot)
        #expect(text.stdout.contains("  eval ← corpus, base, extend, tokens, train"))
        #expect(text.stdout.hasSuffix("12 stage(s) to run, 0 cached, 12 shared between variants (dry run: nothing was run)\n"))
    }

    @Test func kindsDocumentsTheNewKindsAndTheirNestedKeys() throws {
        let kinds = { (arguments: [String]) in try runProcess(project.loom, ["kinds"] + arguments) }
        let corpus = try kinds(["corpus"])
        #expect(corpus.status == 0)
        #expect(corpus.stdout.contains("tiers[].paths"))
        #expect(corpus.stdout.contains("a list of maps with keys name, paths"))
        let train = try kinds(["train"])
        #expect(train.stdout.contains("train v2 (runs in loom-torch exec-stage)"))
        #expect(train.stdout.contains("lora.targets"))
        let all = try kinds([])
        for kind in ["corpus", "base-tokenizer", "hyperwords", "pretrain-base", "extend-vocab", "train", "eval"] {
            #expect(all.stdout.contains("\n\(kind) "), "\(kind) listed")
        }
    }

    @Test func theTokenizerStagesRunAndAreCachedAfterwards() throws {
        try TestPaths.installStageBooks(["man_and_woman", "lovers", "2001.06"], in: project.root)
        try project.write("recipes/words.yaml", """
            stages:
              corpus:
                kind: corpus
                params:
                  tiers:
                    - {name: core, paths: [books/man_and_woman]}
                    - {name: orbit, paths: [books/lovers, books/2001.06]}
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}
              hyperwords: {kind: hyperwords, after: [corpus, tokenizer], params: {count: 30, min_count: 3}}
            """)
        let first = try project.loom(["run", "recipes/words.yaml"])
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let show = try project.json(["show", "latest"])
        let metrics = (show["metrics"] as? [[String: Any]]) ?? []
        let value = { (key: String) in metrics.first { $0["key"] as? String == key }?["value"] as? Double }
        #expect((value("hyperwords/new_tokens") ?? 0) > 0)
        #expect(value("tokenizer/vocab_size") == 400)
        #expect((value("corpus/core/documents") ?? 0) > 0)
        #expect((value("hyperwords/tokens_per_word") ?? 9) < (value("hyperwords/base_tokens_per_word") ?? 0))

        let second = try project.loom(["run", "recipes/words.yaml"])
        #expect(second.status == 0)
        let stages = try project.latestStages()
        #expect(stages.values.allSatisfy { $0["status"] as? String == "cached" }, "\(stages)")
    }
}
