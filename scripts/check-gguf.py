#!/usr/bin/env python3
"""Reads a GGUF file Loom wrote with llama.cpp's own Python reader (the `gguf` package) and checks it
against the Hugging Face model directory it came from: every tensor under the name llama.cpp's own table
gives it for the architecture (gguf's TensorNameMap; dequantised by gguf, with llama.cpp's q/k layout undone
for the `llama` architecture, and Gemma's norms stored as 1 + w, as transformers' GGUF loader undoes them)
against model.safetensors, the hyperparameters against config.json, and the vocabulary, merges and
special-token flags against tokenizer.json as the `tokenizers` library reads it. With --transformers it also
loads the file with transformers' own GGUF loader and compares its logits with the directory's model (its
matrices rounded as the file stores them: the same computation up to float summation order). Prints one
JSON object; exits 1 when anything disagrees beyond the encoding's rounding (f16: 1e-3 relative to the
tensor's largest value; q8_0: 1/127 of each 32-block's largest value).

Usage: .venv/bin/python scripts/check-gguf.py FILE.gguf MODEL_DIR [--transformers]"""
import json
import os
import sys

import numpy as np
from gguf import MODEL_ARCH_NAMES, MODEL_TENSORS, TENSOR_NAMES, GGUFReader, get_tensor_name_map
from gguf.quants import dequantize
from safetensors.numpy import load_file


def field(reader, key):
    value = reader.fields.get(key)
    if value is None:
        return None
    parts = [value.parts[index] for index in value.data]
    if value.types and value.types[0].name == "STRING":
        return bytes(parts[0]).decode("utf-8")
    if value.types and value.types[0].name == "ARRAY":
        if value.types[-1].name == "STRING":
            return [bytes(part).decode("utf-8") for part in parts]
        return [part.tolist()[0] for part in parts]
    return parts[0].tolist()[0]


def unpermute(weight, heads):
    """The inverse of convert_hf_to_gguf.py's permute (rotary halves interleaved per head)."""
    shape = weight.shape
    return weight.reshape(heads, shape[0] // heads // 2, 2, *shape[1:]).swapaxes(1, 2).reshape(shape)


def transformers_logits(path, model, vocab):
    """transformers' GGUF loader against the directory's model, its matrices rounded as the file's are."""
    import torch
    from transformers import AutoModelForCausalLM
    loaded = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path), dtype=torch.float32)
    reference = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    with torch.no_grad():
        for parameter in reference.parameters():
            if parameter.dim() == 2:
                parameter.copy_(parameter.half().float())
        ids = torch.randint(0, vocab, (2, 24), generator=torch.Generator().manual_seed(0))
        return float((loaded(ids).logits - reference(ids).logits).abs().max())


