// Findings — what the runs answer, one sentence each with its number, computed from their final metrics
// and parameters, and only where the data holds the answer:
//   - which tier set helped most: held-out `eval/bits_per_byte` of runs that differ only in `train.tiers`,
//     against the base model's `eval/base_bits_per_byte`;
//   - where saturation begins: the books curve (BooksSaturation) and its printed definition;
//   - what hyperwords saved: `hyperwords/token_reduction` and `eval/tokens_per_scene` against
//     `eval/base_tokens_per_scene`;
//   - which value of each ablated parameter won (an init, a ranking…): `eval/bits_per_byte` by its goal,
//     with `eval/extended_bits_per_byte` (the extended model before training) beside it when measured.
// Each finding carries its basis: the metrics and runs it was read from.
import Foundation

public struct Finding: Sendable, Equatable {
    /// What it answers (`tiers`, `saturation`, `hyperwords`, `ablation`).
    public let topic: String
    /// The question, short: "Which tier set helped most".
    public let question: String
    /// The answer, one sentence with its number.
    public let sentence: String
    /// Which metrics of which runs it was read from.
    public let basis: String
}

public enum Findings {
    static let bitsPerByte = "eval/bits_per_byte"
    static let baseBitsPerByte = "eval/base_bits_per_byte"
    static let extendedBitsPerByte = "eval/extended_bits_per_byte"
    static let tokenReduction = "hyperwords/token_reduction"
    static let tokensPerScene = "eval/tokens_per_scene"
    static let baseTokensPerScene = "eval/base_tokens_per_scene"

    /// - Parameters:
    ///   - labels: the runs' names on the page.
    ///   - params: each run's parameters (canonical JSON by `stage.key`).
    ///   - values: each run's final metrics by key.
    public static func compute(labels: [String], params: [[String: String]], values: [[String: Double]],
                               books: BooksSaturation, ablations: [Ablation], goals: MetricGoals) -> [Finding] {
        var findings: [Finding] = []
        for group in Ablation.groups(params: params, factor: "train.tiers") {
            if let finding = tiers(group, labels: labels, values: values) { findings.append(finding) }
        }
        if let finding = saturation(books, runCount: labels.count) { findings.append(finding) }
        if let finding = hyperwords(labels: labels, values: values) { findings.append(finding) }
        for ablation in ablations {
            if let finding = winner(ablation, labels: labels, values: values, goals: goals) { findings.append(finding) }
        }
        return findings
    }

    // MARK: the findings

    static func tiers(_ group: Ablation, labels: [String], values: [[String: Double]]) -> Finding? {
        let measured = zip(group.runs, group.values).compactMap { run, tiers in
            finite(values[run][bitsPerByte]).map { (run: run, tiers: Ablation.text(tiers), bitsPerByte: $0) }
        }
        guard measured.count > 1, let best = measured.min(by: { $0.bitsPerByte < $1.bitsPerByte }) else { return nil }
        let others = measured.filter { $0.run != best.run }.map { "\($0.tiers) \(short($0.bitsPerByte))" }.joined(separator: ", ")
        let basis = "\(bitsPerByte) of \(runList(measured.map(\.run), labels)), which differ only in train.tiers"
        let question = "Which tier set helped most"
        guard let base = finite(values[best.run][baseBitsPerByte]) else {
            return Finding(topic: "tiers", question: question,
                           sentence: "Training on \(best.tiers) gave the lowest held-out bits per byte, \(short(best.bitsPerByte)) (\(others)).",
                           basis: basis + "; no \(baseBitsPerByte) was recorded.")
        }
        let sentence = best.bitsPerByte < base
            ? "Training on \(best.tiers) helped most: held-out bits per byte \(short(best.bitsPerByte)) against the base model's "
                + "\(short(base)) (\(signed(best.bitsPerByte - base)), \(percent((best.bitsPerByte - base) / base))); \(others)."
            : "No tier set improved on the base model's held-out bits per byte (\(short(base))): the best, \(best.tiers), reached "
                + "\(short(best.bitsPerByte)); \(others)."
        return Finding(topic: "tiers", question: question, sentence: sentence, basis: basis + ", against \(baseBitsPerByte).")
    }

    static func saturation(_ books: BooksSaturation, runCount: Int) -> Finding? {
        let points = books.points
        guard points.count >= 3 else { return nil }
        let firstGain = points[0].meanBitsPerByte - points[1].meanBitsPerByte
        let counts = points.map { number($0.books) }.joined(separator: ", ")
        let basis = "Mean \(BooksSaturation.bitsPerByteKey) over the runs of each count of \(BooksSaturation.booksKey) (\(counts)), "
            + "\(points.map(\.runs.count).reduce(0, +)) runs; \(BooksSaturation.definition)."
        let question = "Where saturation begins"
        guard firstGain > 0 else {
            return Finding(topic: "saturation", question: question,
                           sentence: "More books did not help at first: going from \(number(points[0].books)) to \(number(points[1].books)) "
                               + "books moved mean held-out bits per byte from \(short(points[0].meanBitsPerByte)) to \(short(points[1].meanBitsPerByte)).",
                           basis: basis)
        }
        guard let at = books.saturationBooks, let index = points.firstIndex(where: { $0.books == at }), index + 1 < points.count else {
            return Finding(topic: "saturation", question: question,
                           sentence: "No saturation yet up to \(number(points.last!.books)) books: every step still lowers mean held-out "
                               + "bits per byte by at least a tenth of the first step's \(short(firstGain)).",
                           basis: basis)
        }
        let next = points[index + 1]
        return Finding(topic: "saturation", question: question,
                       sentence: "Saturation begins at \(number(at)) books: going on to \(number(next.books)) lowers mean held-out bits per byte "
                           + "by \(short(points[index].meanBitsPerByte - next.meanBitsPerByte)), less than a tenth of the first step's "
                           + "\(short(firstGain)) (\(number(points[0].books)) → \(number(points[1].books)) books).",
                       basis: basis)
    }

