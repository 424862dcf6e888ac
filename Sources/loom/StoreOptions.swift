// StoreOptions — `--home DIR` (or `$LOOM_HOME`, default `./runs`), shared by every orchestration verb,
// and the small output helpers they share.
import ArgumentParser
import Foundation
import Pipeline

struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Where runs, the cache and loom.sqlite live (default: $LOOM_HOME, else ./runs).", valueName: "dir"))
    var home: String?

    var homeURL: URL {
        let path = home ?? ProcessInfo.processInfo.environment["LOOM_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "runs"
        return URL(fileURLWithPath: path).standardizedFileURL
    }

    func openStore() throws -> RunStore {
        do {
            return try RunStore(home: homeURL)
        } catch {
            throw CLIError("cannot open the run store in \(homeURL.path): \(error)")
        }
    }

    /// For read-only verbs: a missing store is "no runs yet", not a new empty store.
    func openExistingStore() throws -> RunStore {
        guard FileManager.default.fileExists(atPath: StoreLayout(home: homeURL).database.path) else {
            throw CLIError("no run store in \(homeURL.path) (run `loom run RECIPE` first, or pass --home)")
        }
        return try openStore()
    }
}

/// A message for the person at the terminal; exits with status 1 (2 for bad input).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    let exitCode: Int32

    init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }
}

enum Output {
    static func printJSON(_ value: JSONValue) {
        FileHandle.standardOutput.write(Data(value.prettyJSON.utf8))
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Runs a verb body, turning Loom's errors into a clean message and exit status.
    static func guarded(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as RecipeErrorList {
            printError(error.description)
            printError("loom: \(error.errors.count) error\(error.errors.count == 1 ? "" : "s") in the recipe; nothing was run")
            throw ExitCode(2)
        } catch let error as RecipeError {
            printError(error.description)
            throw ExitCode(2)
        } catch let error as CLIError {
            printError("loom: \(error.description)")
            throw ExitCode(error.exitCode)
        } catch let error as RunStoreError {
            printError("loom: \(error.description)")
            throw ExitCode(1)
        } catch let error as ResumeError {
            printError("loom: \(error.description)")
            throw ExitCode(1)
        }
    }

    static func date(_ time: Double?) -> String {
        guard let time else { return "-" }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: time))
    }

    static func duration(_ start: Double?, _ end: Double?) -> String {
        guard let start else { return "-" }
        return StageProgress.clock((end ?? ProcessState.now) - start)
    }
}
