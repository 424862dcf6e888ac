#!/usr/bin/env python3
"""Reads a GGUF file Loom wrote with llama.cpp's own Python reader (the `gguf` package) and checks it
against the Hugging Face model directory it came from: every tensor (dequantised by gguf, with llama.cpp's
q/k layout undone for the `llama` architecture) against model.safetensors, the hyperparameters against
config.json, and the vocabulary, merges and special-token flags against tokenizer.json as the `tokenizers`
library reads it. Prints one JSON object; exits 1 when anything disagrees beyond the encoding's rounding
(f16: 1e-3 relative to the tensor's largest value; q8_0: 1/127 of each 32-block's largest value).

Usage: .venv/bin/python scripts/check-gguf.py FILE.gguf MODEL_DIR"""
import json
import os
import sys

import numpy as np
from gguf import GGUFReader
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


def main():
    path, model = sys.argv[1], sys.argv[2]
    reader = GGUFReader(path)
    config = json.load(open(os.path.join(model, "config.json")))
    weights = load_file(os.path.join(model, "model.safetensors"))
    arch = field(reader, "general.architecture")
    problems = []
    expected = {
        f"{arch}.embedding_length": config["hidden_size"], f"{arch}.block_count": config["num_hidden_layers"],
        f"{arch}.feed_forward_length": config["intermediate_size"], f"{arch}.attention.head_count": config["num_attention_heads"],
        f"{arch}.attention.head_count_kv": config.get("num_key_value_heads", config["num_attention_heads"]),
        f"{arch}.vocab_size": config["vocab_size"],
    }
    for key, value in expected.items():
        if field(reader, key) != value:
            problems.append(f"{key}: {field(reader, key)} != {value}")
    names = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    parts = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
             "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
             "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
             "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm"}
    worst = {}
    seen = set()
    for tensor in reader.tensors:
        name = tensor.name
        if name.startswith("blk."):
            _, layer, rest = name.split(".", 2)
            part, kind = rest.rsplit(".", 1)
            hf = f"model.layers.{layer}.{parts[part]}.{kind}"
        else:
            hf = names.get(name)
        if hf is None or hf not in weights:
            problems.append(f"{name}: no Hugging Face tensor {hf}")
            continue
        seen.add(hf)
        values = dequantize(tensor.data, tensor.tensor_type).reshape(weights[hf].shape).astype(np.float64)
        if arch == "llama" and hf.endswith(("q_proj.weight", "q_proj.bias")):
            values = unpermute(values, config["num_attention_heads"])
        if arch == "llama" and hf.endswith(("k_proj.weight", "k_proj.bias")):
            values = unpermute(values, config.get("num_key_value_heads", config["num_attention_heads"]))
        reference = weights[hf].astype(np.float64)
        scale = max(np.abs(reference).max(), 1e-30)
        error = np.abs(values - reference).max() / scale
        kind_name = tensor.tensor_type.name
        worst[kind_name] = max(worst.get(kind_name, 0.0), float(error))
        bound = {"F32": 1e-7, "F16": 1e-3, "Q8_0": 1 / 127}.get(kind_name, 0)
        if error > bound:
            problems.append(f"{name}: {kind_name} off by {error:.2e} of its largest value (bound {bound:.1e})")
    missing = sorted(set(weights) - seen)
    if missing:
        problems.append(f"not in the GGUF file: {missing[:5]}")

    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    tokens = field(reader, "tokenizer.ggml.tokens")
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
                      "pre": field(reader, "tokenizer.ggml.pre"),
                      "worst_relative_error": worst, "problems": problems}, sort_keys=True))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
