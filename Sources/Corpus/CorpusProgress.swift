// CorpusProgress — what a running build reports: phase, files and bytes done, throughput, ETA, and
// the running counts; plus one event per reject so that each becomes a warning line.
import Foundation

public enum CorpusEvent: Sendable {
    case progress(CorpusProgress)
    /// An input left out; the build goes on (or fails at the end under --strict).
    case rejected(CorpusReject)
}

public struct CorpusProgress: Sendable, Equatable {
    public enum Phase: String, Sendable {
        /// Reading, decoding, normalising, deduplicating, cutting scenes.
        case scanning
        /// Writing the train/validation shards and the manifest.
        case splitting
        case finished
    }

    public var phase: Phase
    public var filesDone: Int
    public var filesTotal: Int
    public var bytesDone: Int
    public var bytesTotal: Int
    public var documents: Int
    public var scenes: Int
    public var duplicates: Int
    public var rejects: Int
    public var elapsedSeconds: Double

    /// Source bytes per second so far.
    public var bytesPerSecond: Double {
        elapsedSeconds > 0 ? Double(bytesDone) / elapsedSeconds : 0
    }

    /// Seconds left in the scanning phase at the current rate.
    public var etaSeconds: Double? {
        guard phase == .scanning, bytesDone > 0, bytesPerSecond > 0 else { return nil }
        return Double(bytesTotal - bytesDone) / bytesPerSecond
    }

    /// One line for people: `scanning 120/300 files, 41.2/98.0 MB, 38.1 MB/s, ETA 2s — 950 docs, …`.
    public var line: String {
        let megabytes = { (bytes: Int) in String(format: "%.1f", Double(bytes) / 1_000_000) }
        var text = "\(phase.rawValue) \(filesDone)/\(filesTotal) files, \(megabytes(bytesDone))/\(megabytes(bytesTotal)) MB"
        text += String(format: ", %.1f MB/s", bytesPerSecond / 1_000_000)
        if let eta = etaSeconds { text += String(format: ", ETA %.0fs", eta.rounded(.up)) }
        text += " — \(documents) documents, \(scenes) scenes, \(duplicates) duplicates, \(rejects) rejects"
        return text
    }
}
