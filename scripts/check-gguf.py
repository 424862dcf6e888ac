#!/usr/bin/env python3
"""Reads a GGUF file Loom wrote with llama.cpp's own Python reader (the `gguf` package) and checks it
against the Hugging Face model directory it came from: every tensor under the name llama.cpp's own table
gives it for the architecture (gguf's TensorNameMap; dequantised by gguf, with llama.cpp's q/k layout undone
for the `llama` architecture, and Gemma's norms stored as 1 + w, as transformers' GGUF loader undoes them)
against model.safetensors, the hyperparameters against config.json, and the vocabulary, merges and
special-token flags against tokenizer.json as the `tokenizers` library reads it. With --transformers it also
loads the file with transformers' own GGUF loader and compares its logits with the directory's model (its
matrices rounded as the file stores them: the same computation up to float summation order). With
--llama-cpp it runs llama.cpp itself (libllama through the `llama_cpp` binding, on the CPU): its logits for
48 tokens of text against transformers running the directory's model with the weights the file holds (as
gguf dequantises them), and its tokenization of a few texts (English, Russian, digits, whitespace, emoji)
against `tokenizers` — exactly. For a hyperword-extended tokenizer (a directory with hyperwords.json)
llama.cpp splits text by its own built-in pattern, the base one, so the reference is `tokenizers` with the
same file's split pattern put back to the base one (`(?: \\p{L}+)*` taken out): every merge applies, but
only inside a word's pre-token — single-word hyperwords form, phrases do not; the JSON gives both token
counts. Prints one JSON object; exits 1 when anything disagrees beyond the encoding's
rounding (f16: 1e-3 relative to the tensor's largest value; q8_0: 1/127 of each 32-block's largest value).

--llama-cpp-against=OTHER.gguf also runs llama.cpp on OTHER (e.g. what llama.cpp's own convert_hf_to_gguf.py
writes from MODEL_DIR) and reports the largest difference between the two files' logits.

Usage: .venv/bin/python scripts/check-gguf.py FILE.gguf MODEL_DIR [--transformers] [--llama-cpp
                                              [--llama-cpp-against=OTHER.gguf]]"""
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


TEXTS = ["Hello, world! It's 2026 and the model's tokenizer is checked.", "  two spaces,\ttabs\nand new lines\n\n",
         "Привет, мир! Никогда не говори «никогда» — в том числе сегодня.", "digits 1234567 and 3.14159; emoji 🙂👍",
         "naïve café, Ærøskøbing, 東京"]


JOINED_WORDS = "(?: \\p{L}+)*"  # what a hyperword-extended split pattern adds to its base pattern


def base_split(tokenizer_file):
    """The tokenizer of `tokenizer_file` with its split pattern put back to the base one (words no longer
    joined over spaces): what llama.cpp, which splits by its built-in base pattern, computes."""
    from tokenizers import Tokenizer

    def unjoin(node):
        if isinstance(node, dict):
            return {key: (value.replace(JOINED_WORDS, "") if key == "Regex" else unjoin(value)) for key, value in node.items()}
        return [unjoin(item) for item in node] if isinstance(node, list) else node
    with open(tokenizer_file) as file:
        document = json.load(file)
    document["pre_tokenizer"] = unjoin(document["pre_tokenizer"])
    return Tokenizer.from_str(json.dumps(document))


def text_ids(tokenizer):
    """48 tokens of real text (the texts below, as `tokenizers` encodes them): a model's activations on
    random ids are atypical."""
    return tokenizer.encode(" ".join(TEXTS), add_special_tokens=False).ids[:48]


def llama_cpp_logits(path, ids):
    """llama.cpp (libllama on the CPU) loaded with the GGUF file at `path`, and its logits for `ids`."""
    import llama_cpp
    llm = llama_cpp.Llama(model_path=path, n_ctx=64, n_batch=64, logits_all=True, n_threads=os.cpu_count() or 1, verbose=False)
    llm.eval(ids)
    return llm, np.array(llm.scores[:len(ids)], dtype=np.float64)


