// SceneSynthesizer — synthetic scenes from a seeded n-gram model of training text whose units are
// hyperwords and words, so that the text it writes is made of hyperword combinations.
//
//   Units: a text is cut into units, each its leading whitespace and then one word (a run of letters
//   and digits with an inner hyphen or apostrophe, as the corpus counts words) or one run of other
//   non-space characters (punctuation). Concatenating the units gives the text back (trailing
//   whitespace dropped). Where consecutive units spell a hyperword's text (" в том" = " в" + " том"),
//   the longest such hyperword becomes one unit, so phrases are never cut by the model.
//   Model: counts of every context of 1 … order−1 units (a scene boundary marks the start) and the
//   unit that follows it. A unit is drawn from the longest context seen, backing off to a shorter one
//   with Witten–Bell's probability T / (c + T) (c: the context's count, T: its distinct continuations),
//   down to one unit of context but never to none: every adjacent pair of units in a synthetic scene
//   occurred in the training text, and every unit did.
//   Generation: scenes are drawn one after another from one seeded SplitMix64 stream; a scene ends at a
//   drawn boundary, or before the unit that would take it past `maxWords` words. A scene without a word,
//   or (with `novelOnly`) one equal to a training scene, is drawn again, at most 20 draws a scene.
//
// Memory holds the units' counts (about 8 bytes per training unit and context length) and a 16-byte
// digest per training scene, so a library-sized selection is sampled first (the stage's `sample_mb`).
import Crypto
import Foundation

/// Cuts text into units (see the file comment).
public enum SynthesisUnits {
    public static func split(_ text: String) -> [Substring] {
        let scalars = text.unicodeScalars
        var units: [Substring] = []
        var index = scalars.startIndex
        let end = scalars.endIndex
        while index < end {
            let start = index
            while index < end, isSpace(scalars[index]) { index = scalars.index(after: index) }
            guard index < end else { break }
            if isWordScalar(scalars[index]) {
                index = scalars.index(after: index)
                while index < end {
                    if isWordScalar(scalars[index]) {
                        index = scalars.index(after: index)
                        continue
                    }
                    let after = scalars.index(after: index)
                    guard isJoiner(scalars[index]), after < end, isWordScalar(scalars[after]) else { break }
                    index = after
                }
            } else {
                repeat { index = scalars.index(after: index) } while index < end && !isSpace(scalars[index]) && !isWordScalar(scalars[index])
            }
            units.append(Substring(scalars[start..<index]))
        }
        return units
    }

    /// Words in a unit: 1 for a word, 0 for punctuation.
    static func words(of unit: Substring) -> Int {
        unit.unicodeScalars.contains(where: isWordScalar) ? 1 : 0
    }

    @inline(__always)
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool { WordScanner.foldedWordScalar(scalar.value) != nil }

    @inline(__always)
    static func isJoiner(_ scalar: Unicode.Scalar) -> Bool { scalar == "-" || scalar == "'" || scalar == "\u{2019}" }

    @inline(__always)
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20, 0x09, 0x0A, 0x0D: return true
        case 0..<0x80: return false
        default: return scalar.properties.isWhitespace
        }
    }
}

/// Up to five unit ids of context, unused slots UInt32.max.
private struct ContextKey: Hashable {
    var ids: (UInt32, UInt32, UInt32, UInt32, UInt32) = (.max, .max, .max, .max, .max)

    init(_ history: ArraySlice<UInt32>) {
        withUnsafeMutableBytes(of: &ids) { raw in
            for (slot, id) in history.enumerated() { raw.storeBytes(of: id, toByteOffset: 4 * slot, as: UInt32.self) }
        }
    }

    static func == (left: ContextKey, right: ContextKey) -> Bool {
        left.ids.0 == right.ids.0 && left.ids.1 == right.ids.1 && left.ids.2 == right.ids.2 && left.ids.3 == right.ids.3
            && left.ids.4 == right.ids.4
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(ids.0)
        hasher.combine(ids.1)
        hasher.combine(ids.2)
        hasher.combine(ids.3)
        hasher.combine(ids.4)
    }
}

/// The first 16 bytes of a scene text's SHA-256.
private struct SceneDigest: Hashable {
    let high: UInt64
    let low: UInt64

