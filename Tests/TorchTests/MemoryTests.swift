// MemoryTests — handles are released: creating and freeing 100k tensors leaves the resident set flat.
import Testing
import Torch

@Test func hundredThousandTensorsLeaveMemoryFlat() throws {
    // Each round creates and frees 100k tensors holding 1 KiB each: a leak would add ≥ 100 MiB per round.
    // A warm-up round first pays for allocator pools and lazy initialisation. Tests run concurrently in
    // this process, so another test's allocations may land inside one round; a leak grows every round,
    // so the smallest growth of three rounds is the one compared.
    func round() throws {
        for i in 0..<50_000 {
            let t = try Tensor.full([256], value: i)
            let u = try t * 2
            precondition(u.count == 256)
        }
    }
    try round()
    var growth: [Double] = []
    for _ in 0..<3 {
        let before = try Benchmarks.residentMegabytes()
        try round()
        growth.append(try Benchmarks.residentMegabytes() - before)
    }
    #expect(growth.min()! < 32, "resident set grew by \(growth) MiB per round of 100k tensors")
}
