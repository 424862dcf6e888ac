// TensorBasicsTests — construction from Swift values and bytes, readback, facts, dtype round trips
// (bf16 and f16 rounding included), factories and shared storage of views.
import Foundation
import Testing
import Torch

@Test func arraysRoundTripThroughEveryDType() throws {
    let floats: [Float] = [1.5, -2, 3.25, 0]
    let f32 = try Tensor(floats, shape: [2, 2])
    #expect(f32.dtype == .float32 && f32.shape == [2, 2] && f32.rank == 2 && f32.count == 4)
    #expect(try f32.toArray(Float.self) == floats)

    #expect(try Tensor([1.0, -1e300, Double.leastNonzeroMagnitude]).toArray(Double.self) == [1.0, -1e300, Double.leastNonzeroMagnitude])
    #expect(try Tensor([Int64.min, 0, Int64.max]).toArray(Int64.self) == [Int64.min, 0, Int64.max])
    #expect(try Tensor([Int32.min, 7]).toArray(Int32.self) == [Int32.min, 7])
    #expect(try Tensor([Int8(-128), 127]).toArray(Int8.self) == [-128, 127])
    #expect(try Tensor([UInt8(0), 255]).toArray(UInt8.self) == [0, 255])
    #expect(try Tensor([true, false, true]).toArray(Bool.self) == [true, false, true])
    #expect(try Tensor([1, 2, 3]).dtype == .int64)
    #expect(try Tensor([Float16(0.5), Float16(-3)]).toArray(Float16.self) == [0.5, -3])
}

@Test func readbackConvertsToTheRequestedType() throws {
    let t = try Tensor([Float(1.75), -2.5])
    #expect(try t.toArray(Double.self) == [1.75, -2.5])
    #expect(try t.toArray(Int.self) == [1, -2])
    #expect(try Tensor([Int64(3), 4]).toArray(Float.self) == [3, 4])
}

@Test func bfloat16KeepsRepresentableValuesAndRoundsHalfToEven() throws {
    let exact: [Float] = [1, -2.5, 0.15625, 3.140625, 65280, -0.0078125]
    let bf16 = try Tensor(exact).to(.bfloat16)
    #expect(bf16.dtype == .bfloat16 && bf16.byteCount == 12)
    #expect(try bf16.to(.float32).toArray(Float.self) == exact)
    // 1.0 is 0x3F80 in bf16, stored little-endian.
    #expect(try Tensor([Float(1)]).to(.bfloat16).bytes() == [0x80, 0x3F])
    // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: the even neighbour is 1. 1 + 3·2⁻⁸ lies halfway
    // between 1 + 2⁻⁷ and 1 + 2⁻⁶: the even neighbour is 1 + 2⁻⁶.
    let halfway: [Float] = [1 + 1.0 / 256, 1 + 3.0 / 256]
    #expect(try Tensor(halfway).to(.bfloat16).to(.float32).toArray(Float.self) == [1, 1 + 1.0 / 64])
}

@Test func float16RoundTripsAndOverflowsToInfinity() throws {
    let values: [Float] = [0.5, -1024, 65504, 6.103515625e-05]
    #expect(try Tensor(values).to(.float16).to(.float32).toArray(Float.self) == values)
    #expect(try Tensor([Float(70000)]).to(.float16).to(.float32).toArray(Float.self) == [.infinity])
}

@Test func integerAndBoolCastsFollowPyTorch() throws {
    let t = try Tensor([Float(-1.7), 0, 2.9, 300])
    #expect(try t.to(.int64).toArray(Int64.self) == [-1, 0, 2, 300])
    #expect(try t.to(.bool).toArray(Bool.self) == [true, false, true, true])
    #expect(try Tensor([Int64(1), 255]).to(.uint8).to(.int32).toArray(Int32.self) == [1, 255])
}

