// LoRALinear — a low-rank update on top of a frozen base projection (Hu et al. 2021, as PEFT does it):
// y = base(x) + s·B·A·dropout(x), A (r, in) kaiming-uniform, B (out, r) zero, s = alpha/r (or alpha/√r
// with rsLoRA). Only A and B are trained; dropout touches the LoRA input path only.
import Foundation
import Torch

public final class LoRALinear {
    /// The frozen projection underneath (dense or 4-bit); replaceable so that a model can quantise its
    /// bases after the adapter was attached.
    public internal(set) var base: any BaseLinear
    public let rank: Int
    public let alpha: Double
    public let useRSLoRA: Bool
    /// alpha / rank, or alpha / √rank with rsLoRA.
    public let scale: Double
    /// Probability of zeroing an input element of the LoRA path during training.
    public let dropout: Double
    /// A (rank, inFeatures), requires grad.
    public let loraA: Tensor
    /// B (outFeatures, rank), requires grad.
    public let loraB: Tensor
    /// Training mode turns dropout on.
    public var isTraining = false
    /// Where dropout masks come from (shared by all the adapters of a model, so that one seeded stream
    /// makes a run reproducible); nil draws from libtorch's global generator.
    public let dropoutGenerator: Generator?

    /// A fresh adapter with PEFT's initialisation: A ~ kaiming-uniform(a = √5), i.e. U(−1/√in, 1/√in),
    /// drawn from `generator` (a CPU one: the same A whatever `device`); B = 0, so the wrapped projection
    /// starts out unchanged. Both are put on `device`, the base's.
    public convenience init(
        base: any BaseLinear, rank: Int, alpha: Double, useRSLoRA: Bool = false, dropout: Double = 0,
        generator: Generator, dropoutGenerator: Generator? = nil, device: Device = .cpu
    ) throws {
        guard rank > 0 else { throw ModelError("LoRA rank must be positive, got \(rank)") }
        let bound = 1 / Double(base.inFeatures).squareRoot()
        let a = try Tensor.uniform([rank, base.inFeatures], low: -bound, high: bound, generator: generator).to(device)
        let b = try Tensor.zeros([base.outFeatures, rank], device: device)
        try self.init(base: base, loraA: a, loraB: b, alpha: alpha, useRSLoRA: useRSLoRA, dropout: dropout,
                      dropoutGenerator: dropoutGenerator)
    }

    /// An adapter with given A (rank, in) and B (out, rank) — e.g. loaded from a PEFT file. The tensors
    /// become this adapter's parameters (marked as requiring grad).
    public init(
        base: any BaseLinear, loraA: Tensor, loraB: Tensor, alpha: Double, useRSLoRA: Bool = false,
        dropout: Double = 0, dropoutGenerator: Generator? = nil
    ) throws {
        guard loraA.rank == 2, loraA.shape[1] == base.inFeatures, loraA.shape[0] > 0 else {
            throw ModelError("lora_A must be (rank, \(base.inFeatures)), got \(loraA.shape)")
        }
        let rank = loraA.shape[0]
        guard loraB.shape == [base.outFeatures, rank] else {
            throw ModelError("lora_B must be (\(base.outFeatures), \(rank)), got \(loraB.shape)")
        }
        guard (0..<1).contains(dropout) else { throw ModelError("LoRA dropout must be in [0, 1), got \(dropout)") }
        self.base = base
        self.rank = rank
        self.alpha = alpha
        self.useRSLoRA = useRSLoRA
        self.scale = useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank)
        self.dropout = dropout
        self.loraA = try loraA.setRequiresGrad()
        self.loraB = try loraB.setRequiresGrad()
        self.dropoutGenerator = dropoutGenerator
    }

    public var inFeatures: Int { base.inFeatures }
    public var outFeatures: Int { base.outFeatures }

    /// (…, in) → (…, out): base(x) + s·(dropout(x)·Aᵀ)·Bᵀ.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try addUpdate(to: base(input), input: input)
    }

    /// `output` + s·(dropout(input)·Aᵀ)·Bᵀ, the update added by the GEMM itself (addmm) rather than by a
    /// separate pass. `output` is the base's result for `input`.
    func addUpdate(to output: Tensor, input: Tensor) throws -> Tensor {
        let shape = output.shape
        let flat = try input.reshape([-1, inFeatures])
        let down = try lowRankInput(flat)
        return try output.reshape([-1, outFeatures]).addmm(down, loraB.transpose(0, 1), alpha: scale).reshape(shape)
    }

    /// dropout(x)·Aᵀ for x (N, in) → (N, rank).
    func lowRankInput(_ flat: Tensor) throws -> Tensor {
        try flat.dropout(dropout, training: isTraining, generator: dropoutGenerator).linear(weight: loraA)
    }

    /// W + s·B·A as a dense (out, in) tensor in `dtype` (the base dequantised when it is 4-bit).
    public func mergedWeight(dtype: DType = .float32) throws -> Tensor {
        try withNoGrad {
            let weight = try base.denseWeight(dtype: .float32)
            return try weight.addmm(loraB.detach(), loraA.detach(), alpha: scale).to(dtype)
        }
    }

    /// The base with this update folded in, as a new frozen dense projection.
    public func merged(dtype: DType = .float32) throws -> DenseLinear {
        try DenseLinear(weight: mergedWeight(dtype: dtype), bias: base.bias.map { try $0.detach().to(dtype) })
    }
}
