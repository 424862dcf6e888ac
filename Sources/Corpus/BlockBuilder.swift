// BlockBuilder — collects the text of markup (FB2, XHTML) into paragraphs: text nodes append, block
// elements flush, <br/> and verse lines break the line, chapters and <hr/> break the scene. Each
// paragraph is cleaned (TextCleanup) and whitespace-collapsed (TextLayout.collapse) when flushed.
import Foundation

struct BlockBuilder {
    private(set) var blocks: [TextBlock] = []
    private var buffer: [UInt8] = []
    private var hasText = false

    /// Text from the markup; its line ends and tabs are layout of the source file, so they become spaces.
    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            for byte in bytes {
                switch byte {
                case 0x0A, 0x0D, 0x09:
                    buffer.append(0x20)
                case 0x20:
                    buffer.append(byte)
                default:
                    buffer.append(byte)
                    hasText = true
                }
            }
        }
    }

    /// A line break inside the paragraph (<br/>, the end of a verse line).
    mutating func lineBreak() {
        buffer.append(0x0A)
    }

    mutating func flush() {
        defer {
            buffer.removeAll(keepingCapacity: true)
            hasText = false
        }
        guard hasText else { return }
        let paragraph = buffer.withUnsafeBufferPointer { TextLayout.collapse(TextCleanup.clean($0)) }
        if !paragraph.isEmpty { blocks.append(.paragraph(paragraph)) }
    }

    mutating func sceneBreak() {
        flush()
        if let last = blocks.last, last != .sceneBreak { blocks.append(.sceneBreak) }
    }

    mutating func finish() -> [TextBlock] {
        flush()
        if blocks.last == .sceneBreak { blocks.removeLast() }
        return blocks
    }
}
