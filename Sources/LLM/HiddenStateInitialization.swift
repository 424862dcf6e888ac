// HiddenStateInitialization — new-token embedding rows from what the base model computes over the token's
// pieces, not from the pieces' rows alone (`init: hidden` of the extend-vocab kind).
//
// The model reads a multi-piece word and builds a representation of the whole word in its hidden states
// (Kaplan et al. 2024, "From Tokens to Words: On the Inner Lexicon of LLMs": a linear map from a layer's
// hidden state at a word's last piece back to the input-embedding space gives usable embeddings for words
// the vocabulary lacks). So, for new tokens with decompositions d₁…dₘ:
//   1. the map: for F base tokens t (evenly spaced ids), h(t) = hidden state `layer` at t's position of
//      the input `prefix + [t]`; fit ridge regression E[t] ≈ (h(t) − μₕ) W + μₑ over the F pairs, with
//      λ = ridge · tr(HcᵀHc) / C (a fraction of the mean eigenvalue of the centred Gram matrix);
//   2. each new token: h(d) = hidden state `layer` at the last piece of `prefix + d`, its row
//      (h(d) − μₕ) W + μₑ, rescaled to the mean L2 norm of its pieces' embedding rows (a regression
//      shrinks towards the mean: unscaled rows would be shorter than any real token's).
// `layer` counts as Hugging Face's `hidden_states` does: 0 the embeddings, i the output of layer i, the
// last taken after the final norm; negative counts from the end (−1 the last). The forward passes run in
// batches of sequences of similar length, padded on the right: attention is causal, so the padding never
// reaches the positions read. The head row (untied heads) is the mean of the pieces' head rows, as `mean`
// makes it: the hidden state at a word's last piece says what the word is, not where it is predicted, so
// the head gets the default's row (the first piece's, firstLast's choice, lets the new token score as high
// as its first piece wherever that piece is likely, though the whole word follows far less often).
import Torch

/// Settings of the hidden-state initialiser (see the file's header).
public struct HiddenStateInitialization: Sendable, Equatable {
    /// Which hidden state: 0 the embeddings … L the last layer's (after the final norm); negative from the end.
    public var layer: Int
    /// How many base tokens the map is fitted on, evenly spaced over the vocabulary (0: every one).
    public var fitTokens: Int
    /// λ of the ridge regression as a fraction of the mean eigenvalue of the centred Gram matrix.
    public var ridge: Double
    /// Ids read before every sequence (the tokenizer's prefix, e.g. BOS), so that no piece sits at position 0
    /// unless the model's own text puts it there.
    public var prefix: [Int]
    /// Sequences per forward pass.
    public var batchSize: Int

    public init(layer: Int = -1, fitTokens: Int = 4096, ridge: Double = 0.01, prefix: [Int] = [], batchSize: Int = 64) {
        self.layer = layer
        self.fitTokens = fitTokens
        self.ridge = ridge
        self.prefix = prefix
        self.batchSize = batchSize
    }
}

extension DecoderModel {
    /// Embedding rows (M, hidden), f32, for `decompositions` (checked by the caller) under `settings`.
    /// `progress(done, total)` counts sequences run through the model (the fit's and the new tokens').
    func hiddenStateRows(
        decompositions: [[Int]], settings: HiddenStateInitialization, progress: ((Int, Int) -> Void)?
    ) throws -> Tensor {
        let layers = config.numHiddenLayers
        let layer = settings.layer < 0 ? layers + 1 + settings.layer : settings.layer
        guard (0...layers).contains(layer) else {
            throw ModelError("layer \(settings.layer) is outside the model's hidden states (0…\(layers), or −1…−\(layers + 1) from the end)")
        }
        guard settings.ridge > 0 else { throw ModelError("ridge must be positive, got \(settings.ridge)") }
        guard settings.batchSize > 0 else { throw ModelError("batch size must be positive, got \(settings.batchSize)") }
        if let outside = settings.prefix.first(where: { !(0..<config.vocabSize).contains($0) }) {
            throw ModelError("prefix id \(outside) is outside the vocabulary (0..<\(config.vocabSize))")
        }
        let fitIds = Self.evenlySpacedIds(count: settings.fitTokens, vocabulary: config.vocabSize)
        guard fitIds.count > 1 else { throw ModelError("the map needs at least 2 base tokens to fit, got \(fitIds.count)") }
        let total = fitIds.count + decompositions.count
        return try withNoGrad {
            let fitHidden = try lastHiddenStates(fitIds.map { [$0] }, layer: layer, settings: settings) { progress?($0, total) }
            let newHidden = try lastHiddenStates(decompositions, layer: layer, settings: settings) { progress?(fitIds.count + $0, total) }
            let targets = try embedTokens.indexSelect(dim: 0, index: Tensor(fitIds.map(Int64.init)).to(device)).to(.float64)
            let rows = try Self.ridgeMap(from: fitHidden, to: targets, applyTo: newHidden, ridge: settings.ridge)
            // Each row scaled to the mean norm of its pieces' rows.
            let pieceNorms = try embedTokens.to(.float64).norm(2, dims: [1]).to(.cpu).toArray(Double.self)
            let norms = decompositions.map { pieces in pieces.reduce(0) { $0 + pieceNorms[$1] } / Double(pieces.count) }
            let target = try Tensor(norms, shape: [norms.count, 1]).to(device)
            return try (rows * (target / rows.norm(2, dims: [1], keepDim: true))).to(.float32)
        }
    }

    /// `count` ids spread evenly over 0..<vocabulary (all of them when count is 0 or not smaller).
    static func evenlySpacedIds(count: Int, vocabulary: Int) -> [Int] {
        guard count > 0, count < vocabulary else { return Array(0..<vocabulary) }
        return (0..<count).map { $0 * vocabulary / count }
    }

