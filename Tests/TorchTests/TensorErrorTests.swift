// TensorErrorTests — libtorch's errors arrive as TorchError with libtorch's text plus the op and the
// operands' shapes; a failed call leaks nothing and leaves its inputs usable.
import TestSupport
import Testing
import Torch

@Test func matmulShapeMismatchNamesBothShapes() throws {
    let message = errorMessage { _ = try Tensor.zeros([2, 3]).matmul(Tensor.zeros([4, 5])) }
    #expect(message?.contains("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)") == true)
    #expect(message?.contains("in matmul of [2, 3] f32 and [4, 5] f32") == true)
    #expect(message?.contains("Exception raised from") == false)  // no C++ backtrace
}

@Test func broadcastingMismatchNamesBothShapes() throws {
    let message = errorMessage { _ = try Tensor.zeros([3]) + Tensor.zeros([4]) }
    #expect(message?.contains("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0") == true)
    #expect(message?.contains("in add of [3] f32 and [4] f32") == true)
}

@Test func shapeAndIndexErrorsSayWhatWasAsked() throws {
    let reshape = errorMessage { _ = try Tensor.zeros([2, 3]).reshape([4, 2]) }
    #expect(reshape?.contains("shape '[4, 2]' is invalid for input of size 6") == true)
    #expect(reshape?.contains("in reshape of [2, 3] f32 with arguments [4, 2]") == true)
    let dim = errorMessage { _ = try Tensor.zeros([2]).sum(dims: [3]) }
    #expect(dim?.contains("Dimension out of range") == true)
    let item = errorMessage { _ = try Tensor.zeros([2]).item() }
    #expect(item?.contains("a Tensor with 2 elements cannot be converted to Scalar") == true)
    let size = errorMessage { _ = try Tensor.zeros([2]).size(1) }
    #expect(size == "dimension 1 is out of range for a tensor of shape [2]")
    let catMessage = errorMessage { _ = try Tensor.cat([Tensor.zeros([2, 2]), Tensor.zeros([2, 3])]) }
    #expect(catMessage?.contains("in cat of [2, 2] f32, [2, 3] f32") == true)
}

@Test func byteCountMustMatchTheShape() throws {
    let bytes = [UInt8](repeating: 0, count: 10)
    let message = errorMessage { _ = try bytes.withUnsafeBytes { try Tensor(bytes: $0, shape: [3], dtype: .float32) } }
    #expect(message?.contains("byte count 10 does not match shape [3] of f32 (12 bytes)") == true)
    let countMismatch = errorMessage { _ = try Tensor([Float(1), 2, 3], shape: [2, 2]) }
    #expect(countMismatch?.contains("byte count 12 does not match shape [2, 2] of f32 (16 bytes)") == true)
}

@Test func inPlaceUpdateOfAParameterNeedsGradModeOff() throws {
    let weight = try Tensor.ones([2]).setRequiresGrad()
    let message = errorMessage { try weight.addInPlace(1) }
    #expect(message?.contains("a leaf Variable that requires grad is being used in an in-place operation") == true)
    try withNoGrad { try weight.addInPlace(1) }
    #expect(try weight.toArray(Float.self) == [2, 2])
}

@Test func failedCallsLeaveTheirInputsUsable() throws {
    let a = try Tensor.ones([2, 2])
    for _ in 0..<100 { _ = errorMessage { _ = try a.matmul(Tensor.ones([3, 3])) } }
    #expect(try a.sum().scalar(Float.self) == 4)
    let inPlace = errorMessage { try a.addInPlace(Tensor.ones([3])) }
    #expect(inPlace?.contains("in-place add") == true)
    #expect(try a.toArray(Float.self) == [1, 1, 1, 1])
}
