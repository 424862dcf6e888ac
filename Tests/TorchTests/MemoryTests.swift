// MemoryTests — handles are released: creating and freeing 100k tensors leaves the resident set flat.
import Foundation
import TestSupport
import Testing

@Test func hundredThousandTensorsLeaveMemoryFlat() throws {
    // Each round creates and frees 100k tensors holding 1 KiB each: a leak would add ≥ 100 MiB per round.
    // A warm-up round first pays for allocator pools and lazy initialisation. The rounds run in a
    // process of their own (`loom-bench probe-tensor-churn`): in this one, tests running concurrently
    // would allocate inside a round. A leak grows every round, so the smallest growth of three rounds
    // is the one compared.
    let loomBench = TestPaths.executable("loom-bench")
    let result = try runProcess(loomBench, ["probe-tensor-churn", "--tensors", "50000", "--rounds", "3"])
    try #require(result.status == 0, "loom-bench probe-tensor-churn exited \(result.status): \(result.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    let rounds = try #require(object?["rounds"] as? [[String: Double]], "\(result.stdout)")
    let growth = rounds.compactMap { $0["growth_mb"] }
    try #require(growth.count == 3, "\(result.stdout)")
    #expect(growth.min()! < 32, "resident set grew by \(growth) MiB per round of 100k tensors")
}
