// CorpusBuilderTests — whole builds on real files: counts in the manifest agree with the shards,
// dedupe follows tier order, splits are by document and stratified, output is deterministic and
// atomic, every kind of bad input becomes a reject (or, with strict, a failure that writes nothing).
import Foundation
import LoomCore
import Testing
@testable import Corpus
import TestSupport

@Suite struct CorpusBuilderTests {
    /// A small library: per tier, `documents` text files of distinct prose.
    private func library(_ scratch: ScratchDirectory, _ tiers: [(String, Int)], seedBase: UInt64 = 0) throws -> [TierSpec] {
        var specs: [TierSpec] = []
        for (tierIndex, (name, documents)) in tiers.enumerated() {
            let directory = scratch.path("books/\(name)")
            for index in 0..<documents {
                try write(prose(paragraphs: 6, seed: seedBase + UInt64(tierIndex * 1000 + index)), directory.appendingPathComponent("book-\(index).txt"))
            }
            specs.append(TierSpec(name: name, inputs: [directory.path]))
        }
        return specs
    }

    @Test func manifestCountsAgreeWithTheShards() throws {
        let scratch = try ScratchDirectory("corpus-counts")
        var tiers = try library(scratch, [("core", 6), ("orbit", 9)])
        try write(BookBuilder.fb2(body: "<section><p>\(prose(paragraphs: 3, seed: 500))</p></section>"), scratch.path("books/orbit/extra.fb2"))
        try write(#"{"text": "Первая запись в JSON Lines."}"# + "\n" + #"{"text": "Вторая запись."}"# + "\n", scratch.path("books/fractal/records.jsonl"))
        tiers.append(TierSpec(name: "fractal", inputs: [scratch.path("books/fractal").path]))
        let result = try buildCorpus(tiers, in: scratch) { $0.sceneMaxChars = 400 }
        let manifest = result.manifest
        #expect(manifest.tiers.map(\.name) == ["core", "orbit", "fractal"])
        #expect(manifest.total.documents == 6 + 10 + 2)
        #expect(manifest.total.formats == ["txt": 15, "fb2": 1, "jsonl": 2])
        #expect(manifest.total.encodings == ["utf-8": 18])
        #expect(manifest.rejects.isEmpty)
        for tier in manifest.tiers {
            var counted = CorpusCounts()
            for split in CorpusSplit.allCases {
                var splitCounts = SplitCounts()
                var documents = Set<String>()
                for scene in try result.reader.scenes(split: split, tiers: [tier.name]) {
                    #expect(scene.tier == tier.name)
                    #expect(scene.chars == scene.text.unicodeScalars.count)
                    #expect(scene.end - scene.start == scene.chars)
                    #expect(scene.chars <= 400)
                    splitCounts.scenes += 1
                    splitCounts.bytes += scene.text.utf8.count
                    splitCounts.characters += scene.chars
                    splitCounts.words += scene.words
                    documents.insert(scene.doc)
                }
                splitCounts.documents = documents.count
                if split == .train { counted.train = splitCounts } else { counted.validation = splitCounts }
            }
            #expect(counted.train == tier.counts.train)
            #expect(counted.validation == tier.counts.validation)
            #expect(tier.counts.scenes == tier.counts.train.scenes + tier.counts.validation.scenes)
            #expect(tier.counts.documents == tier.counts.train.documents + tier.counts.validation.documents)
            #expect(tier.counts.bytes == tier.counts.train.bytes + tier.counts.validation.bytes)
        }
        // Shards listed in the manifest exist with the recorded size, scene count and digest.
        for shard in manifest.shards {
            let url = scratch.path("out").appendingPathComponent(shard.path)
            #expect(try Digest.sha256Hex(fileAt: url) == shard.sha256)
            #expect(try Data(contentsOf: url).count == shard.bytes)
        }
        let documents = try result.reader.documents()
        #expect(documents.count == manifest.total.documents)
        #expect(documents.first { $0.format == "fb2" }?.title == "Повесть")
        #expect(documents.first { $0.format == "jsonl" }?.entry == "line 1")
    }

    @Test func sceneRecordsCarryDocumentTierSourceAndOffsets() throws {
        let scratch = try ScratchDirectory("corpus-offsets")
        let text = (0..<30).map { "Абзац номер \($0): " + sentences(2, seed: UInt64($0)).joined(separator: " ") }.joined(separator: "\n\n")
        try write(text, scratch.path("one.txt"))
        let result = try buildCorpus([TierSpec(name: "core", inputs: [scratch.path("one.txt").path])], in: scratch) {
            $0.sceneMaxChars = 300
            $0.validationFraction = 0
        }
        let scenes = try result.reader.scenes(split: .train)
        #expect(scenes.count > 3)
        #expect(Set(scenes.map(\.doc)).count == 1)
        #expect(scenes.allSatisfy { $0.source == scratch.path("one.txt").path && $0.tier == "core" && $0.entry == nil })
        #expect(scenes.map(\.index) == Array(0..<scenes.count))
        // Scenes tile the normalised document: each starts two code points ("\n\n") after the last ended.
        #expect(scenes[0].start == 0)
        for (previous, next) in zip(scenes, scenes.dropFirst()) { #expect(next.start == previous.end + 2) }
        #expect(scenes.map(\.text).joined(separator: "\n\n") == text)
    }

    @Test func dedupeFollowsTierOrder() throws {
        let scratch = try ScratchDirectory("corpus-priority")
        let shared = prose(paragraphs: 5, seed: 42)
        try write(shared, scratch.path("core/shared.txt"))
        try write(prose(paragraphs: 5, seed: 43), scratch.path("core/own.txt"))
        try write(shared, scratch.path("orbit/copy.txt"))
        try write(prose(paragraphs: 5, seed: 44), scratch.path("orbit/own.txt"))
        try write(oneWordChanged(shared), scratch.path("fractal/edited.txt"))
        let core = TierSpec(name: "core", inputs: [scratch.path("core").path])
        let orbit = TierSpec(name: "orbit", inputs: [scratch.path("orbit").path])
        let fractal = TierSpec(name: "fractal", inputs: [scratch.path("fractal").path])

        let result = try buildCorpus([core, orbit, fractal], in: scratch) { $0.validationFraction = 0 }
        let counts = Dictionary(uniqueKeysWithValues: result.manifest.tiers.map { ($0.name, $0.counts) })
        #expect(counts["core"]?.documents == 2)
        #expect(counts["orbit"]?.documents == 1)
        #expect(counts["orbit"]?.duplicates.exactScenes == 1)
        #expect(counts["orbit"]?.duplicates.documents == 1)
        #expect(counts["fractal"]?.documents == 0)
        #expect(counts["fractal"]?.duplicates.nearScenes == 1)
        #expect(try result.reader.scenes(split: .train, tiers: ["core"]).contains { $0.source.hasSuffix("core/shared.txt") })

        // Listing orbit first makes orbit win: priority is the tier order, not the tier name.
        let swapped = try buildCorpus([orbit, core], in: scratch, output: scratch.path("swapped")) { $0.validationFraction = 0 }
        #expect(swapped.manifest.tier(named: "orbit")?.counts.documents == 2)
        #expect(swapped.manifest.tier(named: "core")?.counts.documents == 1)
        #expect(swapped.manifest.tier(named: "core")?.counts.duplicates.exactScenes == 1)
    }

    @Test func nearDuplicatesCanBeSwitchedOff() throws {
        let scratch = try ScratchDirectory("corpus-near-off")
        let shared = prose(paragraphs: 5, seed: 42)
        try write(shared, scratch.path("a.txt"))
        try write(oneWordChanged(shared), scratch.path("b.txt"))
        let tier = TierSpec(name: "core", inputs: [scratch.path("a.txt").path, scratch.path("b.txt").path])
        #expect(try buildCorpus([tier], in: scratch) { $0.nearDuplicateThreshold = 1 }.manifest.total.documents == 2)
        #expect(try buildCorpus([tier], in: scratch, output: scratch.path("on")).manifest.total.documents == 1)
    }

    @Test func outputIsDeterministicWhateverTheThreadCount() throws {
        let scratch = try ScratchDirectory("corpus-determinism")
        let tiers = try library(scratch, [("core", 8), ("orbit", 12)])
        _ = try buildCorpus(tiers, in: scratch, output: scratch.path("one")) { $0.threads = 1; $0.sceneMaxChars = 300 }
        _ = try buildCorpus(tiers, in: scratch, output: scratch.path("two")) { $0.threads = 2; $0.sceneMaxChars = 300 }
        for file in ["manifest.json", "documents.jsonl", "train/core-00000.jsonl", "train/orbit-00000.jsonl", "validation/orbit-00000.jsonl"] {
            let one = try Data(contentsOf: scratch.path("one/\(file)"))
            #expect(one == (try Data(contentsOf: scratch.path("two/\(file)"))), "\(file) differs")
        }
    }

    @Test func splitIsByDocumentStratifiedAndSeeded() throws {
        let scratch = try ScratchDirectory("corpus-split")
        let tiers = try library(scratch, [("core", 40), ("orbit", 25), ("fractal", 1)])
        let result = try buildCorpus(tiers, in: scratch) { $0.validationFraction = 0.2; $0.sceneMaxChars = 300 }
        let manifest = result.manifest
        #expect(manifest.tier(named: "core")?.counts.validation.documents == 8)
        #expect(manifest.tier(named: "orbit")?.counts.validation.documents == 5)
        #expect(manifest.tier(named: "fractal")?.counts.validation.documents == 0)
        let train = Set(try result.reader.scenes(split: .train).map(\.doc))
        let validation = Set(try result.reader.scenes(split: .validation).map(\.doc))
        #expect(train.isDisjoint(with: validation))
        #expect(try result.reader.documents().allSatisfy { ($0.split == .validation) == validation.contains($0.doc) })

        let again = try buildCorpus(tiers, in: scratch, output: scratch.path("again")) { $0.validationFraction = 0.2; $0.sceneMaxChars = 300 }
        #expect(Set(try again.reader.scenes(split: .validation).map(\.doc)) == validation)
        let reseeded = try buildCorpus(tiers, in: scratch, output: scratch.path("reseeded")) {
            $0.validationFraction = 0.2
            $0.sceneMaxChars = 300
            $0.seed = 7
        }
        let reseededValidation = Set(try reseeded.reader.scenes(split: .validation).map(\.doc))
        #expect(reseededValidation.count == validation.count)
        #expect(reseededValidation != validation)
        // Listing the same books in another order does not move them between splits.
        let reversed = try tiers.map { tier in
            let directory = tier.inputs[0]
            let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted().reversed()
            return TierSpec(name: tier.name, inputs: files.map { "\(directory)/\($0)" })
        }
        let reordered = try buildCorpus(reversed, in: scratch, output: scratch.path("reordered")) { $0.validationFraction = 0.2; $0.sceneMaxChars = 300 }
        #expect(Set(try reordered.reader.scenes(split: .validation).map(\.doc)) == validation)
    }

    @Test func validationCountRules() {
        #expect(SplitAssignment.validationCount(documents: 0, fraction: 0.1) == 0)
        #expect(SplitAssignment.validationCount(documents: 1, fraction: 0.5) == 0)
        #expect(SplitAssignment.validationCount(documents: 2, fraction: 0.01) == 1)
        #expect(SplitAssignment.validationCount(documents: 100, fraction: 0.1) == 10)
        #expect(SplitAssignment.validationCount(documents: 3, fraction: 0.9) == 2)
        #expect(SplitAssignment.validationCount(documents: 50, fraction: 0) == 0)
    }

    @Test func debianFortunesAsADemoTier() throws {
        let scratch = try ScratchDirectory("corpus-fortunes")
        let fixtures = TestPaths.fixture("corpus/fortunes-ru").path
        let result = try buildCorpus([TierSpec(name: "core", inputs: [fixtures])], in: scratch)
        let manifest = result.manifest
        #expect(manifest.rejects.isEmpty)
        #expect(manifest.sources.map { ($0.path as NSString).lastPathComponent } == ["2001.09", "conscience"])
        #expect(manifest.sources.allSatisfy { $0.format == .fortune && $0.encoding == .utf8 })
        #expect(Set(manifest.skipped.map { ($0.path as NSString).lastPathComponent }) == ["2001.09.dat", "conscience.dat", "conscience.u8"])
        #expect(manifest.skipped.first { $0.path.hasSuffix("conscience.u8") }?.reason == "same file as \(fixtures)/conscience, already read")
        #expect(manifest.total.documents == 146 + 7 - manifest.total.duplicates.documents)
        let scenes = try result.reader.scenes(split: .train) + result.reader.scenes(split: .validation)
        #expect(scenes.contains { $0.text.hasPrefix("Совесть - тысяча подкупленных свидетелей.") })
    }

    @Test func everyKindOfBadInputIsRejectedAndTheRunContinues() throws {
        let scratch = try ScratchDirectory("corpus-bad")
        let books = scratch.path("books")
        try write(prose(paragraphs: 3, seed: 1), books.appendingPathComponent("good.txt"))
        var random = SystemRandomNumberGenerator()
        try write(Data((0..<3000).map { _ in UInt8.random(in: 0...255, using: &random) } + [0, 0]), books.appendingPathComponent("noise.bin"))
        try write("Größe und Müller sind schön, süß und übel".data(using: .isoLatin1)!, books.appendingPathComponent("latin1.txt"))
        try write(Data(), books.appendingPathComponent("empty.txt"))
        try write("<?xml version=\"1.0\"?>\n<FictionBook><body>\n<p>Обрыв</body></FictionBook>", books.appendingPathComponent("broken.fb2"))
        try write(BookBuilder.epub(files: [("ch1", "<p>Есть.</p>")], spine: ["ch1", "ch2"]), books.appendingPathComponent("holes.epub"))
        var slip = ZipBuilder()
        slip.add("../../escape.fb2", BookBuilder.fb2(body: "<section><p>Побег.</p></section>"))
        try write(slip.build(), books.appendingPathComponent("slip.fb2.zip"))
        var bomb = ZipBuilder()
        bomb.add("bomb.fb2", bytes: [UInt8](repeating: 0x20, count: 5 << 20))
        try write(bomb.build(), books.appendingPathComponent("bomb.fb2.zip"))
        let fileManager = FileManager.default
        try fileManager.createSymbolicLink(atPath: books.appendingPathComponent("loop").path, withDestinationPath: "loop")
        try fileManager.createDirectory(at: books.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try fileManager.createSymbolicLink(atPath: books.appendingPathComponent("sub/back").path, withDestinationPath: "..")
        try fileManager.createSymbolicLink(atPath: books.appendingPathComponent("dangling.txt").path, withDestinationPath: "missing.txt")

        let result = try buildCorpus([TierSpec(name: "core", inputs: [books.path])], in: scratch)
        let byName = Dictionary(uniqueKeysWithValues: result.manifest.rejects.map { (($0.path as NSString).lastPathComponent, $0) })
        #expect(byName["noise.bin"]?.kind == .binary)
        #expect(byName["latin1.txt"]?.kind == .undecodable)
        #expect(byName["empty.txt"]?.reason == "empty file")
        #expect(byName["broken.fb2"]?.reason == "malformed XML: line 3: closing tag </body> does not match <p> opened on line 3")
        #expect(byName["holes.epub"]?.kind == .missingPart)
        #expect(byName["slip.fb2.zip"]?.kind == .unsafePath)
        #expect(byName["slip.fb2.zip"]?.location == "\(books.path)/slip.fb2.zip!/../../escape.fb2")
        #expect(byName["bomb.fb2.zip"]?.kind == .zipBomb)
        #expect(byName["loop"]?.kind == .symlinkLoop)
        #expect(byName["loop"]?.reason == "symlink loop (too many levels of symbolic links)")
        #expect(byName["back"]?.kind == .symlinkLoop)
        #expect(byName["back"]?.reason == "symlink loop: leads back to the enclosing directory \(books.path)")
        #expect(byName["dangling.txt"]?.kind == .unreadable)
        #expect(byName["dangling.txt"]?.reason.hasPrefix("broken symlink") == true)
        #expect(result.manifest.rejects.count == 10)
        #expect(result.manifest.total.rejects == 10)
        // One warning event per reject, and the good book made it through.
        #expect(result.rejected == result.manifest.rejects)
        #expect(result.manifest.total.documents == 1)
        #expect(!fileManager.fileExists(atPath: scratch.url.deletingLastPathComponent().appendingPathComponent("escape.fb2").path))
    }

    @Test func strictFailsWithoutWritingAnything() throws {
        let scratch = try ScratchDirectory("corpus-strict")
        try write(prose(paragraphs: 3, seed: 1), scratch.path("books/good.txt"))
        let tier = TierSpec(name: "core", inputs: [scratch.path("books").path])
        let out = scratch.path("out")
        let first = try buildCorpus([tier], in: scratch)
        let manifestBefore = try Data(contentsOf: out.appendingPathComponent("manifest.json"))
        try write(Data(), scratch.path("books/empty.txt"))
        var options = CorpusOptions()
        options.strict = true
        #expect(throws: CorpusError.strictRejects([CorpusReject(tier: "core", path: scratch.path("books/empty.txt").path, kind: .empty, reason: "empty file")])) {
            try CorpusBuilder(options: options).build(tiers: [tier], output: out)
        }
        #expect(try Data(contentsOf: out.appendingPathComponent("manifest.json")) == manifestBefore)
        #expect(try CorpusReader(directory: out).manifest == first.manifest)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted() == ["books", "out"])
        #expect(CorpusError.strictRejects([CorpusReject(tier: "core", path: "b/e.txt", kind: .empty, reason: "empty file")]).description
            == "strict: 1 input(s) rejected, nothing written:\n  core: b/e.txt: empty file")
        #expect(throws: CorpusError.self) {
            try CorpusBuilder(options: options).build(tiers: [tier], output: scratch.path("fresh"))
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path("fresh").path))
    }

    @Test func previousCorpusIsReplacedWholeAndOtherDirectoriesAreRefused() throws {
        let scratch = try ScratchDirectory("corpus-replace")
        try write(prose(paragraphs: 3, seed: 1), scratch.path("a/one.txt"))
        try write(prose(paragraphs: 3, seed: 2), scratch.path("b/two.txt"))
        let out = scratch.path("out")
        _ = try buildCorpus([TierSpec(name: "core", inputs: [scratch.path("a").path])], in: scratch)
        let second = try buildCorpus([TierSpec(name: "other", inputs: [scratch.path("b").path])], in: scratch)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("train").path) == ["other-00000.jsonl"])
        #expect(second.manifest.sources.map(\.path) == [scratch.path("b/two.txt").path])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted() == ["a", "b", "out"])

        // A build killed half-way left its temp directory; the next build clears it.
        let stale = scratch.path(".out.tmp-4194304-1")
        try write("partial", stale.appendingPathComponent("work/scenes-0.jsonl"))
        _ = try buildCorpus([TierSpec(name: "core", inputs: [scratch.path("a").path])], in: scratch)
        #expect(!FileManager.default.fileExists(atPath: stale.path))

        try write("precious", scratch.path("home/notes.txt"))
        #expect(throws: CorpusError.outputNotReplaceable(path: scratch.path("home").path, reason: "the directory is not empty and holds no Loom corpus (manifest.json); choose a new or empty directory")) {
            try CorpusBuilder().build(tiers: [TierSpec(name: "core", inputs: [scratch.path("a").path])], output: scratch.path("home"))
        }
        #expect(try String(contentsOf: scratch.path("home/notes.txt"), encoding: .utf8) == "precious")
        #expect(throws: CorpusError.outputNotReplaceable(path: scratch.path("a/one.txt").path, reason: "it is a file, not a directory")) {
            try CorpusBuilder().build(tiers: [TierSpec(name: "core", inputs: [scratch.path("b").path])], output: scratch.path("a/one.txt"))
        }
    }

    @Test func configurationErrorsAreClear() throws {
        let scratch = try ScratchDirectory("corpus-config")
        try write("Текст.", scratch.path("books/a.txt"))
        let out = scratch.path("out")
        let missing = scratch.path("nope").path
        #expect(throws: CorpusError.inputNotFound(tier: "core", path: missing)) {
            try CorpusBuilder().build(tiers: [TierSpec(name: "core", inputs: [missing])], output: out)
        }
        #expect(CorpusError.inputNotFound(tier: "core", path: "x").description == "tier core: x: no such file, directory or matching glob")
        #expect(throws: CorpusError.inputNotFound(tier: "core", path: scratch.path("books/*.fb2").path)) {
            try CorpusBuilder().build(tiers: [TierSpec(name: "core", inputs: [scratch.path("books/*.fb2").path])], output: out)
        }
        try FileManager.default.createDirectory(at: scratch.path("void"), withIntermediateDirectories: true)
        #expect(throws: CorpusError.noInputs(tier: "core")) {
            try CorpusBuilder().build(tiers: [TierSpec(name: "core", inputs: [scratch.path("void").path])], output: out)
        }
        #expect(throws: CorpusError.invalidTier("'Core': a tier name is lower-case letters, digits, '-' or '_', starting with a letter")) {
            try CorpusBuilder().build(tiers: [TierSpec(name: "Core", inputs: [scratch.path("books").path])], output: out)
        }
        #expect(throws: CorpusError.invalidTier("'core' is listed twice")) {
            try CorpusBuilder().build(tiers: [TierSpec(name: "core", inputs: ["a"]), TierSpec(name: "core", inputs: ["b"])], output: out)
        }
        var options = CorpusOptions()
        options.validationFraction = 1.5
        #expect(throws: CorpusError.invalidOption("validationFraction: expected a number in [0, 1), got 1.5")) {
            try CorpusBuilder(options: options).build(tiers: [TierSpec(name: "core", inputs: [scratch.path("books").path])], output: out)
        }
        #expect(throws: CorpusError.invalidTier("'core': expected NAME=PATH, e.g. core=books/core")) { try TierSpec(parsing: "core") }
        #expect(try TierSpec(parsing: "core=a=b.txt") == TierSpec(name: "core", inputs: ["a=b.txt"]))
        #expect(TierSpec.merging([TierSpec(name: "core", inputs: ["a"]), TierSpec(name: "orbit", inputs: ["b"]), TierSpec(name: "core", inputs: ["c"])])
            == [TierSpec(name: "core", inputs: ["a", "c"]), TierSpec(name: "orbit", inputs: ["b"])])
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func anEarlierCorpusInsideTheInputsIsNotReadAsBooks() throws {
        let scratch = try ScratchDirectory("corpus-nested")
        try write(prose(paragraphs: 3, seed: 1), scratch.path("books/a.txt"))
        let tier = TierSpec(name: "core", inputs: [scratch.path("books").path])
        let first = try buildCorpus([tier], in: scratch, output: scratch.path("books/corpus"))
        let second = try buildCorpus([tier], in: scratch, output: scratch.path("books/corpus"))
        #expect(second.manifest.total.documents == first.manifest.total.documents)
        #expect(second.manifest.skipped == [CorpusSkip(tier: "core", path: scratch.path("books/corpus").path, reason: "a Loom corpus output (its shards are not input)")])
    }

    @Test func globsSelectFiles() throws {
        let scratch = try ScratchDirectory("corpus-glob")
        try write(prose(paragraphs: 2, seed: 1), scratch.path("books/a.txt"))
        try write(prose(paragraphs: 2, seed: 2), scratch.path("books/b.txt"))
        try write(prose(paragraphs: 2, seed: 3), scratch.path("books/c.md"))
        let result = try buildCorpus([TierSpec(name: "core", inputs: [scratch.path("books/*.txt").path])], in: scratch)
        #expect(result.manifest.sources.map { ($0.path as NSString).lastPathComponent } == ["a.txt", "b.txt"])
    }

    @Test func progressReportsEveryPhase() throws {
        let scratch = try ScratchDirectory("corpus-progress")
        let tiers = try library(scratch, [("core", 5)])
        let progress = try buildCorpus(tiers, in: scratch).progress
        #expect(progress.first?.phase == .scanning)
        #expect(progress.contains { $0.phase == .splitting })
        let last = try #require(progress.last)
        #expect(last.phase == .finished)
        #expect(last.filesDone == 5 && last.filesTotal == 5)
        #expect(last.bytesDone == last.bytesTotal && last.bytesTotal > 0)
        #expect(last.documents == 5)
        #expect(last.line.hasPrefix("finished 5/5 files"))
    }

    @Test func anErrorFromProgressCancelsTheBuild() throws {
        let scratch = try ScratchDirectory("corpus-cancel")
        let tiers = try library(scratch, [("core", 12)])
        struct Cancelled: Error {}
        var events = 0
        #expect(throws: Cancelled.self) {
            try CorpusBuilder().build(tiers: tiers, output: scratch.path("out")) { _ in
                events += 1
                if events == 2 { throw Cancelled() }
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["books"])
    }

    @Test func readerSelectsSplitsAndTiersAndExplainsErrors() throws {
        let scratch = try ScratchDirectory("corpus-reader")
        let tiers = try library(scratch, [("core", 10), ("orbit", 10)])
        let result = try buildCorpus(tiers, in: scratch) { $0.validationFraction = 0.2 }
        let reader = result.reader
        #expect(reader.tierNames == ["core", "orbit"])
        #expect(try reader.scenes(split: .validation, tiers: ["core"]).allSatisfy { $0.tier == "core" })
        let both = try reader.scenes(split: .train, tiers: ["core", "orbit"])
        #expect(both.first?.tier == "core" && both.last?.tier == "orbit")
        #expect(try reader.scenes(split: .train).count == result.manifest.total.train.scenes)
        #expect(throws: CorpusError.unknownTier("fractal", known: ["core", "orbit"])) { try reader.scenes(split: .train, tiers: ["fractal"]) }
        #expect(CorpusError.unknownTier("fractal", known: ["core", "orbit"]).description == "unknown tier 'fractal' (this corpus has: core, orbit)")
        #expect(throws: CorpusError.unreadableCorpus(path: scratch.path("books").path, reason: "no manifest.json")) {
            try CorpusReader(directory: scratch.path("books"))
        }
        var stopped = 0
        struct Enough: Error {}
        #expect(throws: Enough.self) {
            try reader.forEachScene(split: .train) { _ in
                stopped += 1
                if stopped == 3 { throw Enough() }
            }
        }
        #expect(stopped == 3)
        // A damaged shard line and a manifest of another format version are errors that name the file.
        let shard = scratch.path("out").appendingPathComponent(result.manifest.shards[0].path)
        try write("{\"doc\": 1}\n", shard)
        #expect(throws: CorpusError.unreadableCorpus(path: shard.path, reason: "record without a string \"doc\"")) {
            try reader.scenes(split: .train)
        }
        let manifestURL = scratch.path("out/manifest.json")
        let future = try String(contentsOf: manifestURL, encoding: .utf8).replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 99")
        try write(future, manifestURL)
        #expect(throws: CorpusError.unreadableCorpus(path: manifestURL.path, reason: "format loom-corpus version 99; this Loom reads loom-corpus version 1")) {
            try CorpusReader(directory: scratch.path("out"))
        }
    }

    @Test func shardsRollOverAtTheShardSize() throws {
        let scratch = try ScratchDirectory("corpus-shards")
        let tiers = try library(scratch, [("core", 30)])
        let result = try buildCorpus(tiers, in: scratch) { $0.shardBytes = 4096; $0.validationFraction = 0 }
        let shards = result.manifest.shards
        #expect(shards.count > 3)
        #expect(shards.map(\.path).prefix(2) == ["train/core-00000.jsonl", "train/core-00001.jsonl"])
        #expect(shards.dropLast().allSatisfy { $0.bytes <= 4096 })
        #expect(shards.reduce(0) { $0 + $1.scenes } == result.manifest.total.scenes)
    }
}
