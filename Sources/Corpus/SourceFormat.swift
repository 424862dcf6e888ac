// SourceFormat — the input formats Loom reads, and how a file's format is found: by content first
// (zip magic, binary magic, NUL bytes, an XML <FictionBook> root, `%` separator lines), then by name
// (.jsonl/.ndjson, .md/.markdown). Everything else that decodes as text is plain text.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum SourceFormat: String, Codable, Sendable, CaseIterable {
    case text = "txt"
    case markdown = "md"
    case fictionBook = "fb2"
    case fictionBookZip = "fb2.zip"
    case epub
    case jsonLines = "jsonl"
    case fortune
}

enum SniffResult: Equatable {
    case zip
    case binary(String)
    /// A strfile(1) index (`name.dat`) beside the fortune file `name` it indexes.
    case fortuneIndex(of: String)
    case text
}

enum FormatDetection {
    static func sniff(_ data: Data, path: String) -> SniffResult {
        if data.starts(with: ZipArchive.localMagic) || data.starts(with: ZipArchive.emptyMagic) { return .zip }
        for (magic, name) in binaryMagics where data.starts(with: magic) {
            return .binary("binary file (\(name)), not a text format Loom reads")
        }
        if let text = fortuneIndexTarget(data, path: path) { return .fortuneIndex(of: text) }
        return .text
    }

    /// The format of decoded text.
    static func textFormat(_ text: String, path: String) -> SourceFormat {
        let lowerPath = path.lowercased()
        let head = text.utf8.prefix(4096)
        let headString = String(decoding: head, as: UTF8.self)
        let trimmed = headString.drop { $0.isWhitespace }
        if (trimmed.hasPrefix("<?xml") || trimmed.hasPrefix("<FictionBook")) && headString.contains("<FictionBook") {
            return .fictionBook
        }
        if lowerPath.hasSuffix(".fb2") { return .fictionBook }
        if lowerPath.hasSuffix(".jsonl") || lowerPath.hasSuffix(".ndjson") { return .jsonLines }
        if lowerPath.hasSuffix(".md") || lowerPath.hasSuffix(".markdown") { return .markdown }
        if FortuneReader.separatorCount(text) >= 2 { return .fortune }
        return .text
    }

    private static let binaryMagics: [([UInt8], String)] = [
        (Array("%PDF".utf8), "PDF"), ([0x89, 0x50, 0x4E, 0x47], "PNG image"), (Array("GIF8".utf8), "GIF image"),
        ([0xFF, 0xD8, 0xFF], "JPEG image"), ([0x1F, 0x8B], "gzip"), (Array("BZh".utf8), "bzip2"),
        ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz"), ([0x28, 0xB5, 0x2F, 0xFD], "zstd"), ([0x7F, 0x45, 0x4C, 0x46], "ELF executable"),
        (Array("Rar!".utf8), "RAR archive"), ([0x37, 0x7A, 0xBC, 0xAF], "7-Zip archive"),
        ([0xD0, 0xCF, 0x11, 0xE0], "MS Office document"), (Array("RIFF".utf8), "RIFF media"),
        (Array("AT&TFORM".utf8), "DjVu document"), (Array("SQLite format 3".utf8), "SQLite database"),
    ]

    /// A strfile header: version (1 or 2), string count, longest, shortest, flags, delimiter; then one
    /// 32-bit offset per string plus one. The file must sit beside the text it indexes.
    private static func fortuneIndexTarget(_ data: Data, path: String) -> String? {
        guard path.hasSuffix(".dat"), data.count >= 28 else { return nil }
        func uint32(_ offset: Int) -> UInt32 {
            data.withUnsafeBytes { raw in UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        }
        let version = uint32(0), strings = Int(uint32(4))
        guard (1...2).contains(version), data.count == 24 + 4 * (strings + 1) else { return nil }
        let text = String(path.dropLast(4))
        var info = stat()
        guard stat(text, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return text
    }
}
