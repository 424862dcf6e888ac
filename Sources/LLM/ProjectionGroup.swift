// ProjectionGroup — projections of the same input computed together (q/k/v of attention, gate/up of
// the MLP, or a single projection), each with an optional LoRA update. While every base is a dense
// view of one concatenated weight, the group runs ONE GEMM for all of them (512→1536 runs far closer
// to the GEMM peak than three 512→512s); the LoRA A matrices of the parts share one GEMM as well when
// no dropout separates their inputs. The fused layout is internal: each part keeps its own
// DenseLinear (a view of the fused weight), its Hugging Face name and its PEFT key.
import Torch

final class ProjectionGroup {
    let targets: [LoRATarget]
    private(set) var bases: [any BaseLinear]
    private(set) var adapters: [LoRALinear?]
    /// The concatenated dense weight (Σ out, in) whose row blocks are `bases`, while they all are; or
    /// the NF4 bases joined (NF4JointLinear) while they all are NF4.
    private var fused: (any BaseLinear)?

    /// Separate bases, joined into one GEMM when they are all NF4.
    init(targets: [LoRATarget], bases: [any BaseLinear]) {
        self.targets = targets
        self.bases = bases
        adapters = Array(repeating: nil, count: bases.count)
        fused = NF4JointLinear(joining: bases)
    }

    /// Dense parts as row blocks of one concatenated weight (and bias): one GEMM for the group.
    init(targets: [LoRATarget], fusedWeight: Tensor, fusedBias: Tensor?, outFeatures: [Int]) throws {
        self.targets = targets
        let fused = try DenseLinear(weight: fusedWeight, bias: fusedBias)
        var parts: [any BaseLinear] = []
        var offset = 0
        for out in outFeatures {
            let weight = try fusedWeight.narrow(dim: 0, start: offset, length: out)
            let bias = try fusedBias?.narrow(dim: 0, start: offset, length: out)
            parts.append(try DenseLinear(weight: weight, bias: bias))
            offset += out
        }
        self.fused = outFeatures.count > 1 ? fused : nil
        bases = parts
        adapters = Array(repeating: nil, count: parts.count)
    }

    var outFeatures: [Int] { bases.map(\.outFeatures) }

    /// The leaf tensors holding this group's dense weights and biases, for training every weight
    /// (pretraining): the concatenated weight while the parts are views of it (named after all of them,
    /// `q_proj+k_proj+v_proj`), else each part's own, after the layer's `prefix` (`model.layers.3.`). nil
    /// when a base is not dense (e.g. NF4).
    func denseLeaves(prefix layerPrefix: String) -> [(name: String, tensor: Tensor)]? {
        let prefix = layerPrefix + "\(targets[0].module)."
        if let fused = fused as? DenseLinear {
            let name = prefix + targets.map(\.rawValue).joined(separator: "+")
            return [(name + ".weight", fused.weight)] + (fused.bias.map { [(name + ".bias", $0)] } ?? [])
        }
        var leaves: [(name: String, tensor: Tensor)] = []
        for (target, base) in zip(targets, bases) {
            guard let dense = base as? DenseLinear else { return nil }
            let name = layerPrefix + target.path
            leaves.append((name + ".weight", dense.weight))
            if let bias = dense.bias { leaves.append((name + ".bias", bias)) }
        }
        return leaves
    }

    /// Derives the parts again from the concatenated weight: views taken before the weight required grad
    /// do not pass gradients back to it, and the unfused (composite) path computes with the parts.
    func rederiveDenseParts() throws {
        guard let fused = fused as? DenseLinear, adapters.allSatisfy({ $0 == nil }) else { return }
        var offset = 0
        bases = try outFeatures.map { out in
            defer { offset += out }
            return try DenseLinear(
                weight: fused.weight.narrow(dim: 0, start: offset, length: out), bias: fused.bias?.narrow(dim: 0, start: offset, length: out))
        }
    }

    func index(of target: LoRATarget) -> Int? { targets.firstIndex(of: target) }

    func attach(_ adapter: LoRALinear?, at index: Int) {
        adapters[index] = adapter
    }

