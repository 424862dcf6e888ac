// SceneSplitter — cuts a document into scenes of at most `maxChars` code points, at paragraph
// boundaries. A forced break (chapter, section, "* * *") always starts a scene. When a scene must end
// because the next paragraph does not fit, it ends at the last "anchor" paragraph past half the limit,
// if there is one: an anchor is a paragraph whose content hash is 0 mod 4, so two copies of a text
// that differ early on (another edition, an extra preface) still cut at the same places later, and
// their scenes match for dedupe. A paragraph longer than the limit is cut at the last sentence end
// (. ! ? …) before it, else at the last space, else hard at the limit; the whitespace at a cut belongs
// to neither scene. Every scene is an exact slice of the document text.
import Foundation

struct SceneSpan: Equatable, Sendable {
    var byteStart: Int
    var byteEnd: Int
    var charStart: Int
    var charEnd: Int
    var chars: Int { charEnd - charStart }
}

enum SceneSplitter {
    private struct Unit {
        var span: SceneSpan
        var breakBefore: Bool
        var isAnchor: Bool
    }

    static func scenes(of document: DocumentText, maxChars: Int) -> [SceneSpan] {
        let units = document.utf8.withUnsafeBufferPointer { makeUnits(document, $0, maxChars: maxChars) }
        var scenes: [SceneSpan] = []
        var start = 0
        while start < units.count {
            var last = start
            while last + 1 < units.count && !units[last + 1].breakBefore
                && units[last + 1].span.charEnd - units[start].span.charStart <= maxChars {
                last += 1
            }
            var cut = last
            if last + 1 < units.count && !units[last + 1].breakBefore {
                var candidate = last - 1
                while candidate >= start && units[candidate].span.charEnd - units[start].span.charStart >= maxChars / 2 {
                    if units[candidate].isAnchor { cut = candidate; break }
                    candidate -= 1
                }
            }
            scenes.append(SceneSpan(
                byteStart: units[start].span.byteStart, byteEnd: units[cut].span.byteEnd,
                charStart: units[start].span.charStart, charEnd: units[cut].span.charEnd))
            start = cut + 1
        }
        return scenes
    }

    private static func makeUnits(_ document: DocumentText, _ bytes: UnsafeBufferPointer<UInt8>, maxChars: Int) -> [Unit] {
        var units: [Unit] = []
        units.reserveCapacity(document.paragraphs.count)
        for paragraph in document.paragraphs {
            let pieces = paragraph.charEnd - paragraph.charStart <= maxChars
                ? [SceneSpan(byteStart: paragraph.byteStart, byteEnd: paragraph.byteEnd, charStart: paragraph.charStart, charEnd: paragraph.charEnd)]
                : split(paragraph, bytes, maxChars: maxChars)
            for (index, piece) in pieces.enumerated() {
                var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                for byte in UnsafeBufferPointer(rebasing: bytes[piece.byteStart..<piece.byteEnd]) {
                    hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
                }
                units.append(Unit(span: piece, breakBefore: index == 0 && paragraph.breakBefore, isAnchor: (hash >> 32) & 3 == 0))
            }
        }
        return units
    }

    /// Cuts one over-long paragraph into pieces of at most `maxChars` code points.
    private static func split(_ paragraph: DocumentText.Paragraph, _ bytes: UnsafeBufferPointer<UInt8>, maxChars: Int) -> [SceneSpan] {
        var scalars: [UInt32] = []
        var offsets: [Int] = []
        var index = paragraph.byteStart
        while index < paragraph.byteEnd {
            let (scalar, width) = TextCleanup.decodeScalar(bytes, index)
            scalars.append(scalar)
            offsets.append(index)
            index += width
        }
        offsets.append(paragraph.byteEnd)
        func isSpace(_ scalar: UInt32) -> Bool { scalar == 0x20 || scalar == 0x0A }
        func isSentenceEnd(_ scalar: UInt32) -> Bool {
            scalar == 0x2E || scalar == 0x21 || scalar == 0x3F || scalar == 0x2026
        }
        var pieces: [SceneSpan] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            if scalars.count - start > maxChars {
                var sentenceCut: Int?, spaceCut: Int?
                for position in (start + 1)...(start + maxChars) where isSpace(scalars[position]) {
                    spaceCut = position
                    if isSentenceEnd(scalars[position - 1]) || (position >= 2 && isSentenceEnd(scalars[position - 2])
                        && [0x22, 0xBB, 0x201D, 0x29].contains(scalars[position - 1])) {
                        sentenceCut = position
                    }
                }
                end = sentenceCut ?? spaceCut ?? start + maxChars
            }
            pieces.append(SceneSpan(
                byteStart: offsets[start], byteEnd: offsets[end],
                charStart: paragraph.charStart + start, charEnd: paragraph.charStart + end))
            start = end
            while start < scalars.count && isSpace(scalars[start]) { start += 1 }
        }
        return pieces
    }
}
