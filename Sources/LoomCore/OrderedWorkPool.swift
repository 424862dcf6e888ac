// OrderedWorkPool — runs `work` on items 0..<count across threads and hands the results to `consume`
// on the calling thread strictly in item order. At most `window` results wait at any time, so memory
// stays bounded however many items there are; a throwing `consume` stops the workers. Its workers are
// Foundation threads of its own (not libdispatch's: `concurrentPerform` from a stage's thread corrupts the
// heap when that thread exits, in swift-corelibs-libdispatch's per-thread cache cleanup).
import Foundation

public enum OrderedWorkPool {
    public static func run<Output: Sendable>(
        count: Int, threads: Int, window: Int,
        work: @escaping @Sendable (Int) -> Output,
        consume: (Int, Output) throws -> Void
    ) throws {
        guard threads > 1, count > 1 else {
            for index in 0..<count { try consume(index, work(index)) }
            return
        }
        let state = SharedState<Output>(window: max(window, threads))
        let workerCount = min(threads, count)
        for _ in 0..<workerCount {
            let thread = Thread {
                while let index = state.claim(count: count) {
                    state.deliver(index, work(index))
                }
                state.workerFinished()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        defer { state.stopAndWait(workers: workerCount) }
        for index in 0..<count {
            try consume(index, state.take(index))
        }
    }
}

/// The pool's shared state. Every stored property is read and written only while `condition` is
/// locked, which is what makes the unchecked Sendable conformance sound.
private final class SharedState<Output: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private let window: Int
    private var nextToClaim = 0
    private var nextToTake = 0
    private var results: [Int: Output] = [:]
    private var stopped = false
    private var finishedWorkers = 0

    init(window: Int) { self.window = window }

    func claim(count: Int) -> Int? {
        condition.lock(); defer { condition.unlock() }
        while !stopped && nextToClaim < count && nextToClaim >= nextToTake + window { condition.wait() }
        guard !stopped, nextToClaim < count else { return nil }
        defer { nextToClaim += 1 }
        return nextToClaim
    }

    func deliver(_ index: Int, _ output: Output) {
        condition.lock(); defer { condition.unlock() }
        results[index] = output
        condition.broadcast()
    }

    func take(_ index: Int) -> Output {
        condition.lock(); defer { condition.unlock() }
        while results[index] == nil { condition.wait() }
        nextToTake = index + 1
        condition.broadcast()
        return results.removeValue(forKey: index)!
    }

    func workerFinished() {
        condition.lock(); defer { condition.unlock() }
        finishedWorkers += 1
        condition.broadcast()
    }

    func stopAndWait(workers: Int) {
        condition.lock(); defer { condition.unlock() }
        stopped = true
        condition.broadcast()
        while finishedWorkers < workers { condition.wait() }
    }
}
