// DataParallelCLITests — `processes: N` for real: the built `loom` runs a `train` stage whose
// `loom-torch exec-stage` process becomes rank 0 and starts rank 1 on this node; the ranks meet through
// c10d's TCPStore and all-reduce their gradients through Gloo. Two ranks of batch b step exactly like one
// process accumulating two micro-batches of b, and like one process of batch 2b (losses within 1e-5
// relative: the same sums in another order);
// rank 1 killed with SIGKILL fails the stage within the group's timeout, and `loom resume` continues from
// the last checkpoint. (The Slurm route, `srun` with two tasks, is in SlurmCLITests.)
import Foundation
import TestSupport
import Testing

/// A corpus of the stage fixtures, a 400-piece tokenizer, a tiny pretrained Llama, and a LoRA `train` stage
/// whose variants the tests set.
func dataParallelRecipe(train: String, variants: String) -> String {
    """
    stages:
      corpus:
        kind: corpus
        params:
          tiers:
            - {name: core, paths: [books/man_and_woman, books/lovers, books/2001.06]}
      tokenizer: {kind: base-tokenizer, after: [corpus], params: {vocab_size: 400}}
      base:
        kind: pretrain-base
        after: [corpus, tokenizer]
        params:
          model: {hidden_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 96}
          seq_len: 64
          steps: 5
          batch_size: 4
          warmup_steps: 0
      train:
        kind: train
        after: [corpus, base]
        params:
          lora: {rank: 4, alpha: 8, dropout: 0.0}
          seq_len: 64
          lr: 1.0e-2
          warmup_steps: 0
          eval_every: 0
    \(train)
    variants:
    \(variants)
    """
}

