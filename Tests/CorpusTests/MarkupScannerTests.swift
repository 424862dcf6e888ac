// MarkupScannerTests — XML tokens, entities, and the well-formedness errors that reject a file, with
// their line numbers.
import Testing
@testable import Corpus

@Suite struct MarkupScannerTests {
    private func tokens(_ text: String, html: Bool = false) throws(MarkupFailure) -> [MarkupToken] {
        var scanner = MarkupScanner(text, html: html)
        var result: [MarkupToken] = []
        while let token = try scanner.next() { result.append(token) }
        return result
    }

    private func failure(_ text: String, html: Bool = false) -> String? {
        do {
            _ = try tokens(text, html: html)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func tokensAttributesAndEntities() throws {
        let result = try tokens("<?xml version=\"1.0\"?><!-- note --><a x='1' y=\"&lt;2&gt;\"><b/>Tom &amp; Jerry&nbsp;&#1025;&#x451;&mdash;&unknown;<![CDATA[<raw>]]></a>")
        #expect(result == [
            .start(name: "a", attributes: ["x": "1", "y": "<2>"], selfClosing: false),
            .start(name: "b", attributes: [:], selfClosing: true),
            .text("Tom & Jerry\u{00A0}Ёё—&unknown;"),
            .text("<raw>"),
            .end(name: "a"),
        ])
    }

    @Test func wellFormednessErrorsNameTheLine() {
        #expect(failure("<FictionBook>\n<body>\n<p>text</body>\n</FictionBook>")
            == "malformed XML: line 3: closing tag </body> does not match <p> opened on line 3")
        #expect(failure("<a>\n<b>\ntext")
            == "malformed XML: line 3: document ends while <b> opened on line 2 is still open")
        #expect(failure("<a>\n</a>\n</a>") == "malformed XML: line 3: closing tag </a> but no element is open")
        #expect(failure("<a><!-- never closed </a>") == "malformed XML: line 1: unterminated comment")
        #expect(failure("<a x=1></a>") == "malformed XML: line 1: attribute 'x' of <a> needs a quoted value")
        #expect(failure("<a>1 < 2</a>") == "malformed XML: line 1: '<' that does not start a tag (write &lt; in text)")
        #expect(failure("just text") == "malformed XML: line 1: no element found")
        #expect(failure("<a><b></a>") == "malformed XML: line 1: closing tag </a> does not match <b> opened on line 1")
    }

    @Test func htmlModeAcceptsVoidElementsAndUnquotedAttributes() throws {
        let result = try tokens("<p class=x hidden>one<br>two<img src=a.png></p>", html: true)
        #expect(result == [
            .start(name: "p", attributes: ["class": "x", "hidden": ""], selfClosing: false),
            .text("one"),
            .start(name: "br", attributes: [:], selfClosing: true),
            .text("two"),
            .start(name: "img", attributes: ["src": "a.png"], selfClosing: true),
            .end(name: "p"),
        ])
        #expect(failure("<p>one<br>two</p>") != nil)  // XML mode: <br> must be closed
    }
}