    static func hyperwords(labels: [String], values: [[String: Double]]) -> Finding? {
        var basis: [String] = []
        var saved: String?
        let reductions = values.indices.compactMap { run in finite(values[run][tokenReduction]).map { (run: run, value: $0) } }
        if let low = reductions.map(\.value).min(), let high = reductions.map(\.value).max() {
            saved = high <= 0
                ? "Hyperwords saved no held-out tokens: the text took \(percentRange(-high, -low)) more"
                : "Hyperwords saved \(percentRange(low, high)) of held-out tokens"
            basis.append("\(tokenReduction) of \(runList(reductions.map(\.run), labels))")
        }
        var scene: String?
        let scenes = values.indices.compactMap { run in
            finite(values[run][tokensPerScene]).flatMap { tuned in
                finite(values[run][baseTokensPerScene]).flatMap { $0 > 0 ? (run: run, tuned: tuned, base: $0) : nil }
            }
        }
        if !scenes.isEmpty {
            if let tuned = RunComparison.agreedValue(scenes.map(\.tuned)), let base = RunComparison.agreedValue(scenes.map(\.base)) {
                scene = "a held-out scene costs \(short(tuned)) tokens instead of \(short(base)) (\(percent((tuned - base) / base)))"
            } else {
                let changes = scenes.map { ($0.tuned - $0.base) / $0.base }
                scene = "a held-out scene costs \(percent(changes.min()!)) to \(percent(changes.max()!)) tokens against the base tokenizer"
            }
            basis.append("\(tokensPerScene) against \(baseTokensPerScene) of \(runList(scenes.map(\.run), labels))")
        }
        let sentence: String
        switch (saved, scene) {
        case let (saved?, scene?): sentence = "\(saved); \(scene)."
        case let (saved?, nil): sentence = "\(saved)."
        case let (nil, scene?): sentence = "With the hyperwords \(scene)."
        case (nil, nil): return nil
        }
        return Finding(topic: "hyperwords", question: "What hyperwords saved", sentence: sentence, basis: basis.joined(separator: "; ") + ".")
    }

    static func winner(_ ablation: Ablation, labels: [String], values: [[String: Double]], goals: MetricGoals) -> Finding? {
        let goal = goals.goal(for: bitsPerByte)
        let entries = zip(ablation.runs, ablation.values).map { (run: $0, value: Ablation.text($1)) }
        let trained = entries.compactMap { entry in finite(values[entry.run][bitsPerByte]).map { (entry, $0) } }
        guard trained.count > 1, goal != .none else { return nil }
        let question = "Which \(ablation.parameter) won"
        let basis = "\(bitsPerByte) (\(HTMLReport.goalText(goal))) of \(runList(trained.map(\.0.run), labels)), which differ only in \(ablation.parameter)"
        guard let best = RunComparison.best(trained.map(\.1), goal: goal) else {
            return Finding(topic: "ablation", question: question,
                           sentence: "\(ablation.parameter) made no difference to held-out bits per byte: \(short(trained[0].1)) with each of "
                               + "\(trained.map(\.0.value).joined(separator: ", ")).",
                           basis: basis + ".")
        }
        let winner = trained[best]
        let others = trained.indices.filter { $0 != best }.map { "\(trained[$0].0.value) \(short(trained[$0].1))" }.joined(separator: ", ")
        var sentence = "\(ablation.parameter) = \(winner.0.value) won: held-out bits per byte \(short(winner.1)) after training (\(others))"
        var extendedBasis = ""
        let before = entries.compactMap { entry in finite(values[entry.run][extendedBitsPerByte]).map { (entry, $0) } }
        if before.count > 1, let first = RunComparison.best(before.map(\.1), goal: goals.goal(for: extendedBitsPerByte)) {
            let leader = before[first]
            sentence += leader.0.run == winner.0.run
                ? ", and it led before training too, at \(short(leader.1))"
                : ", though before training \(leader.0.value) led at \(short(leader.1)) against \(short(before.first { $0.0.run == winner.0.run }?.1 ?? .nan))"
            extendedBasis = "; before training: \(extendedBitsPerByte)"
        }
        return Finding(topic: "ablation", question: question, sentence: sentence + ".", basis: basis + extendedBasis + ".")
    }

    // MARK: wording

    static func finite(_ value: Double?) -> Double? {
        value.flatMap { $0.isFinite ? $0 : nil }
    }

    static func short(_ value: Double) -> String { ChartScale.short(value) }

    static func number(_ value: Double) -> String { RunComparison.number(value) }

    static func signed(_ delta: Double) -> String { (delta < 0 ? "−" : "+") + short(abs(delta)) }

    /// `−12.9 %`, `+3.0 %`
    static func percent(_ fraction: Double) -> String {
        (fraction < 0 ? "−" : "+") + String(format: "%.1f %%", abs(fraction) * 100)
    }

    /// `12.9 %`, or `10.2–12.9 %` when the runs differ.
    static func percentRange(_ low: Double, _ high: Double) -> String {
        let (low, high) = (String(format: "%.1f", low * 100), String(format: "%.1f", high * 100))
        return low == high ? "\(low) %" : "\(low)–\(high) %"
    }

    /// `core #1, core+orbit #2` — the runs named as the page names them.
    static func runList(_ runs: [Int], _ labels: [String]) -> String {
        (runs.count == 1 ? "run " : "runs ") + runs.map { labels[$0] }.joined(separator: ", ")
    }
}
