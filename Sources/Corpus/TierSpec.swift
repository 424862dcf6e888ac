// TierSpec — a named tier and the files, directories and globs that make it up. The order of tiers is
// the dedupe priority: text kept in an earlier tier is removed from every later one, never the reverse.
import Foundation

public struct TierSpec: Sendable, Equatable {
    public var name: String
    /// Files, directories (walked recursively, hidden names skipped) and globs (`*`, `?`, `[…]`);
    /// relative paths resolve against the current directory and are recorded as written.
    public var inputs: [String]

    public init(name: String, inputs: [String]) {
        self.name = name
        self.inputs = inputs
    }

    /// Parses the command-line form `NAME=PATH`.
    public init(parsing argument: String) throws {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
            throw CorpusError.invalidTier("'\(argument)': expected NAME=PATH, e.g. core=books/core")
        }
        let path = String(argument[argument.index(after: equals)...])
        guard !path.isEmpty else {
            throw CorpusError.invalidTier("'\(argument)': the path after '=' is empty")
        }
        self.init(name: String(argument[..<equals]), inputs: [path])
    }

    /// Joins repeated `--tier core=A --tier core=B` into one tier, keeping first-mention order.
    public static func merging(_ specs: [TierSpec]) -> [TierSpec] {
        var merged: [TierSpec] = []
        for spec in specs {
            if let index = merged.firstIndex(where: { $0.name == spec.name }) {
                merged[index].inputs += spec.inputs
            } else {
                merged.append(spec)
            }
        }
        return merged
    }

    static func validate(_ tiers: [TierSpec]) throws {
        guard !tiers.isEmpty else { throw CorpusError.invalidTier("no tiers given") }
        var seen = Set<String>()
        for tier in tiers {
            let allowed = tier.name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            }
            guard !tier.name.isEmpty, allowed, tier.name.unicodeScalars.first.map({ ("a"..."z").contains($0) }) == true else {
                throw CorpusError.invalidTier("'\(tier.name)': a tier name is lower-case letters, digits, '-' or '_', starting with a letter")
            }
            guard seen.insert(tier.name).inserted else {
                throw CorpusError.invalidTier("'\(tier.name)' is listed twice")
            }
            guard !tier.inputs.isEmpty else { throw CorpusError.noInputs(tier: tier.name) }
        }
    }
}