/// The float32 tensors of a safetensors file, by name (the adapter files Loom writes are all float32).
func float32Tensors(_ file: URL) throws -> [String: [Float]] {
    let data = try Data(contentsOf: file)
    let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
    var tensors: [String: [Float]] = [:]
    for (name, entry) in header where name != "__metadata__" {
        let entry = try #require(entry as? [String: Any])
        #expect(entry["dtype"] as? String == "F32", "\(name)")
        let offsets = try #require(entry["data_offsets"] as? [Int])
        let bytes = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
        tensors[name] = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
    return tensors
}

@Suite(.serialized) struct DataParallelCLITests {
    let project: CLIProject

    init() throws {
        project = try CLIProject()
        try TestPaths.installStageBooks(["man_and_woman", "lovers", "2001.06"], in: project.root)
    }

    func losses(run: Int) throws -> [Double] {
        try project.sql("""
            SELECT value FROM metrics WHERE run_id = \(run) AND stage = 'train' AND key = 'train/loss' AND rowid IN
              (SELECT MAX(rowid) FROM metrics WHERE key = 'train/loss' GROUP BY run_id, step) ORDER BY step
            """).split(separator: "\n").compactMap { Double($0) }
    }

    func adapter(run: Int) throws -> [String: [Float]] {
        let fingerprint = try project.sql("SELECT fingerprint FROM stages WHERE run_id = \(run) AND name = 'train'")
        return try float32Tensors(URL(fileURLWithPath: "\(project.home)/cache/\(fingerprint)/adapter_model.safetensors"))
    }

    func expectClose(_ a: [Double], _ b: [Double], relative: Double, _ what: String) {
        #expect(a.count == b.count && !a.isEmpty, "\(what): \(a.count) vs \(b.count) values")
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= relative * abs(x), "\(what): \(x) vs \(y)") }
    }

    @Test func twoRanksOfBatchBStepLikeOneProcessOfBatch2B() throws {
        try project.write("dp.yaml", dataParallelRecipe(train: "      steps: 5\n      checkpoint_every: 2", variants: """
              two: {params: {train: {batch_size: 2, processes: 2, group_timeout: 60}}}
              accumulated: {params: {train: {batch_size: 2, grad_accum: 2}}}
              wide: {params: {train: {batch_size: 4}}}
            """))
        let run = try project.loom(["run", "dp.yaml"])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let two = try losses(run: 1), accumulated = try losses(run: 2), wide = try losses(run: 3)
        let parallel = try adapter(run: 1)

        // One process accumulating two micro-batches of b computes each micro-batch exactly as one rank
        // does; the all-reduce adds the same two gradients and halves them, as accumulation does.
        #expect(two == accumulated && two.count == 5, "\(two) vs \(accumulated)")
        #expect(parallel == (try adapter(run: 2)))

        // One micro-batch of 2b sums the same per-token gradients in another order (one GEMM over 2b
        // rows, not two over b): losses agree to 1e-5 relative. The adapter is compared by the norm of
        // its difference: AdamW divides each element's gradient by its own running magnitude, which turns
        // the ~1e-7 rounding of a near-cancelling element's gradient into a visibly different step for
        // that element (measured: 1.5e-5 of the tensor's norm at worst after 5 steps), so 1e-4 of the norm.
        expectClose(wide, two, relative: 1e-5, "loss of 2 ranks × 2 vs 1 process × 4")
        let single = try adapter(run: 3)
        #expect(Set(single.keys) == Set(parallel.keys) && !single.isEmpty)
        for (name, values) in single {
            let other = try #require(parallel[name])
            let norm = values.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            let difference = zip(values, other).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            #expect(difference <= 1e-4 * max(norm, 1e-12), "\(name): the difference's norm is \(difference / norm) of the tensor's")
        }

        // Rank 0 recorded the stage; rank 1 wrote its own log and nothing else.
        let log = try project.loom(["logs", "1", "train"]).stdout
        #expect(log.contains("data parallel: 2 processes on this node"), "\(log)")
        #expect(log.contains("joined the gloo process group as rank 0 of 2"), "\(log)")
        let rankLog = (try? String(contentsOfFile: "\(project.home)/logs/1/train.1.rank-1.log", encoding: .utf8)) ?? ""
        #expect(rankLog.contains("joined the gloo process group as rank 1 of 2") && rankLog.contains("rank 1 finished"), "\(rankLog)")
        // batch_size is per rank: a step sees 2 × 2 sequences of 64 tokens.
        #expect(try project.sql("SELECT value FROM latest_metrics WHERE run_id = 1 AND key = 'train/tokens_seen'") == "1280.0")
    }

    @Test func aKilledRankFailsTheStageWithinTheTimeoutAndResumeContinues() throws {
        try project.write("dp.yaml", dataParallelRecipe(train: "      steps: 60\n      checkpoint_every: 5", variants: """
              two: {params: {train: {batch_size: 2, processes: 2, group_timeout: 20}}}
            """))
        let runner = try project.start(["run", "dp.yaml"], output: "run.out")
        let log = "\(project.home)/logs/1/train.1.log"
        var rank1: Int32?
        try project.waitUntil("the train stage wrote its first checkpoint", timeout: 180) {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if rank1 == nil, let line = text.split(separator: "\n").first(where: { $0.contains("ranks 1…1: pids ") }),
               let pid = line.components(separatedBy: "pids ").last?.split(separator: ")").first {
                rank1 = Int32(pid)
            }
            return text.contains("checkpoint ")
        }
        let pid = try #require(rank1)
        let killedAt = Date()
        #expect(kill(pid, SIGKILL) == 0)
        runner.waitUntilExit()
        #expect(Date().timeIntervalSince(killedAt) < 60, "the stage failed \(Date().timeIntervalSince(killedAt)) s after its rank died")
        #expect(runner.terminationStatus == 1)
        let train = try #require(try project.latestStages()["train"])
        #expect(train["status"] as? String == "failed", "\(train)")
        let error = train["error"] as? String ?? ""
        #expect(error.contains("rank 1 (pid \(pid)) killed by signal 9"), "\(error)")

        let resumed = try project.loom(["resume", "latest"])
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        let second = try project.loom(["logs", "1", "train"]).stdout
        #expect(second.contains("continuing from checkpoint-"), "\(second)")
        #expect(try losses(run: 1).count == 60)
    }
}
