// TextCorpus — reads text files into the texts that tokenizer measures and hyperword learning
// encode one at a time: the whole file, its paragraphs (split at blank lines) or its lines.
import Foundation
import LoomCore

public enum TextCorpus {
    public enum Unit: String, Sendable, Codable, CaseIterable {
        /// Each file is one text.
        case file
        /// Texts are separated by one or more blank lines (the blank lines belong to no text).
        case paragraph
        /// Each non-empty line is one text.
        case line
    }

    /// The texts of `files`, in order. A file that is not UTF-8 is an error naming it.
    public static func texts(of files: [URL], unit: Unit) throws -> [String] {
        var texts: [String] = []
        for file in files {
            texts.append(contentsOf: split(try read(file), unit: unit))
        }
        return texts
    }

    /// The path that names standard input on the command line.
    public static let standardInputPath = "-"

    /// The whole of a UTF-8 text file; an unreadable or non-UTF-8 file is an error naming it (and the
    /// first bad byte). `-` reads standard input; a pipe or FIFO (`--input <(…)`) is read to its end.
    public static func read(path: String) throws -> String {
        if path == standardInputPath {
            return try decode(FileHandle.standardInput.readToEnd() ?? Data(), name: "standard input")
        }
        return try read(URL(fileURLWithPath: path))
    }

    /// The whole of a UTF-8 text file (see `read(path:)`).
    public static func read(_ file: URL) throws -> String {
        var status = stat()
        if stat(file.path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            throw TokenizerFileError(file: file.path, field: "", problem: "is a directory, not a text file")
        }
        let data: Data
        do {
            // A regular file is read by its size; a pipe or character device has none, so it is read
            // through a handle until end of file.
            if stat(file.path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
                let handle = try FileHandle(forReadingFrom: file)
                defer { try? handle.close() }
                data = try handle.readToEnd() ?? Data()
            } else {
                data = try Data(contentsOf: file)
            }
        } catch {
            throw TokenizerFileError(file: file.path, field: "", problem: "cannot read: \(SystemErrorText.reason(error))")
        }
        return try decode(data, name: file.path)
    }

    private static func decode(_ data: Data, name: String) throws -> String {
        guard let text = String(strictUTF8: data) else {
            throw TokenizerFileError(file: name, field: "", problem: UTF8Validation.problem(in: data) ?? "not valid UTF-8")
        }
        return text
    }

    /// `text` cut into `unit`s (LF or CRLF line ends; a CR before LF belongs to no text).
    public static func split(_ text: String, unit: Unit) -> [String] {
        if unit == .file { return text.isEmpty ? [] : [text] }
        var text = text
        return text.withUTF8 { bytes in
            var texts: [String] = []
            var paragraphStart = -1, paragraphEnd = 0
            var lineStart = 0
            while lineStart < bytes.count {
                var lineEnd = lineStart
                while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
                var contentEnd = lineEnd
                if contentEnd > lineStart && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                let blank = bytes[lineStart..<contentEnd].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
                switch unit {
                case .line:
                    if contentEnd > lineStart { texts.append(String(decoding: bytes[lineStart..<contentEnd], as: UTF8.self)) }
                case .paragraph:
                    if blank {
                        if paragraphStart >= 0 { texts.append(paragraph(bytes, paragraphStart, paragraphEnd)) }
                        paragraphStart = -1
                    } else {
                        if paragraphStart < 0 { paragraphStart = lineStart }
                        paragraphEnd = contentEnd
                    }
                case .file: break
                }
                lineStart = lineEnd + 1
            }
            if unit == .paragraph && paragraphStart >= 0 { texts.append(paragraph(bytes, paragraphStart, paragraphEnd)) }
            return texts
        }
    }

    /// The lines of bytes[start..<end], joined with LF (CRLF line ends become LF).
    private static func paragraph(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        let slice = bytes[start..<end]
        guard slice.contains(0x0D) else { return String(decoding: slice, as: UTF8.self) }
        return String(decoding: slice, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }
}
