#!/usr/bin/env python3
"""The stages of pipelines/bigram.yaml: a torch-free miniature of Loom's saturation experiment.

A character bigram model is trained on fortunes from chosen tiers and evaluated, in bits per byte,
on fortunes held out from the core tier. Each subcommand is one `command` stage and uses only the
stage contract: $LOOM_PARAMS (its parameters), $LOOM_INPUT_<STAGE> (upstream outputs),
$LOOM_OUTPUT (its own output directory) and $LOOM_METRICS (JSON lines: metrics and progress).
"""
import collections
import glob
import hashlib
import json
import math
import os
import sys

SEPARATOR = "\n%\n"


def params():
    with open(os.environ["LOOM_PARAMS"], encoding="utf-8") as handle:
        return json.load(handle)


def output(name):
    return os.path.join(os.environ["LOOM_OUTPUT"], name)


def upstream(stage, name):
    return os.path.join(os.environ["LOOM_INPUT_" + stage.upper()], name)


def report(**fields):
    with open(os.environ["LOOM_METRICS"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps(fields) + "\n")


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False, sort_keys=True)


def fortune_files(paths):
    """Files named by the deps: patterns, directories (fortune files only) or files, sorted."""
    files = set()
    for path in paths:
        if os.path.isdir(path):
            for name in os.listdir(path):
                full = os.path.join(path, name)
                if os.path.isfile(full) and not name.endswith((".dat", ".u8")):
                    files.add(full)
        else:
            files.update(glob.glob(path) if any(c in path for c in "*?[") else [path])
    return sorted(files)


def fortunes(paths):
    for file in fortune_files(paths):
        with open(file, encoding="utf-8", errors="replace") as handle:
            for text in handle.read().split("\n%\n"):
                text = text.strip("%\n ")
                if text:
                    yield text


def identity(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def heldout():
    p = params()
    every = p["vars"]["every"]
    texts = [text for index, text in enumerate(fortunes(p["deps"])) if index % every == 0]
    write_json(output("heldout.json"), texts)
    report(key="heldout/fortunes", value=len(texts))


def corpus():
    p = params()
    held = {identity(text) for text in read_json(upstream("heldout", "heldout.json"))}
    seen, kept = set(), []
    for text in fortunes(p["deps"]):
        key = identity(text)
        if key in held or key in seen:
            continue
        seen.add(key)
        kept.append(text)
    data = SEPARATOR.join(kept)
    with open(output("train.txt"), "w", encoding="utf-8") as handle:
        handle.write(data)
    report(step=0, **{"corpus/fortunes": len(kept), "corpus/bytes": len(data.encode("utf-8"))})


def vocab():
    p = params()
    with open(upstream("corpus", "train.txt"), encoding="utf-8") as handle:
        counts = collections.Counter(handle.read())
    symbols = sorted(char for char, count in counts.items() if count >= p["vars"]["min_count"])
    write_json(output("vocab.json"), symbols)
    report(key="vocab/size", value=len(symbols))


UNKNOWN = "\uFFFD"


def encode(text, symbols):
    return [char if char in symbols else UNKNOWN for char in text]


def train():
    symbols = set(read_json(upstream("vocab", "vocab.json")))
    with open(upstream("corpus", "train.txt"), encoding="utf-8") as handle:
        text = handle.read()
    chunks = 10
    size = max(1, len(text) // chunks)
    pairs = collections.Counter()
    for index in range(chunks):
        piece = encode(text[index * size:(index + 1) * size + 1] if index < chunks - 1 else text[index * size:], symbols)
        pairs.update(zip(piece, piece[1:]))
        report(progress={"step": index + 1, "total": chunks, "message": f"{sum(pairs.values())} bigrams"})
    model = {}
    for (first, second), count in pairs.items():
        model.setdefault(first, {})[second] = count
    write_json(output("model.json"), model)
    report(step=chunks, **{"train/bigrams": sum(pairs.values()), "train/distinct_bigrams": len(pairs)})


def evaluate():
    p = params()
    smoothing = p["vars"]["smoothing"]
    symbols = set(read_json(upstream("vocab", "vocab.json")))
    model = read_json(upstream("train", "model.json"))
    size = len(symbols) + 1
    totals = {first: sum(nexts.values()) for first, nexts in model.items()}
    best = {first: max(nexts, key=nexts.get) for first, nexts in model.items()}
    bits = 0.0
    byte_count = 0
    predictions = correct = 0
    for text in read_json(upstream("heldout", "heldout.json")):
        byte_count += len(text.encode("utf-8"))
        encoded = encode(text, symbols)
        for previous, (char, symbol) in zip(encoded, list(zip(text, encoded))[1:]):
            count = model.get(previous, {}).get(symbol, 0)
            probability = (count + smoothing) / (totals.get(previous, 0) + smoothing * size)
            bits -= math.log2(probability)
            if symbol == UNKNOWN:
                bits += 8 * len(char.encode("utf-8"))
            predictions += 1
            correct += best.get(previous) == symbol
    bits_per_byte = bits / byte_count
    write_json(output("eval.json"), {"bits_per_byte": bits_per_byte, "bytes": byte_count})
    report(step=0, **{
        "eval/bits_per_byte": bits_per_byte,
        "eval/perplexity": 2 ** (bits / predictions),
        "eval/top1_accuracy": correct / predictions,
    })


def summary():
    result = read_json(upstream("eval", "eval.json"))
    with open(upstream("corpus", "train.txt"), encoding="utf-8") as handle:
        corpus_bytes = len(handle.read().encode("utf-8"))
    variant = os.environ.get("LOOM_VARIANT") or "-"
    with open(output("summary.md"), "w", encoding="utf-8") as handle:
        handle.write(f"| {variant} | {corpus_bytes} | {result['bits_per_byte']:.4f} |\n")
    report(artifact="summary", path="summary.md")


if __name__ == "__main__":
    stages = {"heldout": heldout, "corpus": corpus, "vocab": vocab, "train": train, "eval": evaluate, "summary": summary}
    if len(sys.argv) != 2 or sys.argv[1] not in stages:
        sys.exit(f"usage: bigram.py {{{','.join(stages)}}}")
    stages[sys.argv[1]]()
