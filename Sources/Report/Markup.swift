// Markup — writes the report's XHTML and SVG: elements always closed, text and attributes always
// escaped, so the page is well-formed XML (an XHTML polyglot) whatever corpora and generations hold.
public struct Markup {
    public private(set) var text = ""

    public init() {}

    /// Text safe inside an element or a double- or single-quoted attribute. Characters XML 1.0 cannot
    /// carry at all (control characters other than tab, newline and carriage return; U+FFFE, U+FFFF)
    /// become U+FFFD, so a stray byte in a generation cannot make the page unreadable.
    public static func escape(_ raw: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(raw.unicodeScalars.count)
        for scalar in raw.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    public typealias Attributes = [(String, String)]

    /// `<tag a="…">`, to be closed with `close(tag)`.
    public mutating func open(_ tag: String, _ attributes: Attributes = []) {
        text += "<" + tag + Self.render(attributes) + ">"
    }

    public mutating func close(_ tag: String) {
        text += "</" + tag + ">"
    }

    /// An element with children written by `body`.
    public mutating func element(_ tag: String, _ attributes: Attributes = [], _ body: (inout Markup) -> Void) {
        open(tag, attributes)
        body(&self)
        close(tag)
    }

    /// An element holding only text.
    public mutating func element(_ tag: String, _ attributes: Attributes = [], text content: String) {
        open(tag, attributes)
        text(content)
        close(tag)
    }

    /// A self-closed element: `<line …/>`, `<meta …/>`.
    public mutating func empty(_ tag: String, _ attributes: Attributes = []) {
        text += "<" + tag + Self.render(attributes) + "/>"
    }

    public mutating func text(_ content: String) {
        text += Self.escape(content)
    }

    /// Markup built elsewhere (a chart), inserted as is.
    public mutating func append(_ other: Markup) {
        text += other.text
    }

    /// Content that is ours and contains nothing to escape (the stylesheet, the doctype).
    mutating func raw(_ trusted: String) {
        text += trusted
    }

    public mutating func newline() {
        text += "\n"
    }

    private static func render(_ attributes: Attributes) -> String {
        attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }
}
