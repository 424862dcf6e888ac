// FingerprintTests — fingerprints are stable, change with exactly what they cover (kind version,
// params, input file content, upstream fingerprints), and input digests are cached by (size, mtime).
import Foundation
import Pipeline
import Testing

@Suite struct FingerprintTests {
    let project: TestProject

    init() throws {
        project = try TestProject()
        try project.write("pipelines/chain.yaml", """
            stages:
              a: {kind: write, params: {text: a, inputs: [data/input.txt]}}
              b: {kind: write, after: [a]}
              c: {kind: write, after: [b]}
              d: {kind: write}
            """)
        try project.write("data/input.txt", "first content")
        try project.write("recipes/r.yaml", "pipeline: chain\n")
    }

    func fingerprints(_ recipe: String = "recipes/r.yaml", store: RunStore? = nil) throws -> [String: String] {
        let plan = try project.plans(recipe, store: store)[0]
        return Dictionary(uniqueKeysWithValues: plan.stages.map { ($0.name, $0.fingerprint) })
    }

    @Test func fingerprintsAreStableAndDistinct() throws {
        let first = try fingerprints()
        let second = try fingerprints()
        #expect(first == second)
        #expect(Set(first.values).count == 4)
        #expect(first.values.allSatisfy { $0.count == 64 })
    }

    @Test func aChangedParamChangesItsStageAndEverythingDownstream() throws {
        let before = try fingerprints()
        try project.write("recipes/r.yaml", "pipeline: chain\nparams:\n  b: {text: changed}\n")
        let after = try fingerprints()
        #expect(after["a"] == before["a"])
        #expect(after["d"] == before["d"])
        #expect(after["b"] != before["b"])
        #expect(after["c"] != before["c"])
    }

    @Test func writingTheDefaultExplicitlyChangesNothing() throws {
        let before = try fingerprints()
        try project.write("recipes/r.yaml", "pipeline: chain\nparams:\n  b: {lora: {rank: 8}, method: lora}\n")
        #expect(try fingerprints() == before)
    }

    @Test func inputFileContentEntersTheFingerprintNotItsTimestamp() throws {
        let before = try fingerprints()
        try project.write("data/input.txt", "first content")  // same bytes, new mtime
        #expect(try fingerprints() == before)
        try project.write("data/input.txt", "second content")
        let after = try fingerprints()
        #expect(after["a"] != before["a"])
        #expect(after["b"] != before["b"])
        #expect(after["d"] == before["d"])
    }

    @Test func digestsAreCachedBySizeAndModificationTime() throws {
        let store = try project.store()
        let param = PathParam(keyPath: "x", written: "data/input.txt", absolute: project.root.appendingPathComponent("data/input.txt").path, kind: .file)
        let first = FileDigester(storage: store)
        let digest = try first.digest(of: param)
        try first.save()
        #expect(first.hashedFileCount == 1)

        let second = FileDigester(storage: store)
        #expect(try second.digest(of: param) == digest)
        #expect(second.hashedFileCount == 0, "a file with unchanged size and mtime is not read again")

        try project.write("data/input.txt", "other content!")
        let third = FileDigester(storage: store)
        #expect(try third.digest(of: param) != digest)
        #expect(third.hashedFileCount == 1)
    }

    @Test func directoryAndPatternDigestsCoverNamesAndContents() throws {
        try project.write("books/a.txt", "alpha")
        try project.write("books/b.txt", "beta")
        let pattern = PathParam(keyPath: "t", written: "books/*.txt", absolute: project.root.appendingPathComponent("books/*.txt").path, kind: .glob)
        let directory = PathParam(keyPath: "d", written: "books", absolute: project.root.appendingPathComponent("books").path, kind: .directory)
        let before = (try FileDigester(storage: nil).digest(of: pattern), try FileDigester(storage: nil).digest(of: directory))
        try FileManager.default.moveItem(at: project.root.appendingPathComponent("books/b.txt"), to: project.root.appendingPathComponent("books/c.txt"))
        let renamed = (try FileDigester(storage: nil).digest(of: pattern), try FileDigester(storage: nil).digest(of: directory))
        #expect(renamed.0 != before.0)
        #expect(renamed.1 != before.1)
        try project.write("books/d.md", "not matched")
        #expect(try FileDigester(storage: nil).digest(of: pattern) == renamed.0)
        #expect(try FileDigester(storage: nil).digest(of: directory) != renamed.1)
    }

    @Test func identicalStagesOfDifferentVariantsShareAFingerprint() throws {
        try project.write("recipes/v.yaml", """
            pipeline: chain
            variants:
              one: {params: {c: {text: one}}}
              two: {params: {c: {text: two}}}
            """)
        let plans = try project.plans("recipes/v.yaml")
        let one = Dictionary(uniqueKeysWithValues: plans[0].stages.map { ($0.name, $0.fingerprint) })
        let two = Dictionary(uniqueKeysWithValues: plans[1].stages.map { ($0.name, $0.fingerprint) })
        #expect(one["a"] == two["a"])
        #expect(one["b"] == two["b"])
        #expect(one["c"] != two["c"])
    }

    @Test func theKindVersionEntersTheFingerprint() {
        let v1 = Planner.fingerprint(kind: "k", version: 1, portableParams: .object([:]), pathDigests: [:], inputFingerprints: [:])
        let v2 = Planner.fingerprint(kind: "k", version: 2, portableParams: .object([:]), pathDigests: [:], inputFingerprints: [:])
        #expect(v1 != v2)
        let int = Planner.fingerprint(kind: "k", version: 1, portableParams: .object(["x": .int(8)]), pathDigests: [:], inputFingerprints: [:])
        let float = Planner.fingerprint(kind: "k", version: 1, portableParams: .object(["x": .double(8)]), pathDigests: [:], inputFingerprints: [:])
        #expect(int != float)
    }

    @Test func thePlanRoundTripsThroughJSON() throws {
        let plan = try project.plans("recipes/r.yaml")[0]
        #expect(try Plan(json: JSONValue.parse(plan.json.canonicalJSON)) == plan)
    }
}