def llama_cpp_figures(path, model, vocab, file_weights, tokenizer):
    """llama.cpp itself against transformers running the weights the file holds, and its tokenizer
    against `tokenizers` (for a hyperword-extended one, with the file's split pattern put back to the base one)."""
    import llama_cpp
    import torch
    from transformers import AutoModelForCausalLM
    ids = text_ids(tokenizer)
    llm, ours = llama_cpp_logits(path, ids)
    reference = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    with torch.no_grad():
        state = reference.state_dict()
        for name, values in file_weights.items():
            if name in state and state[name].dim() == 2:
                state[name].copy_(torch.from_numpy(values).to(torch.float32))
        expected = reference(torch.tensor([ids])).logits[0].double().numpy()
    hyperwords_file = os.path.join(model, "hyperwords.json")
    extended = os.path.exists(hyperwords_file)
    hyperwords = {"tokens": [], "base_vocabulary_size": vocab}
    if extended:
        with open(hyperwords_file) as file:
            hyperwords = json.load(file)
    reference_tokenizer = base_split(os.path.join(model, "tokenizer.json")) if extended else tokenizer
    first_new = hyperwords["base_vocabulary_size"]
    # For an extended tokenizer also 10 one-word and 10 several-word hyperwords (of those that start with a
    # space), each after a word ("Да").
    entries = [entry for entry in hyperwords["tokens"] if entry["text"].startswith(" ")]
    phrases = ([("Да" + entry["text"], 1) for entry in entries if entry["words"] == 1][:10]
               + [("Да" + entry["text"], entry["words"]) for entry in entries if entry["words"] > 1][:10])
    texts = []
    for text, words in [(text, None) for text in TEXTS] + phrases:
        hf = tokenizer.encode(text, add_special_tokens=False).ids
        cpp = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        texts.append({"text": text, "agrees": reference_tokenizer.encode(text, add_special_tokens=False).ids == cpp,
                      "tokenizers": len(hf), "llama_cpp": len(cpp), "hyperwords_tokenizers": sum(i >= first_new for i in hf),
                      "hyperwords_llama_cpp": sum(i >= first_new for i in cpp), "hyperword_words": words})

    def log_softmax(x):
        shifted = x - x.max(-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    reference_log_p, our_log_p = log_softmax(expected), log_softmax(ours)
    kl = (np.exp(reference_log_p) * (reference_log_p - our_log_p)).sum(-1)  # KL(transformers ‖ llama.cpp) per position
    return {"llama_cpp_version": getattr(llama_cpp, "__version__", "?"),
            "max_abs_logit_difference": float(np.abs(ours - expected).max()),
            "mean_abs_logit_difference": float(np.abs(ours - expected).mean()), "mean_kl": float(kl.mean()), "max_kl": float(kl.max()),
            "logit_scale": float(np.abs(expected).max()),
            "top1_agreement": float((ours.argmax(-1) == expected.argmax(-1)).mean()),
            "tokenization": texts, "extended_tokenizer": extended}


def llama_cpp_against(path, other, tokenizer):
    """The largest difference between llama.cpp's logits for the same tokens from two GGUF files (e.g. this
    one and the one llama.cpp's convert_hf_to_gguf.py writes from the same directory)."""
    ids = text_ids(tokenizer)
    return float(np.abs(llama_cpp_logits(path, ids)[1] - llama_cpp_logits(other, ids)[1]).max())


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
    file_weights = {}  # Hugging Face name → the values the file holds (dequantised, in Hugging Face's layout)
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
        file_weights[hf] = values
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
    cpp = None
    if any(arg == "--llama-cpp" or arg.startswith("--llama-cpp-against=") for arg in sys.argv[3:]):
        cpp = llama_cpp_figures(path, model, config["vocab_size"], file_weights, tokenizer)
        # llama.cpp's CPU matrix products take the activations in the weights' vector type: f16, or 8-bit
        # blocks of 32 for q8_0 — a rounding the reference (transformers on the file's own weights) does not
        # make. Measured on SmolLM2-135M: mean KL 4e-6 (f16) and 4.5e-3 (q8_0), the same as for the files
        # llama.cpp's own convert_hf_to_gguf.py writes (their logits in llama.cpp equal these files' exactly).
        quantized = "Q8_0" in worst
        bound = 2e-2 if quantized else 1e-3
        if cpp["mean_kl"] > bound:
            problems.append(f"llama.cpp: mean KL {cpp['mean_kl']:.2e} from transformers' distribution (bound {bound:.0e})")
        if not quantized and cpp["max_abs_logit_difference"] > 0.02 * max(cpp["logit_scale"], 1.0):
            problems.append(f"llama.cpp: logits off by {cpp['max_abs_logit_difference']:.2e} (bound 2 % of {cpp['logit_scale']:.2e})")
        other = next((arg.split("=", 1)[1] for arg in sys.argv[3:] if arg.startswith("--llama-cpp-against=")), None)
        if other:
            cpp["against"] = {"file": other, "max_abs_logit_difference": llama_cpp_against(path, other, tokenizer)}
        for entry in cpp["tokenization"]:
            if not entry["agrees"]:
                problems.append(f"llama.cpp tokenizes {entry['text']!r} otherwise than tokenizers"
                                + (" with the base split pattern" if cpp["extended_tokenizer"] else ""))
    print(json.dumps({"architecture": arch, "tensors": len(reader.tensors), "tokens": len(tokens),
                      "pre": field(reader, "tokenizer.ggml.pre"), "transformers_max_abs_logit_difference": logits,
                      "llama_cpp": cpp, "worst_relative_error": worst, "problems": problems}, sort_keys=True))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
