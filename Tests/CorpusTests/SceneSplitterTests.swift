// SceneSplitterTests — scenes end at paragraph boundaries, never exceed the limit, are exact slices of
// the document text, honour forced breaks, cut long paragraphs at sentence ends, and resynchronise
// after an insertion thanks to content-defined anchors.
import Foundation
import Testing
@testable import Corpus

@Suite struct SceneSplitterTests {
    private func document(_ blocks: [TextBlock]) -> DocumentText { DocumentText(blocks, lowercase: false) }

    private func texts(_ document: DocumentText, _ scenes: [SceneSpan]) -> [String] {
        scenes.map { String(decoding: document.utf8[$0.byteStart..<$0.byteEnd], as: UTF8.self) }
    }

    /// The code-point slice [start, end) of the document, as Python's str[start:end] would give it.
    private func slice(_ document: DocumentText, _ span: SceneSpan) -> String {
        let scalars = Array(String(decoding: document.utf8, as: UTF8.self).unicodeScalars)
        return String(String.UnicodeScalarView(scalars[span.charStart..<span.charEnd]))
    }

    @Test func scenesAreBoundedSlicesAtParagraphBoundaries() {
        let paragraphs = sentences(120, seed: 7).map { TextBlock.paragraph($0) }
        let text = document(paragraphs)
        let scenes = SceneSplitter.scenes(of: text, maxChars: 500)
        #expect(scenes.count > 5)
        for scene in scenes {
            #expect(scene.chars <= 500)
            #expect(slice(text, scene) == String(decoding: text.utf8[scene.byteStart..<scene.byteEnd], as: UTF8.self))
            // Starts and ends on paragraph boundaries.
            #expect(text.paragraphs.contains { $0.charStart == scene.charStart })
            #expect(text.paragraphs.contains { $0.charEnd == scene.charEnd })
        }
        // Together the scenes cover every paragraph, in order, with only the blank lines between them.
        let joined = texts(text, scenes).joined(separator: "\n\n")
        #expect(joined == String(decoding: text.utf8, as: UTF8.self))
        // Most scenes use at least half the limit (cuts prefer anchors past the middle).
        #expect(scenes.dropLast().allSatisfy { $0.chars >= 250 })
    }

    @Test func forcedBreaksStartScenes() {
        let text = document([.paragraph("Глава один."), .paragraph("Текст."), .sceneBreak, .paragraph("Глава два."), .paragraph("Ещё.")])
        #expect(texts(text, SceneSplitter.scenes(of: text, maxChars: 4000)) == ["Глава один.\n\nТекст.", "Глава два.\n\nЕщё."])
    }

    @Test func longParagraphIsCutAtSentenceEndsThenSpaces() {
        let paragraph = "Первое предложение здесь. Второе предложение тоже! Третье? " + String(repeating: "слово ", count: 30) + "конец."
        let text = document([.paragraph(paragraph)])
        let scenes = SceneSplitter.scenes(of: text, maxChars: 70)
        let pieces = texts(text, scenes)
        #expect(pieces[0] == "Первое предложение здесь. Второе предложение тоже! Третье?")
        #expect(scenes.allSatisfy { $0.chars <= 70 })
        #expect(pieces.allSatisfy { !$0.hasPrefix(" ") && !$0.hasSuffix(" ") })
        #expect(pieces.joined(separator: " ") == paragraph)
        for scene in scenes { #expect(slice(text, scene) == String(decoding: text.utf8[scene.byteStart..<scene.byteEnd], as: UTF8.self)) }
        let unbroken = document([.paragraph(String(repeating: "я", count: 150))])
        #expect(SceneSplitter.scenes(of: unbroken, maxChars: 64).map(\.chars) == [64, 64, 22])
    }

    @Test func anchorsResynchroniseAfterAnInsertion() {
        let original = sentences(300, seed: 11).map { TextBlock.paragraph($0) }
        var edited = original
        edited.insert(.paragraph("Новое предисловие, которого не было в первом издании."), at: 3)
        let first = document(original), second = document(edited)
        let a = Set(texts(first, SceneSplitter.scenes(of: first, maxChars: 1200)))
        let b = texts(second, SceneSplitter.scenes(of: second, maxChars: 1200))
        // After the first few scenes the two editions cut in the same places again.
        let shared = b.filter { a.contains($0) }.count
        #expect(Double(shared) >= 0.7 * Double(b.count), "only \(shared) of \(b.count) scenes shared")
    }
}
