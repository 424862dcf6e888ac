// FakeKinds — stage kinds that exist only in Pipeline's tests (the design: Pipeline knows nothing of
// real kinds). They do real work on real files: write outputs from their inputs, log metrics and
// progress, count their executions in the project's `executions.log`, fail or wait on demand.
import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// `write`: output `out.txt` = its `text` followed by every upstream `out.txt`, in `after` order.
struct WriteKind: StageKind {
    static let descriptor = StageKindDescriptor(
        name: "write", version: 1, summary: "writes text and its inputs' text", executable: .loom,
        schema: ParamSchema([
            .string("text", default: "", doc: "text to write"),
            .choice("method", ["lora", "qlora"], default: "lora", doc: "training method"),
            .section("lora", doc: "adapter settings", [
                .int("rank", default: 8, range: 1...1024, doc: "LoRA rank"),
                .float("alpha", default: 16, doc: "LoRA alpha"),
                .float("dropout", default: 0, range: ParamRange(minimum: 0, maximum: 1), doc: "dropout"),
                .float("lr", default: 1e-4, range: ParamRange(minimum: 0, exclusiveMinimum: true), doc: "learning rate"),
            ]),
            .list("inputs", of: .path(.any), doc: "input files"),
            .map("tiers", of: .list(.path(.glob)), doc: "named tiers of files"),
            .bool("verbose", default: false, doc: "log more"),
            .int("fail_attempts", default: 0, minimum: 0, doc: "fail this many first attempts"),
            .int("steps", default: 3, minimum: 0, doc: "metric steps to log (50 ms each, cancellable)"),
            .string("wait_for", doc: "a file (relative to the project) to wait for before finishing"),
            .string("touch", doc: "a file (relative to the project) to create when running"),
            .any("extra", doc: "anything"),
        ]))

    var descriptor: StageKindDescriptor { Self.descriptor }

    func run(_ context: StageContext) throws {
        let project = context.projectDirectory
        appendLine("\(context.stage) \(context.variant) \(context.attempt)", to: project.appendingPathComponent("executions.log"))
        if let touch = context.params.value("touch")?.stringValue {
            try Data().write(to: project.appendingPathComponent(touch))
        }
        let failures = try context.params.int("fail_attempts")
        let attemptsSoFar = (try? String(contentsOf: context.resumeDirectory.appendingPathComponent("attempts"), encoding: .utf8))
            .flatMap { Int($0) } ?? 0
        try String(attemptsSoFar + 1).write(to: context.resumeDirectory.appendingPathComponent("attempts"), atomically: true, encoding: .utf8)
        if attemptsSoFar < failures {
            throw FakeFailure(message: "planned failure \(attemptsSoFar + 1) of \(failures)")
        }
        let steps = try context.params.int("steps")
        for step in 1...max(1, steps) where steps > 0 {
            try context.checkCancellation()
            context.metrics.log("train/loss", 10.0 / Double(step), step: step)
            context.progress.report(step: step, total: steps, loss: 10.0 / Double(step))
            usleep(50_000)
        }
        if let waitFor = context.params.value("wait_for")?.stringValue {
            let path = project.appendingPathComponent(waitFor).path
            let deadline = ProcessState.now + 20
            while !FileManager.default.fileExists(atPath: path) {
                try context.checkCancellation()
                guard ProcessState.now < deadline else { throw FakeFailure(message: "\(waitFor) never appeared") }
                usleep(20_000)
            }
        }
        var text = try context.params.string("text")
        for name in context.inputDirectories.keys.sorted() {
            text += "|" + (try String(contentsOf: try context.input(name).appendingPathComponent("out.txt"), encoding: .utf8))
        }
        try text.write(to: context.outputDirectory.appendingPathComponent("out.txt"), atomically: true, encoding: .utf8)
        context.metrics.log("eval/accuracy", Double(text.count) / 100, step: 0)
        context.registerArtifact(name: "text", path: "out.txt")
        context.log.info("wrote \(text.count) characters")
    }
}

/// `strict`: a required parameter, for "missing required key".
struct StrictKind: StageKind {
    static let descriptor = StageKindDescriptor(
        name: "strict", version: 2, summary: "needs steps", executable: .loom,
        schema: ParamSchema([.int("steps", minimum: 1, required: true, doc: "optimizer steps")]))

    var descriptor: StageKindDescriptor { Self.descriptor }

    func run(_ context: StageContext) throws {
        try "\(try context.params.int("steps"))".write(to: context.outputDirectory.appendingPathComponent("steps.txt"), atomically: true, encoding: .utf8)
    }
}

/// `misbehave`: breaks the contract in the way its `how` parameter says.
struct MisbehavingKind: StageKind {
    static let descriptor = StageKindDescriptor(
        name: "misbehave", version: 1, summary: "breaks the contract", executable: .loom,
        schema: ParamSchema([.choice("how", ["missing-artifact", "reserved-name", "missing-input"], doc: "which rule to break")]))

    var descriptor: StageKindDescriptor { Self.descriptor }

    func run(_ context: StageContext) throws {
        switch try context.params.string("how") {
        case "missing-artifact":
            context.registerArtifact(name: "adapter", path: "adapter/model.safetensors")
        case "reserved-name":
            try "x".write(to: context.outputDirectory.appendingPathComponent(StoreLayout.manifestName), atomically: true, encoding: .utf8)
        default:
            _ = try context.input("nowhere")
        }
    }
}

/// Declared as a `loom-torch` kind with no implementation here, like the model kinds seen from `loom`.
let modelKindDescriptor = StageKindDescriptor(
    name: "train-model", version: 1, summary: "needs libtorch", executable: .loomTorch,
    schema: ParamSchema([.int("steps", default: 10, minimum: 1, doc: "steps")]))

struct FakeFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

func testRegistry() -> StageKindRegistry {
    var registry = StageKindRegistry()
    registry.register(WriteKind())
    registry.register(StrictKind())
    registry.register(MisbehavingKind())
    registry.declare(modelKindDescriptor)
    return registry
}

func appendLine(_ line: String, to url: URL) {
    let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}
