// FortuneTexts — the Russian fortunes Debian's fortunes-ru installs (scripts/install-deps.sh), read
// (tokenizer and GGUF tests), as the fixture generator reads them: plain files in sorted order, entries split on "%" lines.
import Foundation

public enum FortuneTexts {
    public static let russianDirectory = URL(fileURLWithPath: "/usr/share/games/fortunes/ru")

    /// Every entry of every plain fortune file in `directory`.
    public static func entries(in directory: URL = russianDirectory) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        var entries: [String] = []
        for name in names where !name.hasSuffix(".dat") && !name.hasSuffix(".u8") {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
            var current: [Substring] = []
            func flush() {
                let entry = current.joined(separator: "\n").trimmingCharacters(in: CharacterSet(charactersIn: "\n"))
                if !entry.trimmingCharacters(in: .whitespaces).isEmpty { entries.append(entry) }
                current.removeAll()
            }
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line == "%" { flush() } else { current.append(line) }
            }
            flush()
        }
        return entries
    }

    public static var isInstalled: Bool { FileManager.default.fileExists(atPath: russianDirectory.path) }
}
