// ModelVerbs — the verbs `loom` forwards to `loom-torch`, the way git runs `git-foo`.
//
// `loom` never links libtorch (whose static initialisers cost ~0.8 s before `main`), so every verb
// that needs a model lives in `loom-torch`. `loom` lists them in its help and, when one is typed,
// replaces itself with `loom-torch VERB ARGS…` (exec: same pid; signals and exit status pass through).
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A model verb as `loom` sees it: a name and an abstract for help. `main.swift` forwards it before
/// argument parsing, so `run()` is reached only if forwarding was bypassed.
protocol ForwardedVerb: ParsableCommand {}

extension ForwardedVerb {
    func run() throws {
        ModelVerbs.exec([Self._commandName] + CommandLine.arguments.dropFirst(2))
    }
}

struct TorchInfoVerb: ForwardedVerb {
    static let configuration = CommandConfiguration(
        commandName: "torch-info", abstract: "Show the linked libtorch: version, CUDA, threads (runs loom-torch).")
}

struct ScoreVerb: ForwardedVerb {
    static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Score token sequences: loss, bits/token (runs loom-torch).")
}

struct GenerateVerb: ForwardedVerb {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Continue a prompt with a model (runs loom-torch).")
}

struct MergeVerb: ForwardedVerb {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Fold a LoRA adapter into its model: a Hugging Face directory (runs loom-torch).")
}

struct ImportGGUFVerb: ForwardedVerb {
    static let configuration = CommandConfiguration(
        commandName: "import-gguf", abstract: "Write a GGUF file as a Hugging Face model directory (runs loom-torch).")
}

struct ExportGGUFVerb: ForwardedVerb {
    static let configuration = CommandConfiguration(
        commandName: "export-gguf", abstract: "Write a model (and a LoRA adapter folded in) as GGUF for llama.cpp (runs loom-torch).")
}

enum ModelVerbs {
    /// Every verb `loom-torch` implements for people (LoomCLITests checks both sides agree).
    static let commands: [ParsableCommand.Type] = [
        TorchInfoVerb.self, ScoreVerb.self, GenerateVerb.self, MergeVerb.self, ImportGGUFVerb.self, ExportGGUFVerb.self,
    ]

    static func isModelVerb(_ word: String) -> Bool {
        commands.contains { $0._commandName == word }
    }

    /// Where `loom-torch` is: `$LOOM_TORCH`, else beside this executable, else on PATH.
    static func torchExecutable() -> String {
        if let explicit = ProcessInfo.processInfo.environment["LOOM_TORCH"], !explicit.isEmpty {
            return explicit
        }
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let sibling = own.deletingLastPathComponent().appendingPathComponent("loom-torch").path
        if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        return "loom-torch"
    }

    /// Replaces this process with `loom-torch arguments…`. Returns only by exiting on failure.
    static func exec(_ arguments: [String]) -> Never {
        let program = torchExecutable()
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) }
        cArgs.append(nil)
        if program.contains("/") {
            execv(program, &cArgs)
        } else {
            execvp(program, &cArgs)
        }
        let reason = String(cString: strerror(errno))
        FileHandle.standardError.write(Data("""
            loom: cannot run \(program) for '\(arguments.first ?? "")': \(reason)
            (build it with `swift build --product loom-torch`, or point LOOM_TORCH at it)

            """.utf8))
        exit(127)
    }
}
