// ProgressLine — the progress line of a long verb (`loom corpus`, `loom tokenizer extend`) on stderr:
// rewritten in place on a terminal; elsewhere (a pipe, a CI log) plain lines without control
// characters: one when the phase changes, one at the end, and otherwise at most one every 5 seconds.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class ProgressLine {
    private let enabled: Bool
    private let terminal = isatty(STDERR_FILENO) == 1
    private var shown = false
    private var lastPhase: String?
    private var lastPrinted = Date.distantPast

    init(enabled: Bool = true) { self.enabled = enabled }

    func show(_ line: String, phase: String, final: Bool = false) {
        guard enabled else { return }
        if terminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)\(final ? "\n" : "")".utf8))
            shown = !final
        } else if final || phase != lastPhase || Date().timeIntervalSince(lastPrinted) >= 5 {
            FileHandle.standardError.write(Data("\(line)\n".utf8))
            lastPrinted = Date()
        }
        lastPhase = phase
    }

    func warn(_ line: String) {
        clear()
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }

    /// Erases an unfinished line on a terminal, before other output.
    func clear() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        shown = false
    }
}
