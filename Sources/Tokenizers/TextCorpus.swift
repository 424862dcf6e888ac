// TextCorpus — reads text files into the texts that tokenizer measures and hyperword learning
// encode one at a time: the whole file, its paragraphs (split at blank lines) or its lines.
import Foundation

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
            let data: Data
            do {
                data = try Data(contentsOf: file)
            } catch {
                throw TokenizerFileError(file: file.path, field: "", problem: "cannot read the file (\(error.localizedDescription))")
            }
            guard let text = String(validating: data, as: UTF8.self) else {
                throw TokenizerFileError(file: file.path, field: "", problem: "is not valid UTF-8")
            }
            texts.append(contentsOf: split(text, unit: unit))
        }
        return texts
    }

    /// `text` cut into `unit`s (LF or CRLF line ends).
    public static func split(_ text: String, unit: Unit) -> [String] {
        switch unit {
        case .file:
            return text.isEmpty ? [] : [text]
        case .line:
            return text.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }.map(String.init)
        case .paragraph:
            var paragraphs: [String] = []
            var current: [Substring] = []
            for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
                if line.allSatisfy(\.isWhitespace) {
                    if !current.isEmpty { paragraphs.append(current.joined(separator: "\n")) }
                    current.removeAll()
                } else {
                    current.append(line)
                }
            }
            if !current.isEmpty { paragraphs.append(current.joined(separator: "\n")) }
            return paragraphs
        }
    }
}
