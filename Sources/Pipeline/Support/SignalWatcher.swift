// SignalWatcher — turns signals into a callback on a dispatch queue instead of killing the process, so
// the runner and stage processes can stop children and record `cancelled` before exiting.
import Dispatch
import Foundation

public final class SignalWatcher {
    private let sources: [any DispatchSourceSignal]

    public init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "loom.signals")
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    /// Restores the default dispositions.
    public func stop() {
        for source in sources {
            source.cancel()
            signal(Int32(source.handle), SIG_DFL)
        }
    }
}
