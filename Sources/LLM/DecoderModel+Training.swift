// DecoderModel+Training — the model as the Trainer sees it (TrainableLanguageModel): the loss, the
// adapter's tensors under their PEFT names, dropout on/off, and the adapter directory as the trainable
// state. `loss(tokens:)`, `trainableParameters` and `isTraining` are defined with the forward pass
// and the adapter.
import Foundation

extension DecoderModel: TrainableLanguageModel {
    /// Writes the attached adapter as a PEFT adapter directory.
    public func saveTrainableState(to directory: URL) throws {
        try saveAdapter(to: directory)
    }

    /// Copies a saved adapter's values into the attached adapter in place.
    public func loadTrainableState(from directory: URL) throws {
        try restoreAdapter(from: directory)
    }
}
