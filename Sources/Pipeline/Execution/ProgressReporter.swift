// ProgressReporter — how a stage says how far it is (step of total, loss, tokens/s, a message). The
// latest report is written to the stage's row by the heartbeat (at most once a second) and shown live
// by `loom run` and `loom status`. The ETA comes from the step rate when the kind does not give one.
import Foundation

public final class ProgressReporter: Sendable {
    private struct State {
        var latest: StageProgress?
        var unsent = false
        var firstStep: (time: Double, step: Int)?
    }

    private let state = Locked(State())

    public init() {}

    public func report(_ progress: StageProgress) {
        let now = ProcessState.now
        state.withLock { state in
            var progress = progress
            if let step = progress.step {
                if state.firstStep == nil || step < state.firstStep!.step { state.firstStep = (now, step) }
                if progress.etaSeconds == nil, let total = progress.total, let first = state.firstStep, step > first.step {
                    let perStep = (now - first.time) / Double(step - first.step)
                    progress.etaSeconds = perStep * Double(max(0, total - step))
                }
            }
            state.latest = progress
            state.unsent = true
        }
    }

    public func report(step: Int? = nil, total: Int? = nil, loss: Double? = nil, tokensPerSecond: Double? = nil, message: String? = nil) {
        report(StageProgress(step: step, total: total, loss: loss, tokensPerSecond: tokensPerSecond, message: message))
    }

    public var latest: StageProgress? { state.withLock { $0.latest } }

    /// The latest report if it has not been taken yet (the heartbeat writes each report once).
    func takeUnsent() -> StageProgress? {
        state.withLock { state in
            guard state.unsent else { return nil }
            state.unsent = false
            return state.latest
        }
    }
}
