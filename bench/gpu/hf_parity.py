#!/usr/bin/env python3
"""bench/gpu's transformers side of the parity check: the same model (and PEFT adapter) on the same device,
in f32, eager attention: its loss over the token sequences, and the largest difference between its logits
and the ones `loom-bench parity --logits-out` wrote. Prints one JSON line."""
import argparse
import json

import torch
import transformers
from safetensors.torch import load_file


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--tokens", required=True, help="a JSON array of equally long token-id arrays")
    parser.add_argument("--adapter", help="a PEFT adapter directory")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--loom-logits", required=True, help="safetensors with key `logits` from loom-bench parity")
    args = parser.parse_args()
    device = torch.device(args.device)
    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="eager")
    if args.adapter:
        import peft
        model = peft.PeftModel.from_pretrained(model, args.adapter)
    model = model.to(device).eval()
    with open(args.tokens) as file:
        ids = torch.tensor(json.load(file), dtype=torch.long, device=device)
    with torch.no_grad():
        output = model(input_ids=ids, labels=ids)
    loom = load_file(args.loom_logits)["logits"].to(torch.float64)
    difference = (output.logits.detach().to("cpu", torch.float64) - loom).abs().max().item()
    print(json.dumps({
        "device": str(device), "torch": torch.__version__, "transformers": transformers.__version__,
        "loss": output.loss.item(), "max_abs_logit_difference_vs_loom": difference,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32 if device.type == "cuda" else None,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
