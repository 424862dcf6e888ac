// CorpusError — what stops a corpus build (bad configuration, unwritable output, --strict with rejects),
// as opposed to a bad input file, which is a `CorpusReject` and never stops the build.
import Foundation

public enum CorpusError: Error, CustomStringConvertible, Equatable {
    case invalidOption(String)
    case invalidTier(String)
    case inputNotFound(tier: String, path: String)
    case noInputs(tier: String)
    case outputNotReplaceable(path: String, reason: String)
    case io(path: String, reason: String)
    case strictRejects([CorpusReject])
    case unreadableCorpus(path: String, reason: String)
    case unknownTier(String, known: [String])

    public var description: String {
        switch self {
        case .invalidOption(let message):
            return "invalid corpus option \(message)"
        case .invalidTier(let message):
            return "invalid tier: \(message)"
        case .inputNotFound(let tier, let path):
            return "tier \(tier): \(path): no such file, directory or matching glob"
        case .noInputs(let tier):
            return "tier \(tier): no input files found"
        case .outputNotReplaceable(let path, let reason):
            return "cannot write the corpus to \(path): \(reason)"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        case .strictRejects(let rejects):
            let shown = rejects.prefix(20).map { "  \($0.tier): \($0.location): \($0.reason)" }
            let more = rejects.count > 20 ? ["  … and \(rejects.count - 20) more"] : []
            return (["strict: \(rejects.count) input(s) rejected, nothing written:"] + shown + more)
                .joined(separator: "\n")
        case .unreadableCorpus(let path, let reason):
            return "\(path): not a readable Loom corpus: \(reason)"
        case .unknownTier(let tier, let known):
            return "unknown tier '\(tier)' (this corpus has: \(known.joined(separator: ", ")))"
        }
    }
}

/// Why an input (a file, a zip entry, a JSON line) was left out. The kind is a stable word for
/// counting and filtering; the reason is the sentence a person reads.
public struct CorpusReject: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case binary, undecodable, empty, malformed, unsupported, unsafePath = "unsafe-path"
        case zipBomb = "zip-bomb", missingPart = "missing-part", symlinkLoop = "symlink-loop"
        case unreadable, tooLarge = "too-large"
    }

    public var tier: String
    /// The file as the tier lists it (or as the directory walk found it).
    public var path: String
    /// Inside the file: a zip entry name, or `line N` of a JSON Lines file; nil for the whole file.
    public var entry: String?
    public var kind: Kind
    public var reason: String

    public init(tier: String, path: String, entry: String? = nil, kind: Kind, reason: String) {
        self.tier = tier
        self.path = path
        self.entry = entry
        self.kind = kind
        self.reason = reason
    }

    /// `path`, `path!/entry` for an archive member, `path:N` for a line.
    public var location: String {
        guard let entry else { return path }
        if entry.hasPrefix("line ") { return "\(path):\(entry.dropFirst(5))" }
        return "\(path)!/\(entry)"
    }
}

/// An input deliberately passed over without being an error (a fortune index beside its text file,
/// the second path to a file already read). Listed in the manifest; never fails --strict.
public struct CorpusSkip: Codable, Sendable, Equatable {
    public var tier: String
    public var path: String
    public var reason: String

    public init(tier: String, path: String, reason: String) {
        self.tier = tier
        self.path = path
        self.reason = reason
    }
}
