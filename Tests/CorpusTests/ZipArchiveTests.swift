// ZipArchiveTests — zip entries are read in memory with every guard: zip slip names, zip bombs (ratio,
// entry size, archive total, sizes that lie), corrupt data, encryption — each a reject with a reason.
import Foundation
import Testing
@testable import Corpus

@Suite struct ZipArchiveTests {
    private let limits = ZipLimits(CorpusOptions())

    @Test func storedAndDeflatedEntriesRoundTrip() throws {
        var builder = ZipBuilder()
        builder.add("stored.txt", "Без сжатия", deflate: false)
        builder.add("dir/deflated.txt", String(repeating: "Сжатый текст. ", count: 200))
        var archive = try ZipArchive(builder.build(), limits: limits)
        #expect(archive.entries.map(\.name) == ["stored.txt", "dir/deflated.txt"])
        #expect(try archive.read(archive.entries[0]).get() == Array("Без сжатия".utf8))
        #expect(try archive.read(archive.entries[1]).get() == Array(String(repeating: "Сжатый текст. ", count: 200).utf8))
    }

    @Test func zipSlipNamesAreUnsafe() {
        #expect(ZipArchive.unsafeNameReason("../../etc/passwd") == "'..' in zip entry name (path escapes the archive)")
        #expect(ZipArchive.unsafeNameReason("OEBPS/../../x.xhtml") == "'..' in zip entry name (path escapes the archive)")
        #expect(ZipArchive.unsafeNameReason("..\\windows\\x") == "'..' in zip entry name (path escapes the archive)")
        #expect(ZipArchive.unsafeNameReason("/etc/passwd") == "absolute path in zip entry name")
        #expect(ZipArchive.unsafeNameReason("C:/boot.ini") == "drive-letter path in zip entry name")
        #expect(ZipArchive.unsafeNameReason("OEBPS/ch..1.xhtml") == nil)
        #expect(ZipArchive.unsafeNameReason("a/b/c.fb2") == nil)
    }

    @Test func unsafeEntriesAreRejectedAndTheRestStillRead() throws {
        var builder = ZipBuilder()
        builder.add("../evil.fb2", BookBuilder.fb2(body: "<section><p>Зло.</p></section>"))
        builder.add("/abs/evil.fb2", BookBuilder.fb2(body: "<section><p>Тоже зло.</p></section>"))
        builder.add("good.fb2", BookBuilder.fb2(body: "<section><p>Добро.</p></section>"))
        let result = SourceReader.extract(path: "mixed.fb2.zip", data: builder.build(), limits: limits)
        #expect(result.documents.map(\.entry) == ["good.fb2"])
        #expect(result.rejects == [
            EntryReject(entry: "../evil.fb2", kind: .unsafePath, reason: "'..' in zip entry name (path escapes the archive)"),
            EntryReject(entry: "/abs/evil.fb2", kind: .unsafePath, reason: "absolute path in zip entry name"),
        ])
        // Nothing was written beside the archive: entries are only ever read into memory.
        #expect(!FileManager.default.fileExists(atPath: "../evil.fb2"))
        #expect(!FileManager.default.fileExists(atPath: "/abs/evil.fb2"))
    }

    @Test func highCompressionRatioIsAZipBomb() throws {
        var builder = ZipBuilder()
        builder.add("bomb.fb2", bytes: [UInt8](repeating: 0x20, count: 20 << 20))
        var archive = try ZipArchive(builder.build(), limits: limits)
        guard case .failure(let failure) = archive.read(archive.entries[0]) else {
            Issue.record("a 1000:1 entry was inflated")
            return
        }
        #expect(failure.kind == .zipBomb)
        #expect(failure.reason.hasPrefix("zip entry compression ratio "))
        #expect(failure.reason.hasSuffix(":1 exceeds the 100:1 limit"))
    }

    @Test func entryThatLiesAboutItsSizeIsStoppedWhileInflating() throws {
        var builder = ZipBuilder()
        builder.entries.append(ZipBuilder.Entry(name: "liar.fb2", data: [UInt8](repeating: 0x41, count: 200_000), declaredSize: 1000))
        var archive = try ZipArchive(builder.build(), limits: limits)
        #expect(archive.read(archive.entries[0]) == .failure(ZipEntryFailure(kind: .zipBomb, reason: "zip entry inflates beyond its declared size of 1000 bytes")))
    }

    @Test func perEntryAndPerArchiveCaps() throws {
        var small = CorpusOptions()
        small.maxZipEntryBytes = 10_000
        small.maxZipArchiveBytes = 15_000
        var random = SystemRandomNumberGenerator()
        let noise = (0..<8000).map { _ in UInt8.random(in: 0x41...0x5A, using: &random) }
        var builder = ZipBuilder()
        builder.add("big.txt", bytes: noise + noise)
        builder.add("a.txt", bytes: noise)
        builder.add("b.txt", bytes: noise)
        var archive = try ZipArchive(builder.build(), limits: ZipLimits(small))
        #expect(archive.read(archive.entries[0]) == .failure(ZipEntryFailure(kind: .zipBomb, reason: "zip entry declares 16000 bytes, over the 10000-byte limit")))
        #expect(try archive.read(archive.entries[1]).get().count == 8000)
        #expect(archive.read(archive.entries[2]) == .failure(ZipEntryFailure(kind: .zipBomb, reason: "zip archive inflates to more than 15000 bytes")))
    }

    @Test func corruptEncryptedAndTruncatedArchives() throws {
        var builder = ZipBuilder()
        builder.entries.append(ZipBuilder.Entry(name: "crc.txt", data: Array("текст".utf8), corruptCRC: true))
        builder.entries.append(ZipBuilder.Entry(name: "secret.txt", data: Array("тайна".utf8), encrypted: true))
        var archive = try ZipArchive(builder.build(), limits: limits)
        #expect(archive.read(archive.entries[0]) == .failure(ZipEntryFailure(kind: .malformed, reason: "zip entry CRC-32 mismatch (corrupt archive)")))
        #expect(archive.read(archive.entries[1]) == .failure(ZipEntryFailure(kind: .unsupported, reason: "encrypted zip entry")))
        let truncated = builder.build().prefix(40)
        #expect(throws: ZipEntryFailure(kind: .malformed, reason: "not a readable zip archive: no end-of-central-directory record (truncated?)")) {
            try ZipArchive(Data(truncated), limits: limits)
        }
        let result = SourceReader.extract(path: "cut.epub", data: Data(truncated), limits: limits)
        #expect(result.rejects.first?.kind == .malformed)
    }

    @Test func epubRelativeHrefsResolveInsideTheArchive() {
        #expect(EPUBReader.resolve("text/ch%201.xhtml#p3", base: "OEBPS/") == "OEBPS/text/ch 1.xhtml")
        #expect(EPUBReader.resolve("../Text/ch1.xhtml", base: "OEBPS/Package/") == "OEBPS/Text/ch1.xhtml")
        #expect(EPUBReader.resolve("../../../etc/passwd", base: "OEBPS/") == "../../etc/passwd")
    }
}
