import Foundation
import TestSupport
import Testing

@Suite struct ForwardingTests {
    let loom = TestPaths.executable("loom")
    let loomTorch = TestPaths.executable("loom-torch")

    @Test func loomDoesNotLinkLibtorch() throws {
        let ldd = try runProcess(URL(fileURLWithPath: "/usr/bin/ldd"), [loom.path])
        #expect(ldd.status == 0)
        #expect(!ldd.stdout.contains("libtorch"), "loom links libtorch:\n\(ldd.stdout)")
        #expect(!ldd.stdout.contains("libc10"))
        let torchLdd = try runProcess(URL(fileURLWithPath: "/usr/bin/ldd"), [loomTorch.path])
        #expect(torchLdd.stdout.contains("libtorch"))
    }

    @Test func modelVerbIsForwardedToLoomTorch() throws {
        let result = try runProcess(loom, ["torch-info", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((object?["libtorch"] as? String)?.isEmpty == false)
        // `make` installs Gloo's headers, so this machine's shim has the CPU data-parallel backend.
        #expect((object?["process_group_backends"] as? [String])?.contains("gloo") == true, "\(object ?? [:])")
        // Loom's own kernels run on all of libtorch's threads, through its OpenMP runtime.
        #expect(object?["kernel_threads"] as? Int == object?["threads"] as? Int && object?["kernel_loop"] as? String == "openmp",
                "\(object ?? [:])")
        // The doctor tells a CPU-only libtorch from a CUDA build that sees no GPU (the user's next step differs).
        let human = try runProcess(loom, ["torch-info"])
        let cudaLine = human.stdout.split(separator: "\n").first { $0.hasPrefix("cuda ") }.map(String.init) ?? ""
        if let build = object?["cuda_build"] as? String {
            #expect(cudaLine.contains("CUDA \(build) build"), "\(cudaLine)")
        } else {
            #expect(object?["cuda_build"] is NSNull && object?["cuda"] as? Bool == false)
            #expect(cudaLine == "cuda      not available: a CPU-only build of libtorch")
        }
    }

    @Test func loomHelpListsEveryLoomTorchVerb() throws {
        let loomHelp = try runProcess(loom, ["--help"]).stdout
        let torchHelp = try runProcess(loomTorch, ["--help"]).stdout
        let torchVerbs = subcommandNames(inHelp: torchHelp).subtracting(["help"])
        #expect(!torchVerbs.isEmpty)
        for verb in torchVerbs {
            #expect(subcommandNames(inHelp: loomHelp).contains(verb), "loom --help lacks \(verb)")
        }
    }

    @Test func missingLoomTorchIsAClearError() throws {
        let result = try runProcess(loom, ["torch-info"], environment: ["LOOM_TORCH": "/nonexistent/loom-torch"])
        #expect(result.status == 127)
        #expect(result.stderr.contains("cannot run /nonexistent/loom-torch for 'torch-info'"))
    }

    /// The verb names under every "…SUBCOMMANDS:" heading of swift-argument-parser's help.
    private func subcommandNames(inHelp help: String) -> Set<String> {
        var names = Set<String>()
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix("SUBCOMMANDS:") { inSection = true; continue }
            guard inSection else { continue }
            if line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first {
                names.insert(String(word))
            } else if !line.hasPrefix("  ") {
                inSection = false
            }
        }
        return names
    }
}
