#!/usr/bin/env python3
"""Makes the model fixtures under Tests/Fixtures/ from Hugging Face transformers, so that every expected
value Loom is tested against comes from the reference implementation, and can be made again.

Run with the project venv after `make venv-hf` (pinned transformers / PEFT / torch):

    .venv/bin/python scripts/make-fixtures.py rope-scaling     # Tests/Fixtures/rope-scaling/

Fixtures:
  rope-scaling  one tiny random Llama (vocab 128, hidden 64, 2 layers, 4 heads / 2 KV heads, head_dim 16,
                rope_theta 10 000, max_position_embeddings 64) whose weights are refilled far from the
                default init, and its logits over one 48-token sequence under each rope_scaling type Loom
                reads: linear (factor 2), llama3 (factor 8, low/high freq factors 1/4, original 16 positions)
                and yarn (factor 4, original 16, default betas, attention factor from the factor). The
                sequence runs past the original context, so every scaled band of frequencies moves the
                logits. Layout: model.safetensors and input_ids.json shared; <type>/config.json,
                <type>/logits.safetensors and <type>/model.safetensors (a relative symlink to the shared
                weights); reference.json holds the versions and each type's loss.

The fixtures the repo had before this script (tiny-llama-a, tokenizers) were made by the recipe in
../shared/fixtures/README.md; they are not regenerated here yet.
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
    """Every weight from a seeded generator, far from transformers' init: a RoPE, mask or norm mistake
    then moves the logits by whole units (the recipe of ../shared/fixtures' tiny-llama-a)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                parameter.copy_(1 + 0.1 * torch.randn(parameter.shape, generator=generator))
            else:
                parameter.copy_(0.12 * torch.randn(parameter.shape, generator=generator))


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


FIXTURE_MAKERS = {"rope-scaling": rope_scaling}


def main():
    names = sys.argv[1:] or sorted(FIXTURE_MAKERS)
    for name in names:
        if name not in FIXTURE_MAKERS:
            sys.exit(f"make-fixtures: unknown fixture '{name}' (known: {', '.join(sorted(FIXTURE_MAKERS))})")
    torch.use_deterministic_algorithms(True)
    for name in names:
        FIXTURE_MAKERS[name]()


if __name__ == "__main__":
    main()
