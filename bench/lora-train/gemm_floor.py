#!/usr/bin/env python3
"""bench/lora-train/gemm_floor.py — the GEMM floor of a LoRA training step: the frozen-weight GEMMs and
the head GEMMs that one step of bench/lora-train must run (the same shapes, transposes and order as
Loom's step; the same MKL, from the project venv's torch), replayed alone and timed. What a step costs
above this floor is everything else: attention, the LoRA GEMMs, norms, activations, autograd, the
optimizer. It reads a ratio against: if HF+PEFT's step takes H ms and the floor F ms, no kernel work can
take Loom past H / F.

Per layer, forward: x·Wqkvᵀ (q, k, v joined, as Loom's projection groups run them), x·Woᵀ, x·Wgate_upᵀ,
h·Wdownᵀ; backward, the input gradients g·W of the four (none for layer 0's q/k/v, whose input is the
embedding and needs no gradient). Head: logits and the input gradient by chunks of 8 MiB of logits, as
Loom's fused head + cross-entropy runs them. Not in the floor: the attention kernel's own small GEMMs and
LoRA's rank-r GEMMs.

Usage: .venv/bin/python bench/lora-train/gemm_floor.py [--shapes bench,smollm2-135m] [--rounds N]
(the shapes of bench/lora-train/run; `tiny` checks the script in a second)
Prints one JSON object: per shape the floor's median over the rounds (ms), its parts, its GFLOP/s, and the
2048² f32 GEMM rate measured in the same process.
"""
import argparse
import importlib.machinery
import importlib.util
import json
import os
import statistics
import sys
import time

import torch


# The shapes are bench/lora-train/run's own (its SHAPES table; the script has no .py suffix, so it is loaded
# by path — its main() runs only as a script).
_loader = importlib.machinery.SourceFileLoader("lora_train_run", os.path.join(os.path.dirname(os.path.abspath(__file__)), "run"))
_run = importlib.util.module_from_spec(importlib.util.spec_from_loader(_loader.name, _loader))
_loader.exec_module(_run)
SHAPES = _run.SHAPES
CHUNK_BYTES = 8 << 20


def timed(function):
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def floor(shape, rounds):
    rows, d, inter, vocab = shape["batch"] * shape["seq"], shape["hidden"], shape["intermediate"], shape["vocab"]
    head_dim = d // shape["heads"]
    qkv_out = (shape["heads"] + 2 * shape["kv_heads"]) * head_dim
    g = torch.Generator().manual_seed(0)
    w = {"qkv": torch.randn(qkv_out, d, generator=g), "o": torch.randn(d, shape["heads"] * head_dim, generator=g),
         "gate_up": torch.randn(2 * inter, d, generator=g), "down": torch.randn(d, inter, generator=g),
         "head": torch.randn(vocab, d, generator=g)}
    x, attended, activated = torch.randn(rows, d, generator=g), torch.randn(rows, w["o"].shape[1], generator=g), torch.randn(rows, inter, generator=g)
    grads = {name: torch.randn(rows, weight.shape[0], generator=g) for name, weight in w.items() if name != "head"}
    outs = {name: torch.empty(rows, weight.shape[0]) for name, weight in w.items() if name != "head"}
    inputs = {"qkv": x, "o": attended, "gate_up": x, "down": activated}
    input_grads = {name: torch.empty_like(tensor) for name, tensor in inputs.items()}
    chunk = max(64, min(rows, CHUNK_BYTES // (4 * vocab)))
    logits, hidden_grad = torch.empty(chunk, vocab), torch.empty(chunk, d)

    def forward():
        for _ in range(shape["layers"]):
            for name in ["qkv", "o", "gate_up", "down"]:
                torch.mm(inputs[name], w[name].t(), out=outs[name])

    def backward():
        for layer in range(shape["layers"]):
            for name in ["down", "gate_up", "o", "qkv"]:
                if layer == 0 and name == "qkv":
                    continue
                torch.mm(grads[name], w[name], out=input_grads[name])

    def head():
        for start in range(0, rows, chunk):
            count = min(chunk, rows - start)
            torch.mm(x[start:start + count], w["head"].t(), out=logits[:count])
            torch.mm(logits[:count], w["head"], out=hidden_grad[:count])

    parts = {"forward": forward, "backward": backward, "head": head}
    for function in parts.values():
        function()  # warm-up
    times = {name: [] for name in parts}
    for _ in range(rounds):
        for name, function in parts.items():
            times[name].append(timed(function))
    medians = {name: statistics.median(values) for name, values in times.items()}
    total = sum(medians.values())
    flops = 2 * rows * (shape["layers"] * sum(w[n].numel() for n in ["qkv", "o", "gate_up", "down"]) * 2
                        - w["qkv"].numel() + 2 * w["head"].numel())
    return {"floor_ms": round(total, 1), "parts_ms": {k: round(v, 1) for k, v in medians.items()},
            "tokens_per_step": rows, "floor_tokens_per_second": round(rows / total * 1000, 1),
            "gflops": round(flops / total / 1e6, 1), "chunk_rows": chunk}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="bench,smollm2-135m")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    threads = int(os.environ.get("LOOM_THREADS", os.cpu_count() or 1))
    torch.set_num_threads(threads)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    torch.mm(a, b)
    rate = 2 * 2048 ** 3 / (statistics.median(timed(lambda: torch.mm(a, b)) for _ in range(5)) / 1000) / 1e9
    result = {"torch": torch.__version__, "threads": threads, "fp32_matmul_2048_gflops": round(rate, 1), "shapes": {}}
    for name in args.shapes.split(","):
        if name not in SHAPES:
            sys.exit(f"gemm_floor.py: unknown shape {name!r}; expected one of {', '.join(SHAPES)}")
        result["shapes"][name] = floor(SHAPES[name], args.rounds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
