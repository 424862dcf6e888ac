// NormalisationTests — the normalisation rules of TextCleanup and TextLayout on Russian examples.
import Foundation
import Testing
@testable import Corpus
import TestSupport

@Suite struct NormalisationTests {
    private func layout(_ text: String, width: Int? = nil) -> [String] {
        paragraphs(TextLayout.blocks(fromPlainText: TextCleanup.clean(text), wrapWidth: width))
    }

    @Test func nfcComposesDecomposedCyrillic() {
        let decomposed = "и\u{0306}од, е\u{0308}лка, И\u{0306}ошкар-Ола"
        #expect(decomposed.unicodeScalars.count == 24)
        let cleaned = TextCleanup.clean(decomposed)
        #expect(cleaned == "йод, ёлка, Йошкар-Ола")
        #expect(cleaned.unicodeScalars.count == 21)
    }

    @Test func nfcStableRangesReallyAreStable() {
        var scalars = String.UnicodeScalarView()
        for value in 0...0x27BF where TextCleanup.isNFCStable(UInt32(value)) {
            guard let scalar = Unicode.Scalar(value), value >= 0x20, !(0x7F...0x9F).contains(value) else { continue }
            scalars.append(scalar)
            scalars.append(" ")
        }
        let text = String(scalars)
        #expect(text.precomposedStringWithCanonicalMapping == text)
    }

    @Test func controlCharactersAndExoticSpacesAreCleaned() {
        let text = "Он\u{0007} сказал:\u{00A0}«Нет»\u{200B}.\r\nИ\u{2003}ушёл\u{FEFF}.\u{0085}\rКонец\u{2028}строки"
        #expect(TextCleanup.clean(text) == "Он сказал: «Нет».\nИ ушёл.\nКонец\nстроки")
    }

    @Test func lineEndDehyphenation() {
        #expect(layout("Это был пере-\nход через реку.") == ["Это был переход через реку."])
        #expect(layout("Кто-то сказал: кто-\nнибудь придёт, а что-\nто останется.") == ["Кто-то сказал: кто-нибудь придёт, а что-то останется."])
        #expect(layout("Город Санкт-\nПетербург стоит.") == ["Город Санкт-Петербург стоит."])
        #expect(layout("Кое-\nкак добрались.") == ["Кое-как добрались."])
        // A soft hyphen at the line end counts as a hyphen; inside a word it disappears.
        #expect(layout("Боль\u{00AD}шой до\u{00AD}\nмик.") == ["Большой домик."])
        // A dash after a space is punctuation, not a hyphen.
        #expect(layout("Он молчал -\nи ждал.") == ["Он молчал -\nи ждал."])
    }

    @Test func paragraphsArePreservedAndWhitespaceCollapsed() {
        let text = "  Первый   абзац,\tв нём\n\nдва  предложения.  \n\n\n\nВторой\u{00A0}\u{00A0}абзац.\n"
        #expect(layout(text) == ["Первый абзац, в нём", "два предложения.", "Второй абзац."])
    }

    @Test func hardWrappedLinesJoinShortLinesKeepTheirBreak() {
        let wrapped = """
            Мой дядя самых честных правил, когда не в шутку занемог, он уважать
            себя заставил и лучше выдумать не мог. Его пример другим наука; но,
            боже мой, какая скука с больным сидеть и день и ночь, не отходя ни
            шагу прочь.

            Стихи:
            Какое низкое коварство
            Полуживого забавлять
            """
        let result = layout(wrapped, width: 72)
        #expect(result == [
            "Мой дядя самых честных правил, когда не в шутку занемог, он уважать себя заставил и лучше выдумать не мог. Его пример другим наука; но, боже мой, какая скука с больным сидеть и день и ночь, не отходя ни шагу прочь.",
            "Стихи:\nКакое низкое коварство\nПолуживого забавлять",
        ])
    }

    @Test func libRuIndentedParagraphsOnRealSample() throws {
        let text = String(decoding: try Data(contentsOf: TestPaths.fixture("corpus/russian/chekhov.utf8.txt")), as: UTF8.self)
        let result = layout(text)
        #expect(result.count == 3)
        #expect(result[0].hasPrefix("В ясный зимний полдень, когда мороз крепок и трещит, а у Надежды Петровны, которая"))
        #expect(result[0].contains("От наших ног до самой земли"))
        #expect(result[1] == "Рядом с нами маленькие санки, обитые ярко-красным сукном.")
        #expect(result[2].hasPrefix("- Съедемте вниз, Надежда Петровна! - умоляю я."))
    }

    @Test func sceneBreakLinesBecomeBreaks() {
        #expect(layout("Конец главы.\n\n* * *\n\nНовая сцена.\n***\nЕщё одна.") == ["Конец главы.", "⁂", "Новая сцена.", "⁂", "Ещё одна."])
    }

    @Test func lowercasingIsOptional() {
        let blocks = TextLayout.blocks(fromPlainText: "Москва. ЁЛКА")
        #expect(String(decoding: DocumentText(blocks, lowercase: true).utf8, as: UTF8.self) == "москва. ёлка")
        #expect(String(decoding: DocumentText(blocks, lowercase: false).utf8, as: UTF8.self) == "Москва. ЁЛКА")
    }

    @Test func documentTextJoinsParagraphsWithBlankLinesAndCountsCodePoints() {
        let document = DocumentText([.paragraph("Ёж."), .sceneBreak, .paragraph("Ёлка и ёж.")], lowercase: false)
        #expect(String(decoding: document.utf8, as: UTF8.self) == "Ёж.\n\nЁлка и ёж.")
        #expect(document.paragraphs == [
            DocumentText.Paragraph(byteStart: 0, byteEnd: 5, charStart: 0, charEnd: 3, breakBefore: false),
            DocumentText.Paragraph(byteStart: 7, byteEnd: 24, charStart: 5, charEnd: 15, breakBefore: true),
        ])
    }
}