    /// Hidden state `layer` (N, hidden) f64 at the last id of each sequence, read after `settings.prefix`.
    /// Sequences of similar length share a forward pass, right-padded (causal attention: the padding is
    /// never attended by the positions read). `done(n)` after each pass.
    private func lastHiddenStates(_ sequences: [[Int]], layer: Int, settings: HiddenStateInitialization, done: (Int) -> Void) throws -> Tensor {
        let order = sequences.indices.sorted { sequences[$0].count < sequences[$1].count }
        let prefix = settings.prefix.map(Int64.init)
        var batches: [Tensor] = []
        var finished = 0
        for start in stride(from: 0, to: order.count, by: settings.batchSize) {
            let members = order[start..<min(start + settings.batchSize, order.count)]
            let length = prefix.count + members.map { sequences[$0].count }.max()!
            var ids: [Int64] = []
            var positions: [Int64] = []
            for (row, index) in members.enumerated() {
                let sequence = prefix + sequences[index].map(Int64.init)
                positions.append(Int64(row * length + sequence.count - 1))
                ids += sequence + Array(repeating: sequence.last!, count: length - sequence.count)
            }
            let states = try hiddenStates(tokens: Tensor(ids, shape: [members.count, length]))[layer]  // (B, T, C)
            let flat = try states.reshape([members.count * length, config.hiddenSize])
            batches.append(try flat.indexSelect(dim: 0, index: Tensor(positions).to(device)).to(.float64))
            finished += members.count
            done(finished)
        }
        // Back to the sequences' own order: row k of the sorted result is sequence order[k].
        var inverse = [Int64](repeating: 0, count: order.count)
        for (sortedRow, index) in order.enumerated() { inverse[index] = Int64(sortedRow) }
        return try Tensor.cat(batches, dim: 0).indexSelect(dim: 0, index: Tensor(inverse).to(device))
    }

    /// Ridge regression of `targets` (F, D) on `inputs` (F, C), both centred, applied to `queries` (M, C):
    /// (Q − μₓ) (XcᵀXc + λI)⁻¹ XcᵀYc + μᵧ with λ = ridge · tr(XcᵀXc) / C. All f64.
    static func ridgeMap(from inputs: Tensor, to targets: Tensor, applyTo queries: Tensor, ridge: Double) throws -> Tensor {
        let width = inputs.shape[1]
        let inputMean = try inputs.mean(dims: [0], keepDim: true)
        let targetMean = try targets.mean(dims: [0], keepDim: true)
        let centred = try inputs - inputMean
        let gram = try centred.transpose(0, 1).mm(centred)  // (C, C)
        let cross = try centred.transpose(0, 1).mm(targets - targetMean)  // (C, D)
        var system = try gram.to(.cpu).contiguous().toArray(Double.self)
        let trace = (0..<width).reduce(0) { $0 + system[$1 * width + $1] }
        let lambda = ridge * max(trace, .leastNormalMagnitude) / Double(width)
        for index in 0..<width { system[index * width + index] += lambda }
        // Z = A⁻¹ (Q − μₓ)ᵀ (C, M): fewer right-hand sides than solving for the C × D map when M < D.
        let queryCount = queries.shape[0]
        let rightHandSides = try (queries - inputMean).transpose(0, 1).to(.cpu).contiguous().toArray(Double.self)
        let solved = try SymmetricPositiveDefinite.solve(system, size: width, rightHandSides, columns: queryCount)
        let z = try Tensor(solved, shape: [width, queryCount]).to(queries.device)
        return try z.transpose(0, 1).mm(cross) + targetMean
    }
}

/// Solving A X = B for a symmetric positive-definite A by its Cholesky factor, in f64 on the CPU (the shim
/// has no linear algebra; C³/3 + 2C²·columns operations, a fraction of a second for C in the hundreds).
enum SymmetricPositiveDefinite {
    /// `a`: (size, size) row-major; `b`: (size, columns) row-major. Returns X (size, columns) row-major.
    static func solve(_ a: [Double], size n: Int, _ b: [Double], columns: Int) throws -> [Double] {
        var lower = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var diagonal = a[j * n + j]
            for k in 0..<j { diagonal -= lower[j * n + k] * lower[j * n + k] }
            guard diagonal > 0, diagonal.isFinite else {
                throw ModelError("the ridge system is not positive definite (pivot \(j) is \(diagonal)): the hidden states hold NaN or infinite values")
            }
            let pivot = diagonal.squareRoot()
            lower[j * n + j] = pivot
            for i in (j + 1)..<n {
                var sum = a[i * n + j]
                for k in 0..<j { sum -= lower[i * n + k] * lower[j * n + k] }
                lower[i * n + j] = sum / pivot
            }
        }
        var x = b
        // L Y = B, row by row.
        for i in 0..<n {
            for k in 0..<i where lower[i * n + k] != 0 {
                let factor = lower[i * n + k]
                for c in 0..<columns { x[i * columns + c] -= factor * x[k * columns + c] }
            }
            let pivot = lower[i * n + i]
            for c in 0..<columns { x[i * columns + c] /= pivot }
        }
        // Lᵀ X = Y, from the last row up.
        for i in stride(from: n - 1, through: 0, by: -1) {
            for k in (i + 1)..<n where lower[k * n + i] != 0 {
                let factor = lower[k * n + i]
                for c in 0..<columns { x[i * columns + c] -= factor * x[k * columns + c] }
            }
            let pivot = lower[i * n + i]
            for c in 0..<columns { x[i * columns + c] /= pivot }
        }
        return x
    }
}
