// ExecStageMain — the whole of an `exec-stage` subcommand, shared by `loom` and `loom-torch` (each
// passes its registry and who it is): parse the invocation, open the store, turn SIGTERM/SIGINT/SIGHUP
// into cancellation, run the stage driver, and return the exit status.
import Foundation

public enum ExecStageMain {
    public static func run(arguments: [String], registry: StageKindRegistry, role: StageExecutable) -> Int32 {
        let invocation: StageInvocation
        do {
            invocation = try StageInvocation(arguments: arguments)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 2
        }
        let store: RunStore
        do {
            store = try RunStore(home: invocation.home)
        } catch {
            FileHandle.standardError.write(Data("exec-stage: cannot open the run store in \(invocation.home.path): \(error)\n".utf8))
            return 2
        }
        let cancellation = CancellationFlag()
        let signals = SignalWatcher(signals: [SIGTERM, SIGINT, SIGHUP]) { signal in
            cancellation.cancel(reason: "received \(ChildExit.signalName(signal) ?? "signal \(signal)")")
        }
        defer { signals.stop() }
        let driver = StageDriver(registry: registry, role: role, childrenJoinProcessGroup: true)
        return driver.execute(invocation, store: store, cancellation: cancellation).exitCode
    }
}
