// SynthesizeCLITests — the built `loom` with the `synthesize` kind: `loom kinds synthesize` documents it,
// recipes/synthetic.yaml plans the synthetic DAG (a downstream `train.tiers: [core, synthetic]` is a
// valid tier), and corpus → base-tokenizer → hyperwords → synthesize run for real in `loom exec-stage`
// children on the fixture fortunes: two homes give byte-identical synthetic tiers for one seed, and
// another seed gives other scenes.
import Foundation
import TestSupport
import Testing

@Suite struct SynthesizeCLITests {
    let project: CLIProject

    init() throws { project = try CLIProject() }

    @Test func kindsDocumentsSynthesize() throws {
        let result = try runProcess(project.loom, ["kinds", "synthesize"])
        #expect(result.status == 0, "\(result.stderr)")
        for key in ["tiers", "scenes", "max_words", "order", "seed", "novel_only", "sample_mb", "document_scenes", "tier_name"] {
            #expect(result.stdout.contains(key), "\(key) documented")
        }
    }

    @Test func theSyntheticRecipePlansTheSyntheticDAG() throws {
        let result = try runProcess(
            project.loom, ["run", "recipes/synthetic.yaml", "--dry-run", "--home", project.home], currentDirectory: TestPaths.packageRoot)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("  synthesize ← corpus, hyperwords"), "\(result.stdout)")
        #expect(result.stdout.contains("  train ← synthesize, extend, tokens"), "\(result.stdout)")
        #expect(result.stdout.contains("  eval ← synthesize, base, extend, tokens, train"), "\(result.stdout)")
        #expect(result.stdout.contains("core+synthetic") && !result.stdout.contains("core+orbit"), "\(result.stdout)")
    }

    /// The cache entries of synthesize stages in `home`, by their seed.
    func synthesized(home: String) throws -> [Int: URL] {
        let cache = URL(fileURLWithPath: home).appendingPathComponent("cache")
        var entries: [Int: URL] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: cache.path) {
            let entry = cache.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: entry.appendingPathComponent("synthesis.json").path),
                  let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let seed = object["seed"] as? Int else { continue }
            entries[seed] = entry
        }
        return entries
    }

    @Test func theStageIsDeterministicForASeedAcrossHomes() throws {
        try TestPaths.installStageBooks(["man_and_woman", "lovers"], in: project.root)
        try project.write("recipes/synth.yaml", """
            stages:
              corpus:
                kind: corpus
                params:
                  tiers:
                    - {name: core, paths: [books/man_and_woman]}
                    - {name: orbit, paths: [books/lovers]}
              tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}
              hyperwords: {kind: hyperwords, after: [corpus, tokenizer], params: {count: 30, min_count: 3}}
              synth: {kind: synthesize, after: [corpus, hyperwords], params: {scenes: 200, seed: 0}}
              other: {kind: synthesize, after: [corpus, hyperwords], params: {scenes: 200, seed: 1}}
            """)
        let homes = [project.home, project.root.appendingPathComponent("second-home").path]
        for home in homes {
            let result = try project.loom(["run", "recipes/synth.yaml"], home: home)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        }
        let first = try synthesized(home: homes[0]), second = try synthesized(home: homes[1])
        let shard = "train/synthetic-00000.jsonl"
        let bytes = { (entry: URL?) in entry.flatMap { FileManager.default.contents(atPath: $0.appendingPathComponent(shard).path) } }
        let same = try #require(bytes(first[0]))
        #expect(same.count > 10_000)
        #expect(bytes(second[0]) == same)
        #expect(bytes(first[1]) == bytes(second[1]))
        #expect(bytes(first[1]) != same)
        let contents = { (entry: URL, name: String) in FileManager.default.contents(atPath: entry.appendingPathComponent(name).path) }
        for name in ["manifest.json", "documents.jsonl"] {
            #expect(contents(first[0]!, name) == contents(second[0]!, name), "\(name)")
        }
        // synthesis.json too, but for the digest of hyperwords.json, whose learning report holds the seconds learning took.
        let synthesis = try [first[0]!, second[0]!].map { entry in
            let data = try #require(contents(entry, "synthesis.json"))
            var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect((object.removeValue(forKey: "hyperwords_sha256") as? String)?.count == 64)
            return NSDictionary(dictionary: object)
        }
        #expect(synthesis[0] == synthesis[1])
    }
}
