// HyperwordFixtures — the base tokenizers and training text the hyperword tests share: both fixture
// layouts, extended once per process on Russian fortunes (or the fixture cases where fortunes-ru
// is not installed).
import Foundation
import TestSupport
@testable import Tokenizers

enum HyperwordFixtures {
    static let layouts = ["bytelevel-llama3", "spm-llama2"]

    /// Russian training text: the first 3000 fortunes, or the fixture cases repeated.
    static let trainingTexts: [String] = {
        if FortuneTexts.isInstalled, let entries = try? FortuneTexts.entries(), entries.count > 3000 {
            return Array(entries.prefix(3000))
        }
        let cases = (try? FixtureRows.cases()) ?? []
        return Array(repeating: cases, count: 20).flatMap { $0 }
    }()

    /// Held-out text: later fortunes, or the cases.
    static let heldOutTexts: [String] = {
        if FortuneTexts.isInstalled, let entries = try? FortuneTexts.entries(), entries.count > 4000 {
            return Array(entries[3000..<4000])
        }
        return (try? FixtureRows.cases()) ?? []
    }()

    static let options: HyperwordOptions = {
        var options = HyperwordOptions(targetCount: 300)
        options.minCount = 4
        return options
    }()

    /// Guarded by `lock`: tests run in parallel and learn each layout once.
    nonisolated(unsafe) private static var cache: [String: (HFTokenizer, ExtendedTokenizer)] = [:]
    private static let lock = NSLock()

    /// The base tokenizer of a fixture layout and its extension (learned once, shared by tests).
    static func extended(_ layout: String) throws -> (base: HFTokenizer, extended: ExtendedTokenizer) {
        lock.lock()
        defer { lock.unlock() }
        if let found = cache[layout] { return found }
        let base = try FixtureRows.tokenizer(layout)
        let extended = try Hyperwords.learn(base: base, texts: trainingTexts, options: options)
        cache[layout] = (base, extended)
        return (base, extended)
    }
}
