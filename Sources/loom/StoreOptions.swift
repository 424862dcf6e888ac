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
        if Output.isExistingFile(homeURL.path) {
            throw CLIError("cannot open the run store in \(homeURL.path): it is a file, not a directory")
        }
        do {
            return try RunStore(home: homeURL)
        } catch {
            throw CLIError("cannot open the run store in \(homeURL.path): \(ErrorText.describe(error))")
        }
    }

    /// For read-only verbs: a missing store is "no runs yet", not a new empty store.
    func openExistingStore() throws -> RunStore {
        if Output.isExistingFile(homeURL.path) { return try openStore() }
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

    /// True when `path` exists and is not a directory (where a directory is about to be used).
    static func isExistingFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// Refuses an output directory that exists as a file, before any work is done.
    static func checkOutputDirectory(_ path: String) throws {
        if isExistingFile(path) { throw CLIError("cannot write to \(path): it is a file, not a directory") }
    }

    /// Runs a verb body, turning errors into one clean line and an exit status: 2 for a bad recipe,
    /// 1 for anything else. Argument errors and exit requests pass through to the argument parser.
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
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            printError("loom: \(ErrorText.describe(error))")
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