    init(_ text: String) {
        let digest = SHA256.hash(data: Data(text.utf8))
        (high, low) = digest.withUnsafeBytes { ($0.loadUnaligned(fromByteOffset: 0, as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a seeded stream whose draws do not depend on the platform.
private struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 { splitMix64(&state) }

    /// A draw in 0..<bound (multiply-high; the bias is below bound / 2⁶⁴).
    mutating func below(_ bound: UInt64) -> UInt64 { next().multipliedFullWidth(by: bound).high }
}

/// Learns the model scene by scene (`add`), then `build()`.
public struct SceneSynthesizerBuilder {
    public static let orders = 2...6

    public let order: Int
    /// Hyperword unit sequences by their first unit, longest first.
    private var phrasesByFirst: [Substring: [[Substring]]] = [:]
    private var ids: [Substring: UInt32] = ["": 0]
    private var units: [String] = [""]
    private var unitWords: [Int] = [0]
    private var unitIsPhrase: [Bool] = [false]
    /// Per context length k (index k − 1): context ids and the (context << 32 | next) events.
    private var contexts: [[ContextKey: UInt32]]
    private var events: [[UInt64]]
    private var trainingScenes: Set<SceneDigest> = []
    public private(set) var scenes = 0
    public private(set) var unitCount = 0
    public private(set) var phraseOccurrences = 0

    /// `order` in `orders`; `phrases`: hyperword texts (those of one unit are ordinary units anyway).
    public init(order: Int, phrases: [String]) {
        precondition(Self.orders.contains(order), "order \(order) outside \(Self.orders)")
        self.order = order
        contexts = Array(repeating: [:], count: order - 1)
        events = Array(repeating: [], count: order - 1)
        for phrase in Set(phrases) {
            let parts = SynthesisUnits.split(phrase)
            guard parts.count >= 2, parts.joined() == phrase else { continue }
            phrasesByFirst[parts[0], default: []].append(parts)
        }
        for key in phrasesByFirst.keys {
            phrasesByFirst[key]!.sort { ($0.count, $1.joined()) > ($1.count, $0.joined()) }
        }
    }

    /// The hyperwords the model can use (texts that cut into two or more units).
    public var phraseCount: Int { phrasesByFirst.values.reduce(0) { $0 + $1.count } }

    /// `text` as the model sees it: units, with hyperwords joined into one.
    public func segment(_ text: String) -> [Substring] {
        let parts = SynthesisUnits.split(text)
        var segments: [Substring] = []
        segments.reserveCapacity(parts.count)
        var index = 0
        while index < parts.count {
            let match = phrasesByFirst[parts[index]]?.first { phrase in
                index + phrase.count <= parts.count && zip(phrase, parts[index..<(index + phrase.count)]).allSatisfy { $0 == $1 }
            }
            if let match {
                let first = parts[index].startIndex, last = parts[index + match.count - 1].endIndex
                segments.append(Substring(text.unicodeScalars[first..<last]))
                index += match.count
            } else {
                segments.append(parts[index])
                index += 1
            }
        }
        return segments
    }

    /// Learns one training scene.
    public mutating func add(_ text: String) {
        let segments = segment(text)
        guard !segments.isEmpty else { return }
        scenes += 1
        trainingScenes.insert(SceneDigest(segments.joined()))
        var sequence: [UInt32] = [0]
        sequence.reserveCapacity(segments.count + 2)
        for segment in segments {
            if let id = ids[segment] {
                sequence.append(id)
                if unitIsPhrase[Int(id)] { phraseOccurrences += 1 }
                continue
            }
            let id = UInt32(units.count)
            let parts = SynthesisUnits.split(String(segment))
            ids[segment] = id
            units.append(String(segment))
            unitWords.append(parts.reduce(0) { $0 + SynthesisUnits.words(of: $1) })
            unitIsPhrase.append(parts.count > 1)
            if parts.count > 1 { phraseOccurrences += 1 }
            sequence.append(id)
        }
        sequence.append(0)
        unitCount += segments.count
        for position in 1..<sequence.count {
            for length in 1...min(order - 1, position) {
                let key = ContextKey(sequence[(position - length)..<position])
                let context: UInt32
                if let known = contexts[length - 1][key] {
                    context = known
                } else {
                    context = UInt32(contexts[length - 1].count)
                    contexts[length - 1][key] = context
                }
                events[length - 1].append(UInt64(context) << 32 | UInt64(sequence[position]))
            }
        }
    }

    public func build() -> SceneSynthesizer {
        var tables: [SceneSynthesizer.Table] = []
        for length in 0..<(order - 1) {
            let sorted = events[length].sorted()
            var table = SceneSynthesizer.Table(contexts: contexts[length], starts: [], next: [], cumulative: [])
            table.starts.reserveCapacity(contexts[length].count + 1)
            var index = 0
            while index < sorted.count {
                let context = sorted[index] >> 32
                table.starts.append(UInt32(table.next.count))
                var total: UInt32 = 0
                while index < sorted.count, sorted[index] >> 32 == context {
                    let event = sorted[index]
                    var count: UInt32 = 0
                    while index < sorted.count, sorted[index] == event {
                        count += 1
                        index += 1
                    }
                    total += count
                    table.next.append(UInt32(truncatingIfNeeded: event))
                    table.cumulative.append(total)
                }
            }
            table.starts.append(UInt32(table.next.count))
            tables.append(table)
        }
        return SceneSynthesizer(
            order: order, units: units, unitWords: unitWords, unitIsPhrase: unitIsPhrase, tables: tables,
            trainingScenes: trainingScenes)
    }
}

/// The learned model (from `SceneSynthesizerBuilder`) and scene generation.
public struct SceneSynthesizer: Sendable {
    /// The continuations of the contexts of one length: context c's units are next[starts[c]..<starts[c+1]],
    /// with running counts in cumulative.
    fileprivate struct Table: Sendable {
        var contexts: [ContextKey: UInt32]
        var starts: [UInt32]
        var next: [UInt32]
        var cumulative: [UInt32]
    }

    /// One synthetic scene: its text and its unit ids (0 never appears).
    public struct Scene: Sendable, Equatable {
        public var text: String
        public var units: [UInt32]
        public var words: Int
    }

    /// What a generation did.
    public struct Generation: Sendable {
        public var scenes: [Scene]
        /// Draws thrown away: scenes without a word, and copies of a training scene.
        public var emptyDraws = 0
        public var copyDraws = 0
        /// Units drawn from a shorter context than order − 1 units (or the whole scene so far): an unseen
        /// context, or Witten–Bell backoff.
        public var backoffs = 0
    }

    public let order: Int
    /// Unit texts by id; id 0 is the scene boundary.
    public let units: [String]
    private let unitWords: [Int]
    private let unitIsPhrase: [Bool]
    private let tables: [Table]
    private let trainingScenes: Set<SceneDigest>

    fileprivate init(
        order: Int, units: [String], unitWords: [Int], unitIsPhrase: [Bool], tables: [Table], trainingScenes: Set<SceneDigest>
    ) {
        self.order = order
        self.units = units
        self.unitWords = unitWords
        self.unitIsPhrase = unitIsPhrase
        self.tables = tables
        self.trainingScenes = trainingScenes
    }

    /// Distinct units seen (the boundary not counted), and how many of them are hyperwords.
    public var unitTypes: Int { units.count - 1 }
    public var phraseTypes: Int { unitIsPhrase.filter { $0 }.count }
    /// Whether any unit seen holds a word (else no scene could).
    public var hasWords: Bool { unitWords.contains { $0 > 0 } }

    public func isPhrase(_ unit: UInt32) -> Bool { unitIsPhrase[Int(unit)] }
    public func words(of unit: UInt32) -> Int { unitWords[Int(unit)] }

    /// `count` scenes of at most `maxWords` words from the stream seeded by `seed`; `progress` gets the
    /// scenes done so far every 256 scenes and at the end. Fewer come back only when 20 draws a scene
    /// were not enough (a model that mostly repeats its training scenes under `novelOnly`).
    public func generate(
        count: Int, maxWords: Int, seed: UInt64, novelOnly: Bool, progress: (Int) -> Void = { _ in }
    ) -> Generation {
        var random = SplitMix64(state: seed ^ 0x5EED_5CE7_E5C0_DE00)
        var generation = Generation(scenes: [])
        generation.scenes.reserveCapacity(count)
        let maxUnits = 8 * maxWords + 64
        var draws = 0
        while generation.scenes.count < count && draws < 20 * count {
            draws += 1
            var history: [UInt32] = [0]
            var words = 0
            while history.count <= maxUnits {
                let unit = draw(after: history, random: &random, backoffs: &generation.backoffs)
                if unit == 0 || words + unitWords[Int(unit)] > maxWords { break }
                words += unitWords[Int(unit)]
                history.append(unit)
            }
            guard words > 0 else {
                generation.emptyDraws += 1
                continue
            }
            let sceneUnits = Array(history.dropFirst())
            let text = sceneUnits.map { units[Int($0)] }.joined()
            if novelOnly && trainingScenes.contains(SceneDigest(text)) {
                generation.copyDraws += 1
                continue
            }
            generation.scenes.append(Scene(text: text, units: sceneUnits, words: words))
            if generation.scenes.count % 256 == 0 { progress(generation.scenes.count) }
        }
        progress(generation.scenes.count)
        return generation
    }

    /// The next unit after `history` (which starts with the boundary).
    private func draw(after history: [UInt32], random: inout SplitMix64, backoffs: inout Int) -> UInt32 {
        let longest = min(order - 1, history.count)
        var length = longest
        while true {
            let table = tables[length - 1]
            if let context = table.contexts[ContextKey(history.suffix(length))] {
                let start = Int(table.starts[Int(context)]), end = Int(table.starts[Int(context) + 1])
                let total = UInt64(table.cumulative[end - 1]), distinct = UInt64(end - start)
                if length > 1 && random.below(total + distinct) < distinct {
                    length -= 1
                    continue
                }
                if length < longest { backoffs += 1 }
                let target = UInt32(random.below(total))
                var low = start, high = end - 1
                while low < high {
                    let middle = (low + high) / 2
                    if table.cumulative[middle] > target { high = middle } else { low = middle + 1 }
                }
                return table.next[low]
            }
            // Every unit seen was followed by something, so a context of one unit is always found.
            precondition(length > 1, "unit \(history.last!) has no continuation")
            length -= 1
        }
    }
}
