// FormatReaderTests — each input format through SourceReader: what becomes text, what is dropped, how
// the format and encoding are found; the Debian fortunes-ru files read from copied fixtures.
import Foundation
import Testing
@testable import Corpus
import TestSupport

@Suite struct FormatReaderTests {
    private let limits = ZipLimits(CorpusOptions())

    private func read(_ data: Data, path: String) -> FileExtraction {
        SourceReader.extract(path: path, data: data, limits: limits)
    }

    private func read(_ text: String, path: String) -> FileExtraction {
        read(Data(text.utf8), path: path)
    }

    @Test func plainText() {
        let result = read("Первый абзац.\n\nВторой абзац.\n", path: "book.txt")
        #expect(result.format == .text)
        #expect(result.encoding == .utf8)
        #expect(result.documents.count == 1)
        #expect(paragraphs(result.documents[0].blocks) == ["Первый абзац.", "Второй абзац."])
    }

    @Test func markdownKeepsTextDropsMarkup() {
        let markdown = """
            ---
            title: front matter
            ---
            # Глава первая

            Он сказал **громко**: «[Привет](https://example.com)», и _ушёл_.
            ![обложка](cover.png)

            ```
            let code = "dropped"
            ```

            - первый пункт
            - второй пункт

            ***

            > Цитата
            > в две строки.
            snake_case stays, \\*escaped\\* too.
            """
        let result = read(markdown, path: "notes.md")
        #expect(result.format == .markdown)
        #expect(paragraphs(result.documents[0].blocks) == [
            "Глава первая", "Он сказал громко: «Привет», и ушёл.", "первый пункт", "второй пункт", "⁂",
            "Цитата\nв две строки.\nsnake_case stays, *escaped* too.",
        ])
    }

    @Test func fictionBookTitleAuthorBodyFootnotesDropped() throws {
        let body = """
            <section><title><p>Глава 1</p></title>
            <epigraph><p>Эпиграф.</p><text-author>Автор эпиграфа</text-author></epigraph>
            <p>Первый <emphasis>абзац</emphasis> со сноской<a l:href="#n1" type="note">[1]</a>.</p>
            <empty-line/>
            <poem><stanza><v>Строка один,</v><v>строка два.</v></stanza></poem>
            <image l:href="#cover.jpg"/>
            </section>
            <section><p>Вторая &laquo;глава&raquo;.</p></section>
            """
        let result = read(BookBuilder.fb2(body: body), path: "book.fb2")
        #expect(result.format == .fictionBook)
        let document = try #require(result.documents.first)
        #expect(document.title == "Повесть")
        #expect(document.author == "Антон Чехов")
        #expect(paragraphs(document.blocks) == [
            "Глава 1", "Эпиграф.", "Автор эпиграфа", "Первый абзац со сноской.", "Строка один,\nстрока два.", "⁂", "Вторая «глава».",
        ])
    }

    @Test func fictionBookEncodingComesFromTheDeclaration() throws {
        let text = BookBuilder.fb2(body: "<section><p>Съешь же ещё этих мягких французских булок.</p></section>", encoding: "windows-1251")
        let result = read(Data(text.utf8).reencoded(.windows1251), path: "old.fb2")
        #expect(result.encoding == .windows1251)
        #expect(paragraphs(try #require(result.documents.first).blocks) == ["Съешь же ещё этих мягких французских булок."])
    }

    @Test func fictionBookByContentWhateverTheExtension() {
        let result = read(BookBuilder.fb2(body: "<section><p>Текст.</p></section>"), path: "misnamed.txt")
        #expect(result.format == .fictionBook)
    }

    @Test func malformedFictionBookIsRejectedWithTheLine() {
        let result = read("<?xml version=\"1.0\"?>\n<FictionBook>\n<body><p>Текст</body>\n</FictionBook>", path: "broken.fb2")
        #expect(result.documents.isEmpty)
        #expect(result.rejects == [EntryReject(entry: nil, kind: .malformed, reason: "malformed XML: line 3: closing tag </body> does not match <p> opened on line 3")])
        let notFictionBook = read("<?xml version=\"1.0\"?><html><body>x</body></html>", path: "page.fb2")
        #expect(notFictionBook.rejects.first?.reason == "not a FictionBook document (root element <html>)")
    }

    @Test func zippedFictionBooksEachBecomeADocument() throws {
        var zip = ZipBuilder()
        zip.add("first.fb2", BookBuilder.fb2(body: "<section><p>Первая книга.</p></section>", title: "Первая"))
        zip.add("second.fb2", BookBuilder.fb2(body: "<section><p>Вторая книга.</p></section>", title: "Вторая"))
        zip.add("readme.txt", "not a book")
        let result = read(zip.build(), path: "books.fb2.zip")
        #expect(result.format == .fictionBookZip)
        #expect(result.documents.map(\.entry) == ["first.fb2", "second.fb2"])
        #expect(result.documents.map(\.title) == ["Первая", "Вторая"])
        #expect(result.rejects.isEmpty)
    }

    @Test func epubFollowsTheSpineAndDropsMarkup() throws {
        let epub = BookBuilder.epub(
            files: [
                ("ch2", "<h1>Глава 2</h1><p>Вторая глава.</p><nav><p>оглавление</p></nav>"),
                ("ch1", "<h1>Глава 1</h1><p>Первая<br/>строка и <i>курсив</i>.</p><p>Сноска<a epub:type=\"noteref\" href=\"#n\">1</a> здесь.</p><aside epub:type=\"footnote\"><p>текст сноски</p></aside><hr/><div>После черты.</div>"),
            ],
            spine: ["ch1", "ch2"])
        let result = read(epub, path: "book.epub")
        #expect(result.format == .epub)
        let document = try #require(result.documents.first)
        #expect(document.title == "Книга")
        #expect(document.author == "Анна Петрова")
        #expect(paragraphs(document.blocks) == ["Глава 1", "Первая\nстрока и курсив.", "Сноска здесь.", "⁂", "После черты.", "⁂", "Глава 2", "Вторая глава."])
    }

    @Test func epubWithAMissingSpineItemIsRejected() {
        let epub = BookBuilder.epub(files: [("ch1", "<p>Есть.</p>")], spine: ["ch1", "ch2"])
        let result = read(epub, path: "holes.epub")
        #expect(result.documents.isEmpty)
        #expect(result.rejects == [EntryReject(entry: "OEBPS/ch2.xhtml", kind: .missingPart, reason: "spine item 'ch2' (OEBPS/ch2.xhtml) is missing from the archive")])
    }

    @Test func epubWithBrokenXHTMLIsRejected() {
        let epub = BookBuilder.epub(files: [("ch1", "<p>Нет закрытия</div>")], spine: ["ch1"])
        let result = read(epub, path: "broken.epub")
        #expect(result.rejects.first?.kind == .malformed)
        #expect(result.rejects.first?.entry == "OEBPS/ch1.xhtml")
        #expect(result.rejects.first?.reason.hasPrefix("malformed XML: line 5: closing tag </div> does not match <p>") == true)
    }

    @Test func jsonLinesTextFieldBadLinesRejected() {
        let lines = """
            {"text": "Первая запись.\\n\\nВторой абзац.", "title": "T"}
            {"id": 2, "text": "Вторая запись \\u0438 \\ud83d\\ude00."}

            {"text": 42}
            {"body": "no text"}
            not json
            {"text": "   "}
            """
        let result = read(lines, path: "data.jsonl")
        #expect(result.format == .jsonLines)
        #expect(result.documents.map(\.entry) == ["line 1", "line 2"])
        #expect(paragraphs(result.documents[0].blocks) == ["Первая запись.", "Второй абзац."])
        #expect(paragraphs(result.documents[1].blocks) == ["Вторая запись и 😀."])
        #expect(result.documents[0].title == "T")
        #expect(result.rejects == [
            EntryReject(entry: "line 4", kind: .malformed, reason: "field \"text\" is not a string (expected a string)"),
            EntryReject(entry: "line 5", kind: .malformed, reason: "field \"text\" is missing (expected a string)"),
            EntryReject(entry: "line 6", kind: .malformed, reason: "not a JSON object: column 1: expected '{' (a JSON object per line)"),
            EntryReject(entry: "line 7", kind: .empty, reason: "field \"text\" holds no text"),
        ])
    }

    @Test func debianFortunesRuReadAsEntries() throws {
        let path = TestPaths.fixture("corpus/fortunes-ru/conscience").path
        let result = read(try Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        #expect(result.format == .fortune)
        #expect(result.encoding == .utf8)
        #expect(result.documents.count == 7)  // seven entries, each closed by a `%` line
        #expect(result.documents.first?.entry == "entry 1")
        #expect(paragraphs(result.documents[0].blocks) == ["Совесть - тысяча подкупленных свидетелей.", "-- Евгений Кащеев"])
        #expect(paragraphs(result.documents[3].blocks) == ["Голос разума, голос совести, голос крови...\nПопробуй, разбери что-нибудь в этом хоре!", "-- Евгений Кащеев"])
    }

    @Test func fortuneIndexBesideItsFileIsSkippedNotRead() throws {
        let path = TestPaths.fixture("corpus/fortunes-ru/2001.09.dat").path
        let result = read(try Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        #expect(result.documents.isEmpty)
        #expect(result.rejects.isEmpty)
        #expect(result.skipReason == "strfile index of the fortune file \(path.dropLast(4)) (binary; the text itself is read)")
        // The same bytes without the text beside them are just binary.
        let orphan = read(try Data(contentsOf: URL(fileURLWithPath: path)), path: "/nowhere/orphan.dat")
        #expect(orphan.rejects.first?.kind == .binary)
    }

    @Test func binaryAndEmptyFilesAreRejected() {
        #expect(read(Data(), path: "empty.txt").rejects == [EntryReject(entry: nil, kind: .empty, reason: "empty file")])
        #expect(read("  \n\t\n\u{200B}\n", path: "blank.txt").rejects == [EntryReject(entry: nil, kind: .empty, reason: "no text after normalisation (only whitespace, markup or control characters)")])
        #expect(read(Data("%PDF-1.7\n...".utf8), path: "book.pdf").rejects == [EntryReject(entry: nil, kind: .binary, reason: "binary file (PDF), not a text format Loom reads")])
        #expect(read(Data([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]), path: "a.out").rejects.first?.reason == "binary file (ELF executable), not a text format Loom reads")
        #expect(read("<html><body><p>page</body></html>", path: "page.html").rejects == [EntryReject(entry: nil, kind: .unsupported, reason: "HTML pages are not a supported format (package them as EPUB, or convert to text)")])
        var zip = ZipBuilder()
        zip.add("photo.jpg", bytes: [0xFF, 0xD8, 0xFF, 0xE0])
        #expect(read(zip.build(), path: "photos.zip").rejects == [EntryReject(entry: nil, kind: .unsupported, reason: "zip archive holds neither an EPUB nor .fb2 files")])
    }
}
