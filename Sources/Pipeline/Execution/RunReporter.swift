// RunReporter — what `loom run` shows while it works. On a terminal: permanent lines for events
// (started, cached, succeeded, failed) and below them one live line per active stage, redrawn in
// place (status, elapsed, and step/loss/tokens per second/ETA when the stage reports them). Not on a
// terminal (CI logs, pipes): the same event lines plus a plain progress line per active stage at most
// every `plainProgressInterval` seconds.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct ActiveStage: Sendable, Equatable {
    public let label: String
    public let status: String
    public let startedAt: Double?
    public let progress: StageProgress?

    public init(label: String, status: String, startedAt: Double?, progress: StageProgress?) {
        self.label = label
        self.status = status
        self.startedAt = startedAt
        self.progress = progress
    }

    /// `demo/core · train  running  0:42  step 120/1000 · loss 2.310 · 3.1k tok/s · ETA 4:10`
    public func line(now: Double) -> String {
        var parts = ["\(label)", status]
        if let startedAt { parts.append(StageProgress.clock(now - startedAt)) }
        if let summary = progress?.summary, !summary.isEmpty { parts.append(summary) }
        return parts.joined(separator: "  ")
    }
}

public protocol RunReporter: AnyObject {
    /// A line that stays (an event).
    func note(_ line: String)
    /// The stages active now (an empty list clears the live block).
    func active(_ stages: [ActiveStage])
    func finish()
}

public final class ConsoleReporter: RunReporter {
    private let write: (String) -> Void
    private let isTerminal: Bool
    private let plainProgressInterval: Double
    private let now: @Sendable () -> Double
    private var liveLineCount = 0
    private var liveLines: [String] = []
    private var lastPlainProgress: [String: (time: Double, text: String)] = [:]

    /// - now: the clock elapsed times are measured against (tests pass a fixed one).
    /// - write: receives text exactly as it should appear (newlines and, on a terminal, ANSI codes).
    public init(isTerminal: Bool, plainProgressInterval: Double = 10,
                now: @escaping @Sendable () -> Double = { ProcessState.now },
                write: @escaping (String) -> Void) {
        self.isTerminal = isTerminal
        self.plainProgressInterval = plainProgressInterval
        self.now = now
        self.write = write
    }

    /// Writes to stdout; live lines only when stdout is a terminal.
    public static func standardOutput() -> ConsoleReporter {
        ConsoleReporter(isTerminal: isatty(STDOUT_FILENO) == 1) { text in
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// On a terminal the live block is cleared and redrawn by the next `active` (the runner calls it
    /// right after events), so it never shows a stage that just finished.
    public func note(_ line: String) {
        if isTerminal {
            write(clearLive() + line + "\n")
        } else {
            write(line + "\n")
        }
    }

    public func active(_ stages: [ActiveStage]) {
        let now = self.now()
        if isTerminal {
            let width = terminalWidth()
            let cleared = clearLive()
            liveLines = stages.map { String(("  " + $0.line(now: now)).prefix(width - 1)) }
            write(cleared + drawLive())
            return
        }
        for stage in stages where stage.status == "running" {
            let text = stage.line(now: now)
            let last = lastPlainProgress[stage.label]
            guard stage.progress != nil, now - (last?.time ?? 0) >= plainProgressInterval else { continue }
            let summary = stage.progress?.summary ?? ""
            if last?.text == summary { continue }
            lastPlainProgress[stage.label] = (now, summary)
            write("  " + text + "\n")
        }
    }

    public func finish() {
        if isTerminal { write(clearLive()) }
        liveLines = []
    }

    /// Moves the cursor up over the live block and erases it.
    private func clearLive() -> String {
        guard liveLineCount > 0 else { return "" }
        let text = String(repeating: "\u{1B}[1A\u{1B}[2K", count: liveLineCount) + "\r"
        liveLineCount = 0
        return text
    }

    private func drawLive() -> String {
        liveLineCount = liveLines.count
        return liveLines.map { $0 + "\n" }.joined()
    }

    private func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 120
    }
}