@Test func bytesAreConvertedOnTheWayIn() throws {
    // bf16 bytes for 1.0, -2.0, 0.5 → an f32 tensor in one step (what a bf16 checkpoint load does).
    let bytes: [UInt8] = [0x80, 0x3F, 0x00, 0xC0, 0x00, 0x3F]
    let t = try bytes.withUnsafeBytes { try Tensor(bytes: $0, shape: [3], dtype: .bfloat16, as: .float32) }
    #expect(t.dtype == .float32)
    #expect(try t.toArray(Float.self) == [1, -2, 0.5])
    // An odd address: the shim copies instead of viewing misaligned memory.
    let padded: [UInt8] = [0] + [0x00, 0x00, 0x80, 0x3F]
    let misaligned = try padded.withUnsafeBytes {
        try Tensor(bytes: UnsafeRawBufferPointer(rebasing: $0[1...]), shape: [1], dtype: .float32)
    }
    #expect(try misaligned.toArray(Float.self) == [1])
}

@Test func scalarsReadBackWithTheirKind() throws {
    #expect(try Tensor(scalar: Float(3.5)).item() == Scalar(3.5))
    #expect(try Tensor(scalar: Int64(-4)).item() == Scalar(Int64(-4)))
    #expect(try Tensor(scalar: true).item() == Scalar(true))
    #expect(try Tensor(scalar: Float(2.75)).scalar(Double.self) == 2.75)
    #expect(try Tensor(scalar: Float(2)).shape == [])
}

@Test func factoriesFillAsAsked() throws {
    #expect(try Tensor.zeros([2, 3]).toArray(Float.self) == Array(repeating: 0, count: 6))
    #expect(try Tensor.ones([2], dtype: .int64).toArray(Int64.self) == [1, 1])
    #expect(try Tensor.full([3], value: 2.5, dtype: .float64).toArray(Double.self) == [2.5, 2.5, 2.5])
    #expect(try Tensor.arange(5).toArray(Int64.self) == [0, 1, 2, 3, 4])
    #expect(try Tensor.arange(0, 1, step: 0.25, dtype: .float32).toArray(Float.self) == [0, 0.25, 0.5, 0.75])
    #expect(try Tensor.empty([4, 0]).count == 0)
    let like = try Tensor.ones([2, 2], dtype: .bfloat16)
    let filled = try like.fullLike(7)
    #expect(filled.dtype == .bfloat16 && filled.shape == [2, 2])
    #expect(try filled.toArray(Float.self) == [7, 7, 7, 7])
    #expect(try like.zerosLike().toArray(Float.self) == [0, 0, 0, 0])
    #expect(try like.emptyLike().shape == [2, 2])
}

@Test func viewsShareStorageAndClonesDoNot() throws {
    let base = try Tensor.zeros([2, 3])
    let row = try base.narrow(dim: 0, start: 1, length: 1)
    try row.fill(5)
    #expect(try base.toArray(Float.self) == [0, 0, 0, 5, 5, 5])
    let copy = try base.clone()
    try copy.zero()
    #expect(try base.sum().scalar(Float.self) == 15)
    let alias = try base.shared()
    try alias.addInPlace(1)
    #expect(try base.toArray(Float.self) == [1, 1, 1, 6, 6, 6])
}

@Test func unsafeBytesSeeContiguousDataAndCopyStridedData() throws {
    let t = try Tensor([Float(1), 2, 3, 4], shape: [2, 2])
    let direct = try t.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    #expect(direct == [1, 2, 3, 4])
    let transposed = try t.transpose(0, 1)
    #expect(!transposed.isContiguous)
    let gathered = try transposed.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    #expect(gathered == [1, 3, 2, 4])
}

@Test func descriptionsNameShapeDTypeAndDevice() throws {
    let t = try Tensor.zeros([2, 3], dtype: .bfloat16)
    #expect("\(t)" == "Tensor([2, 3], bf16, cpu)")
    #expect(try Tensor([Float(1.5)]).contentDescription().contains("1.5"))
    #expect(try t.equal(Tensor.zeros([2, 3], dtype: .bfloat16)))
    #expect(try !t.equal(Tensor.zeros([2, 3])))
}
