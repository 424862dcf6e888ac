// TextEncodingTests — encoding detection on real Russian text converted by iconv (fixtures), BOMs,
// UTF-16, declared encodings, and the texts that must be rejected (Latin-1, CP866, binary).
import Foundation
import Testing
@testable import Corpus
import TestSupport

@Suite struct TextEncodingTests {
    private func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: TestPaths.fixture("corpus/russian/\(name)"))
    }

    private func decode(_ data: Data, declared: String? = nil) throws -> DecodedText {
        switch TextDecoder.decode(data, declared: declared) {
        case .success(let decoded): return decoded
        case .failure(let failure): throw failure
        }
    }

    @Test(arguments: ["onegin", "chekhov", "caps"])
    func windows1251AndKOI8RAreToldApartOnRealRussianText(sample: String) throws {
        let original = String(decoding: try fixture("\(sample).utf8.txt"), as: UTF8.self)
        let cp1251 = try decode(try fixture("\(sample).cp1251.txt"))
        #expect(cp1251.encoding == .windows1251)
        #expect(cp1251.text == original)
        let koi8 = try decode(try fixture("\(sample).koi8r.txt"))
        #expect(koi8.encoding == .koi8r)
        #expect(koi8.text == original)
    }

    @Test func shortPhrasesAreDetectedToo() throws {
        for phrase in ["Привет, мир!", "Да.", "Ёлка", "СССР", "кто-нибудь"] {
            let cp1251 = try decode(Data(phrase.utf8).reencoded(.windows1251))
            #expect(cp1251.encoding == .windows1251, "\(phrase)")
            #expect(cp1251.text == phrase)
            let koi8 = try decode(Data(phrase.utf8).reencoded(.koi8r))
            #expect(koi8.encoding == .koi8r, "\(phrase)")
            #expect(koi8.text == phrase)
        }
    }

    @Test func windows1251TableAgreesWithFoundation() throws {
        for byte in 0x80...0xFF where byte != 0x98 {
            let ours = [UInt8(byte)].withUnsafeBufferPointer { CyrillicCodePage.windows1251.decode($0) }
            let foundation = String(data: Data([UInt8(byte)]), encoding: .windowsCP1251)
            #expect(ours == foundation, "byte 0x\(String(byte, radix: 16))")
        }
    }

    @Test func byteOrderMarksDecide() throws {
        let text = "Съешь же ещё этих мягких французских булок"
        let withBOM = try decode(Data([0xEF, 0xBB, 0xBF] + Array(text.utf8)))
        #expect(withBOM.encoding == .utf8BOM)
        #expect(withBOM.text == text)
        let plain = try decode(Data(text.utf8))
        #expect(plain.encoding == .utf8)
        let littleEndian = try decode(Data([0xFF, 0xFE]) + text.data(using: .utf16LittleEndian)!)
        #expect(littleEndian.encoding == .utf16LE)
        #expect(littleEndian.text == text)
        let bigEndian = try decode(Data([0xFE, 0xFF]) + text.data(using: .utf16BigEndian)!)
        #expect(bigEndian.encoding == .utf16BE)
        #expect(bigEndian.text == text)
    }

    @Test func declaredEncodingIsUsed() throws {
        let text = "Глава первая"
        let bytes = Data(text.utf8).reencoded(.koi8r)
        #expect(try decode(bytes, declared: "KOI8-R").encoding == .koi8r)
        #expect(try decode(bytes, declared: "KOI8-R").text == text)
        let unknown = TextDecoder.decode(bytes, declared: "iso-8859-5")
        #expect(unknown == .failure(DecodeFailure(kind: .unsupported, reason: "declares encoding 'iso-8859-5', which Loom does not read (UTF-8, UTF-16, Windows-1251, KOI8-R)")))
    }

    @Test func latin1AndCP866AreRejectedAsUndecodable() throws {
        let german = "Müller über Größe, schön und süß: äöü ÄÖÜ ß".data(using: .isoLatin1)!
        guard case .failure(let failure) = TextDecoder.decode(german) else {
            Issue.record("Latin-1 text was accepted")
            return
        }
        #expect(failure.kind == .undecodable)
        #expect(failure.reason.hasPrefix("not valid UTF-8, and not Windows-1251 or KOI8-R Russian text (first invalid byte at offset 1)"))
        for unsupported in ["onegin.cp866.txt", "onegin.iso8859-5.txt"] {
            guard case .failure(let failure) = TextDecoder.decode(try fixture(unsupported)) else {
                Issue.record("\(unsupported) was accepted")
                continue
            }
            #expect(failure.kind == .undecodable)
        }
    }

    @Test func binaryDataIsRejected() throws {
        var random = SystemRandomNumberGenerator()
        let noise = Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) } + [0])
        #expect(TextDecoder.decode(noise) == .failure(DecodeFailure(kind: .binary, reason: "binary data (NUL bytes; UTF-16 text needs a byte-order mark)")))
        let controls = Data((0..<1000).map { UInt8($0 % 8 + 1) })
        guard case .failure(let failure) = TextDecoder.decode(controls) else {
            Issue.record("control bytes accepted")
            return
        }
        #expect(failure.kind == .binary)
        #expect(failure.reason.contains("control bytes"))
    }

    @Test func brokenUTF16IsRejected() throws {
        let unpaired = Data([0xFF, 0xFE, 0x3F, 0x04, 0x00, 0xD8, 0x40, 0x04])
        #expect(TextDecoder.decode(unpaired) == .failure(DecodeFailure(kind: .undecodable, reason: "invalid UTF-16 (1 unpaired surrogate code units)")))
    }
}

extension Data {
    /// The UTF-8 text of `self` in a Cyrillic code page, via our own tables read backwards (the tables
    /// themselves are checked against iconv-made fixtures and Foundation).
    func reencoded(_ page: CyrillicCodePage) -> Data {
        var reverse: [Unicode.Scalar: UInt8] = [:]
        for (offset, scalar) in page.upperHalf.enumerated() { reverse[Unicode.Scalar(scalar)!] = UInt8(0x80 + offset) }
        return Data(String(decoding: self, as: UTF8.self).unicodeScalars.map { $0.isASCII ? UInt8($0.value) : reverse[$0]! })
    }
}
