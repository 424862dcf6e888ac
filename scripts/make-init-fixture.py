#!/usr/bin/env python3
"""Makes Tests/Fixtures/hidden-init/: what extend-vocab's `init: hidden` must give for new tokens of the
tiny-llama-a fixture model, computed independently of Loom — Hugging Face transformers runs the model (each
sequence on its own, unpadded: Loom batches and right-pads) and NumPy solves the ridge regression in float64
(Loom: its own Cholesky). Run with the project venv, as scripts/make-fixtures.py is:

    .venv/bin/python scripts/make-init-fixture.py

The initialiser (Sources/LLM/HiddenStateInitialization.swift): for F base tokens t, ids evenly spaced over the
vocabulary (t_i = i * V // F; F = V when fit_tokens is 0), h(t) = hidden_states[layer] at the last position of
`prefix + [t]`; ridge regression E[t] ~ (h(t) - mean_h) W + mean_e with lambda = ridge * trace(Hc^T Hc) / C;
for each new token with pieces d, the row (h(d) - mean_h) W + mean_e, h(d) read at the last piece of
`prefix + d`, rescaled to the mean L2 norm of its pieces' embedding rows.

Outputs: reference.json (each case's settings and decompositions, the versions) and expected.safetensors
(`<case>.embedding`: (new tokens, hidden) float32).
"""
import json
import os
import sys

import numpy
import torch
import transformers
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "tiny-llama-a")
OUTPUT = os.path.join(ROOT, "Tests", "Fixtures", "hidden-init")

DECOMPOSITIONS = [[10, 20, 30], [7, 300], [5], [100, 200, 300, 400, 17], [511, 0]]
CASES = {
    # A middle layer, a sample of the vocabulary, a BOS-like prefix.
    "middle": {"layer": 1, "fit_tokens": 200, "ridge": 0.01, "prefix": [1]},
    # The last hidden state (after the final norm), every base token, no prefix: pieces sit at position 0.
    "last": {"layer": -1, "fit_tokens": 0, "ridge": 0.1, "prefix": []},
}


def hidden_at_last(model, sequence, layer):
    with torch.no_grad():
        output = model(torch.tensor([sequence]), output_hidden_states=True)
    return output.hidden_states[layer][0, -1].double().numpy()


def rows(model, embedding, case):
    vocabulary, width = embedding.shape
    count = case["fit_tokens"]
    fit_ids = list(range(vocabulary)) if count == 0 or count >= vocabulary else [i * vocabulary // count for i in range(count)]
    layer = case["layer"]
    hidden = numpy.stack([hidden_at_last(model, case["prefix"] + [t], layer) for t in fit_ids])
    targets = embedding[fit_ids]
    hidden_mean, target_mean = hidden.mean(axis=0), targets.mean(axis=0)
    centred = hidden - hidden_mean
    gram = centred.T @ centred
    ridge = case["ridge"] * numpy.trace(gram) / width
    mapping = numpy.linalg.solve(gram + ridge * numpy.eye(width), centred.T @ (targets - target_mean))
    new_hidden = numpy.stack([hidden_at_last(model, case["prefix"] + pieces, layer) for pieces in DECOMPOSITIONS])
    new = (new_hidden - hidden_mean) @ mapping + target_mean
    norms = numpy.linalg.norm(embedding, axis=1)
    wanted = numpy.array([norms[pieces].mean() for pieces in DECOMPOSITIONS])
    return new * (wanted / numpy.linalg.norm(new, axis=1))[:, None]


def main():
    model = transformers.AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    embedding = model.get_input_embeddings().weight.detach().double().numpy()
    os.makedirs(OUTPUT, exist_ok=True)
    tensors = {f"{name}.embedding": torch.from_numpy(rows(model, embedding, case)).float().contiguous() for name, case in CASES.items()}
    save_file(tensors, os.path.join(OUTPUT, "expected.safetensors"))
    reference = {"model": "tiny-llama-a", "decompositions": DECOMPOSITIONS, "cases": CASES,
                 "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": numpy.__version__}}
    with open(os.path.join(OUTPUT, "reference.json"), "w") as file:
        json.dump(reference, file, indent=1, sort_keys=True)
        file.write("\n")
    print(f"make-init-fixture: wrote {os.path.relpath(OUTPUT, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