def main():
    path, model = sys.argv[1], sys.argv[2]
    reader = GGUFReader(path)
    config = json.load(open(os.path.join(model, "config.json")))
    config = config.get("text_config", config)
    weights = load_file(os.path.join(model, "model.safetensors"))
    arch = field(reader, "general.architecture")
    problems = []
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    rope = config.get("rope_parameters") or {}
    rotary = int(head_dim * (config.get("partial_rotary_factor") or rope.get("partial_rotary_factor") or 1.0))
    expected = {
        f"{arch}.embedding_length": config["hidden_size"], f"{arch}.block_count": config["num_hidden_layers"],
        f"{arch}.feed_forward_length": config["intermediate_size"], f"{arch}.attention.head_count": config["num_attention_heads"],
        f"{arch}.attention.head_count_kv": config.get("num_key_value_heads", config["num_attention_heads"]),
        f"{arch}.vocab_size": config["vocab_size"], f"{arch}.rope.dimension_count": rotary,
        f"{arch}.attention.key_length": head_dim,
    }
    if config.get("sliding_window"):
        expected[f"{arch}.attention.sliding_window"] = config["sliding_window"]
    if arch == "gemma2":
        expected["gemma2.attn_logit_softcapping"] = config["attn_logit_softcapping"]
        expected["gemma2.final_logit_softcapping"] = config["final_logit_softcapping"]
    for key, value in expected.items():
        found = field(reader, key)
        if found is None or abs(found - value) > 1e-6 * max(1, abs(value)):
            problems.append(f"{key}: {found} != {value}")
    # llama.cpp's own table: the Hugging Face name of each tensor its architecture knows.
    model_arch = next(key for key, name in MODEL_ARCH_NAMES.items() if name == arch)
    table = get_tensor_name_map(model_arch, config["num_hidden_layers"])
    known = {TENSOR_NAMES[tensor].format(bid=layer) for tensor in MODEL_TENSORS[model_arch]
             for layer in range(config["num_hidden_layers"])}
    gguf_name = {}
    for hf in weights:
        base, kind = hf.rsplit(".", 1)
        mapped = table.get_name(base)
        if mapped is None:
            problems.append(f"{hf}: llama.cpp's {arch} has no name for it")
        else:
            gguf_name[f"{mapped}.{kind}"] = hf
    worst = {}
    seen = set()
    for tensor in reader.tensors:
        name = tensor.name
        if name.rsplit(".", 1)[0] not in known:
            problems.append(f"{name}: not a tensor llama.cpp's {arch} reads")
        hf = gguf_name.get(name)
        if hf is None:
            problems.append(f"{name}: no Hugging Face tensor under llama.cpp's name")
            continue
        seen.add(hf)
        values = dequantize(tensor.data, tensor.tensor_type).reshape(weights[hf].shape).astype(np.float64)
        if arch == "llama" and hf.endswith(("q_proj.weight", "q_proj.bias")):
            values = unpermute(values, config["num_attention_heads"])
        if arch == "llama" and hf.endswith(("k_proj.weight", "k_proj.bias")):
            values = unpermute(values, config.get("num_key_value_heads", config["num_attention_heads"]))
        if arch.startswith("gemma") and name.endswith("norm.weight"):
            values = values - 1  # transformers' Gemma2TensorProcessor: llama.cpp stores Gemma's (1 + w)
        reference = weights[hf].astype(np.float64)
        scale = max(np.abs(reference).max(), 1e-30)
        error = np.abs(values - reference).max() / scale
        kind_name = tensor.tensor_type.name
        worst[kind_name] = max(worst.get(kind_name, 0.0), float(error))
        # Gemma's f32 norms went through (1 + w) and back: one f32 rounding of a value near 1.
        bound = {"F32": 1e-6 if arch.startswith("gemma") else 1e-7, "F16": 1e-3, "Q8_0": 1 / 127}.get(kind_name, 0)
        if error > bound:
            problems.append(f"{name}: {kind_name} off by {error:.2e} of its largest value (bound {bound:.1e})")
    missing = sorted(set(weights) - seen)
    if missing:
        problems.append(f"not in the GGUF file: {missing[:5]}")
    logits = None
    if "--transformers" in sys.argv[3:]:
        logits = transformers_logits(path, model, config["vocab_size"])
        if logits > 1e-4:
            problems.append(f"transformers' GGUF loader: logits off by {logits:.2e} (bound 1e-4)")

    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    tokens = field(reader, "tokenizer.ggml.tokens")
    if len(tokens) != config["vocab_size"]:
        problems.append(f"{len(tokens)} tokens for {config['vocab_size']} embedding rows (llama.cpp needs one per row)")
    vocabulary = {token: index for index, token in enumerate(tokens)}
    disagreeing = [token for token, index in tokenizer.get_vocab(with_added_tokens=True).items() if vocabulary.get(token) != index]
    if disagreeing:
        problems.append(f"{len(disagreeing)} tokens at other ids than tokenizer.json's, e.g. {disagreeing[:3]}")
    document = json.load(open(os.path.join(model, "tokenizer.json")))
    merges = [" ".join(merge) if isinstance(merge, list) else merge for merge in document["model"].get("merges", [])]
    if field(reader, "tokenizer.ggml.model") == "gpt2" and field(reader, "tokenizer.ggml.merges") != merges:
        problems.append("tokenizer.ggml.merges differ from tokenizer.json's merges")
    with_bos = tokenizer.encode("hello").ids
    plain = tokenizer.encode("hello", add_special_tokens=False).ids
    if bool(field(reader, "tokenizer.ggml.add_bos_token")) != (len(with_bos) > len(plain) and with_bos[1:] == plain):
        problems.append("tokenizer.ggml.add_bos_token disagrees with the tokenizer's post-processor")
    print(json.dumps({"architecture": arch, "tensors": len(reader.tensors), "tokens": len(tokens),
                      "pre": field(reader, "tokenizer.ggml.pre"), "transformers_max_abs_logit_difference": logits,
                      "worst_relative_error": worst, "problems": problems}, sort_keys=True))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
