// Ablations — runs that differ in exactly one stage parameter, set side by side: an init ablation's
// variants (`extend.init`: mean, first-last, random…), a ranking ablation's (`hyperwords.ranking`), a
// variant that adds a synthetic corpus. For each parameter that differs, the runs are grouped by every
// other parameter: a group whose runs give the parameter two or more values is an ablation of it.
//
// Left out as factors: the tier set and the book count (`train.tiers`, `train.books`), which the
// saturation sections and the tier finding answer, and seeds (`…seed`, `…_seed`), which are repeats of
// one setting, not a choice to compare. They still count as "every other parameter".
import Pipeline

public struct Ablation: Sendable, Equatable {
    /// `stage.key.path`
    public let parameter: String
    /// Runs (by index into the report's runs) in report order, each differing from the others only here.
    public let runs: [Int]
    /// The parameter's canonical JSON per entry of `runs`; nil where the run does not have it.
    public let values: [String?]

    public init(parameter: String, runs: [Int], values: [String?]) {
        self.parameter = parameter
        self.runs = runs
        self.values = values
    }

    /// Parameters the tier and saturation findings answer.
    public static let sweepParameters: Set<String> = ["train.tiers", "train.books"]

    /// Whether `parameter` may be the factor of an ablation (see the file header).
    public static func isFactor(_ parameter: String) -> Bool {
        guard !sweepParameters.contains(parameter) else { return false }
        let last = parameter.split(separator: ".").last.map(String.init) ?? parameter
        return last != "seed" && !last.hasSuffix("_seed")
    }

    /// Every ablation among runs with these parameters (canonical JSON by `stage.key`), ordered by parameter
    /// name and then by first run; `include` decides which differing parameters may be factors.
    public static func find(params: [[String: String]], include: (String) -> Bool = isFactor) -> [Ablation] {
        let names = Set(params.flatMap(\.keys)).sorted()
        return names.filter(include).flatMap { groups(params: params, factor: $0) }
    }

    /// The runs grouped by every parameter but `factor`; the groups in which `factor` takes two or more values.
    public static func groups(params: [[String: String]], factor: String) -> [Ablation] {
        var order: [String] = []
        var members: [String: [Int]] = [:]
        for (index, run) in params.enumerated() {
            let rest = run.filter { $0.key != factor }.sorted { $0.key < $1.key }
                .map { "\($0.key)\u{0}\($0.value)" }.joined(separator: "\u{1}")
            if members[rest] == nil { order.append(rest) }
            members[rest, default: []].append(index)
        }
        return order.compactMap { rest in
            let runs = members[rest]!
            let values = runs.map { params[$0][factor] }
            guard Set(values.map { $0 ?? "\u{0}" }).count > 1 else { return nil }
            return Ablation(parameter: factor, runs: runs, values: values)
        }
    }

    /// A value as the page writes it: strings bare; a list of names joined with `+` (a tier set reads
    /// `core+orbit`, as the demo's variants are named), of other scalars (paths) with `, `; anything else as
    /// `loom compare` shows it; a parameter the run lacks is "not set".
    public static func text(_ value: String?) -> String {
        guard let value else { return "not set" }
        guard let json = try? JSONValue.parse(value) else { return value }
        if let items = json.arrayValue, items.allSatisfy({ $0.arrayValue == nil && $0.objectValue == nil }) {
            let texts = items.map(\.displayText)
            let names = texts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || "_-.".contains($0) } }
            return items.isEmpty ? "none" : texts.joined(separator: names ? "+" : ", ")
        }
        return json.displayText
    }
}
