// MemoryTests — handles are released: creating and freeing 100k tensors leaves the resident set flat.
import Testing
import Torch

@Test func hundredThousandTensorsLeaveMemoryFlat() throws {
    // 1 KiB of data per tensor: a leak of 100k of them would add ≥ 100 MiB. One warm-up round first,
    // so that allocator pools and libtorch's lazy initialisation are already paid for.
    func churn() throws {
        for i in 0..<50_000 {
            let t = try Tensor.full([256], value: i)
            let u = try t * 2
            precondition(u.count == 256)
        }
    }
    try churn()
    let before = try residentBytes()
    try churn()
    let after = try residentBytes()
    #expect(after - before < 32 << 20, "resident set grew by \(after - before) bytes over 100k tensors")
}
