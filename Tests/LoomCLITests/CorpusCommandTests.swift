// CorpusCommandTests — `loom corpus` end to end: the table, --json, warnings on stderr, --strict's exit
// status, and argument errors.
import Foundation
import Testing
import TestSupport

@Suite struct CorpusCommandTests {
    let loom = TestPaths.executable("loom")

    private func makeBooks(_ scratch: ScratchDirectory) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: scratch.path("core"), withIntermediateDirectories: true)
        try fileManager.createDirectory(at: scratch.path("orbit"), withIntermediateDirectories: true)
        try Data("Мой дядя самых честных правил.\n\nКогда не в шутку занемог.\n".utf8).write(to: scratch.path("core/onegin.txt"))
        try Data("Он уважать себя заставил\nи лучше выдумать не мог.\n".utf8).write(to: scratch.path("orbit/more.txt"))
        try Data("Мой дядя самых честных правил.\n\nКогда не в шутку занемог.\n".utf8).write(to: scratch.path("orbit/copy.txt"))
        try Data([0x00, 0x01, 0x02, 0xFF]).write(to: scratch.path("orbit/blob.bin"))
    }

    @Test func buildsAndPrintsATable() throws {
        let scratch = try ScratchDirectory("cli-corpus")
        try makeBooks(scratch)
        let out = scratch.path("corpus").path
        let result = try runProcess(loom, ["corpus", "--tier", "core=\(scratch.path("core").path)", "--tier", "orbit=\(scratch.path("orbit").path)", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("tier   files  docs  train  valid  scenes"))
        let lines = result.stdout.split(separator: "\n")
        let core = try #require(lines.first { $0.hasPrefix("core ") })
        #expect(core.split(separator: " ").prefix(3) == ["core", "1", "1"])
        let orbit = try #require(lines.first { $0.hasPrefix("orbit ") })
        #expect(orbit.split(separator: " ")[1...2] == ["3", "1"])  // three files read; copy.txt duplicated core
        #expect(result.stdout.contains("orbit: \(scratch.path("orbit/blob.bin").path): binary data"))
        #expect(result.stderr.contains("warning: orbit: \(scratch.path("orbit/blob.bin").path): binary data (NUL bytes; UTF-16 text needs a byte-order mark)"))
        #expect(result.stderr.contains("finished 4/4 files"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/manifest.json"))
    }

    @Test func jsonPrintsTheManifest() throws {
        let scratch = try ScratchDirectory("cli-corpus-json")
        try makeBooks(scratch)
        let out = scratch.path("corpus").path
        let result = try runProcess(loom, ["corpus", "--tier", "core=\(scratch.path("core").path)", "--tier", "orbit=\(scratch.path("orbit").path)",
                                           "--out", out, "--json", "--quiet", "--validation-fraction", "0", "--scene-max-chars", "100"])
        #expect(result.status == 0, "\(result.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(manifest["format"] as? String == "loom-corpus")
        let total = try #require(manifest["total"] as? [String: Any])
        #expect(total["documents"] as? Int == 2)
        #expect((total["duplicates"] as? [String: Any])?["documents"] as? Int == 1)
        #expect((manifest["settings"] as? [String: Any])?["sceneMaxChars"] as? Int == 100)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(out)/manifest.json")) == Data((result.stdout).utf8))
        #expect(!result.stderr.contains("finished"))
    }

    @Test func strictFailsWithExitStatusOne() throws {
        let scratch = try ScratchDirectory("cli-corpus-strict")
        try makeBooks(scratch)
        let out = scratch.path("corpus").path
        let result = try runProcess(loom, ["corpus", "--tier", "orbit=\(scratch.path("orbit").path)", "--out", out, "--strict", "--quiet"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: strict: 1 input(s) rejected, nothing written:\n  orbit: \(scratch.path("orbit/blob.bin").path): binary data"))
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func argumentErrors() throws {
        let scratch = try ScratchDirectory("cli-corpus-arguments")
        let out = scratch.path("corpus").path
        let noTier = try runProcess(loom, ["corpus", "--out", out])
        #expect(noTier.status != 0)
        #expect(noTier.stderr.contains("give at least one --tier NAME=PATH"))
        let badTier = try runProcess(loom, ["corpus", "--tier", "core", "--out", out])
        #expect(badTier.stderr.contains("--tier invalid tier: 'core': expected NAME=PATH, e.g. core=books/core"))
        let missing = try runProcess(loom, ["corpus", "--tier", "core=/nonexistent/books", "--out", out])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("error: tier core: /nonexistent/books: no such file, directory or matching glob"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func anOutputThatCannotBeCreatedSaysWhyInTheSystemsWords() throws {
        let scratch = try ScratchDirectory("cli-corpus-unwritable")
        try makeBooks(scratch)
        // procfs refuses new entries: the build must name the directory and the reason, not Foundation's.
        let result = try runProcess(loom, ["corpus", "--tier", "core=\(scratch.path("core").path)", "--out", "/proc/loom-corpus", "--quiet"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: cannot write the corpus to /proc/loom-corpus: cannot create /proc/.loom-corpus.tmp-"), "\(result.stderr)")
        #expect(result.stderr.hasSuffix(": No such file or directory\n"), "\(result.stderr)")
    }

    @Test func outOfRangeOptionsNameTheirFlag() throws {
        let scratch = try ScratchDirectory("cli-corpus-options")
        try makeBooks(scratch)
        let out = scratch.path("corpus").path
        let cases: [([String], String)] = [
            (["--validation-fraction", "2"], "--validation-fraction: expected a number in [0, 1), got 2.0"),
            (["--scene-max-chars", "10"], "--scene-max-chars: expected at least 64, got 10"),
            (["--near-duplicate-threshold", "0"], "--near-duplicate-threshold: expected a number in (0, 1], got 0.0"),
            (["--threads", "0"], "--threads: expected at least 1, got 0"),
        ]
        for (option, message) in cases {
            let result = try runProcess(loom, ["corpus", "--tier", "core=\(scratch.path("core").path)", "--out", out] + option)
            #expect(result.status == 64, "\(option)")
            #expect(result.stderr.hasPrefix("Error: \(message)\n"), "\(option): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