    /// Replaces one base (e.g. by its 4-bit form). The fused weight no longer describes the group, so
    /// the remaining dense parts get storage of their own and the big weight is released.
    func replaceBase(at index: Int, with base: any BaseLinear) throws {
        if fused != nil {
            fused = nil
            bases = try bases.map { part in
                guard let dense = part as? DenseLinear else { return part }
                return try DenseLinear(weight: dense.weight.clone(), bias: dense.bias?.clone())
            }
        }
        bases[index] = base
        adapters[index]?.base = base
        fused = NF4JointLinear(joining: bases)
    }

    /// x (N, in) → one (N, out_i) tensor per part. Parts without an adapter may be strided views of the
    /// fused output.
    func callAsFunction(_ x: Tensor, kernels: ModelKernels) throws -> [Tensor] {
        var outputs: [Tensor]
        if let fused, kernels.fusedProjections {
            outputs = try fused(x).split(sizes: outFeatures, dim: 1)
        } else {
            outputs = try bases.map { try $0(x) }
        }
        let active = adapters.indices.filter { adapters[$0] != nil }
        guard !active.isEmpty else { return outputs }
        let pieces = try lowRankInputs(x, active: active, stacked: kernels.fusedProjections)
        let lowRank = pieces.count == active.count ? pieces : try pieces[0].split(sizes: active.map { adapters[$0]!.rank }, dim: 1)
        for (slot, index) in active.enumerated() {
            let adapter = adapters[index]!
            // A part's own fresh output (not a view of the fused one) takes its update in place: no copy of
            // the output, and backward reads the output gradient once for both of the update's GEMMs.
            if kernels.fusedLoRAUpdate, outputs[index].dtype == .float32, adapter.loraB.dtype == .float32, lowRank[slot].dtype == .float32,
               outputs[index].isContiguous, fused == nil || !kernels.fusedProjections {
                outputs[index] = try outputs[index].loraUpdateInPlace(
                    lowRank: lowRank[slot], b: [adapter.loraB], offsets: [0], scales: [adapter.scale])
            } else {
                outputs[index] = try outputs[index].addmm(lowRank[slot], adapter.loraB.transpose(0, 1), alpha: adapter.scale)
            }
        }
        return outputs
    }

    /// x (N, in) → the parts side by side, (N, Σ out_i), as one tensor: what the fused attention-heads and
    /// SwiGLU kernels read, so that their single gradient flows back without a concatenation. With a
    /// fused base the LoRA updates are written into its output in place, each over its own columns
    /// (`Tensor.loraUpdateInPlace`).
    func joined(_ x: Tensor, kernels: ModelKernels) throws -> Tensor {
        guard let fused, kernels.fusedProjections, kernels.fusedLoRAUpdate, x.dtype == .float32 else {
            return try Tensor.cat(callAsFunction(x, kernels: kernels), dim: 1)
        }
        let output = try fused(x)  // (N, Σ out_i)
        let active = adapters.indices.filter { adapters[$0] != nil }
        guard !active.isEmpty else { return output }
        let lowRank = try Tensor.cat(lowRankInputs(x, active: active, stacked: true), dim: 1)  // (N, Σ r_i)
        return try output.loraUpdateInPlace(
            lowRank: lowRank, b: active.map { adapters[$0]!.loraB }, offsets: active.map { outFeatures[..<$0].reduce(0, +) },
            scales: active.map { adapters[$0]!.scale })
    }

    /// dropout(x)·Aᵢᵀ for the active adapters, side by side in the returned pieces: one GEMM over the
    /// concatenated A's when the inputs are the same (no dropout active) — one piece (N, Σ r_i) — else one
    /// piece per adapter, each with its own dropout mask (as PEFT draws them).
    private func lowRankInputs(_ x: Tensor, active: [Int], stacked: Bool) throws -> [Tensor] {
        let adapters = active.map { self.adapters[$0]! }
        let dropoutActive = adapters.contains { $0.isTraining && $0.dropout > 0 }
        if adapters.count == 1 || dropoutActive || !stacked {
            return try adapters.map { try $0.lowRankInput(x) }
        }
        let stacked = try Tensor.cat(adapters.map(\.loraA), dim: 0)
        return try [x.linear(weight: stacked)]
    }
}
