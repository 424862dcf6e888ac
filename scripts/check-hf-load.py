#!/usr/bin/env python3
"""Check that Loom's model outputs load in Hugging Face transformers + PEFT
and compute the same numbers Loom computes.

Given the directories a Loom pipeline wrote:

  --base      the `pretrain-base` output (HF Llama model dir + tokenizer)
  --extended  the `extend-vocab` output (resized HF model dir + extended tokenizer.json)
  --adapter   a `train` output (PEFT LoRA adapter dir, optionally with trainable token rows)
  --loom      the `loom` binary (its `score` and `generate` verbs run loom-torch)

it runs these checks and prints ONE JSON object on stdout:

  a  tokenizer       (extra) AutoTokenizer on base and extended dirs vs `loom tokenize`:
                     identical ids, and decode() round-trips the text.
  b  adapter_loss    PeftModel(extended + adapter): token-weighted mean next-token
                     cross-entropy in transformers vs `loom score --adapter`.
  c  base_loss       base model alone: transformers vs `loom score`.
     extended_loss   (extra) extended model without adapter: transformers vs `loom score`.
  d  merged          merge_and_unload() -> save_pretrained -> reload: loss unchanged
                     (vs the PEFT model), and `loom score` on the merged dir agrees too.
  e  generation      greedy continuation, transformers generate(do_sample=False) on
                     the PEFT model vs `loom generate --temperature 0`: identical ids.

Each check has "pass": true/false against --loss-tol (default 1e-4, absolute,
nats/token) or exact id equality; a check that raised records "error" with
the exception text instead. The top-level "pass" is true when every check passed.

Usage:
  python check_hf.py --base BASE --extended EXT --adapter ADAPTER --loom /path/to/loom
  (optional: --tokens FILE to score your own JSON array of id arrays with the
   extended tokenizer's ids; --max-new N; --loss-tol T; --keep-merged DIR)

Needs: torch, transformers, peft, safetensors, tokenizers. CPU is enough.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging as hf_logging

# Fixed Russian sentences: each encodes to >= 20 tokens with the extended
# tokenizer (BOS included) and several hit hyperword ids (>= base vocab size),
# so the adapter's trainable token rows are exercised. Different lengths also
# make Loom pad inside a batch.
SENTENCES = [
    "Любовь — это когда жена говорит мужу: в том числе и потому что. "
    "Русская пословица говорит об этом лучше.",
    "Евгений Кащеев сказал, что русская пословица не врёт, и жена с ним согласилась.",
    "Однажды вечером мы пошли в лес, и там было очень темно, потому что луна "
    "спряталась за тучи, а мы забыли фонарь дома.",
]
MIN_TOKENS = 20
PROMPT_LEN = 8  # tokens (BOS included) taken from each sequence as a generation prompt


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

def load_model(path):
    """Load an HF causal LM in float32, eval mode."""
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.eval()
    return model


def encode(tokenizer, texts):
    """Token ids with BOS first (the tokenizer_config's add_bos_token)."""
    seqs = [tokenizer(t)["input_ids"] for t in texts]
    for s in seqs:
        if s[0] != tokenizer.bos_token_id:
            s.insert(0, tokenizer.bos_token_id)
    return seqs


@torch.no_grad()
def hf_loss(model, seqs):
    """Token-weighted mean next-token cross-entropy over all sequences,
    the quantity `loom score` reports as mean_loss.

    Each sequence is run on its own (no padding); transformers shifts the
    labels itself (labels = input_ids), so model(...).loss is the mean over
    that sequence's len-1 predicted tokens: weight it back to a sum.
    Also returns the per-sequence means and the logits (for logit diffs)."""
    total, count, per_seq, logits = 0.0, 0, [], []
    for s in seqs:
        ids = torch.tensor([s])
        out = model(input_ids=ids, labels=ids)
        n = len(s) - 1
        total += out.loss.double().item() * n
        count += n
        per_seq.append(out.loss.item())
        logits.append(out.logits[0].float())
    return total / count, count, per_seq, logits


def run_loom(loom, args):
    """Run a loom verb with --json; return the parsed object or raise with stderr."""
    proc = subprocess.run([loom] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"`loom {' '.join(args)}` exited {proc.returncode}: "
            f"{proc.stderr.strip() or proc.stdout.strip()}")
    return json.loads(proc.stdout)


def loom_loss(loom, model_dir, tokens_file, adapter=None):
    args = ["score", "--model", model_dir, "--tokens", tokens_file, "--json"]
    if adapter:
        args[3:3] = ["--adapter", adapter]
    return run_loom(loom, args)


def compare_loss(name, loom, model, model_dir, seqs, tokens_file, tol, adapter=None):
    """One loss check: transformers vs loom score on the same token file."""
    hf_mean, n_tok, per_seq, _ = hf_loss(model, seqs)
    lo = loom_loss(loom, model_dir, tokens_file, adapter)
    diff = abs(hf_mean - lo["mean_loss"])
    return {
        "check": name,
        "hf_mean_loss": hf_mean,
        "loom_mean_loss": lo["mean_loss"],
        "abs_diff": diff,
        "hf_tokens": n_tok,
        "loom_tokens": lo.get("tokens"),
        "hf_per_sequence_loss": per_seq,
        "tolerance": tol,
        "pass": diff <= tol and lo.get("tokens") == n_tok,
    }


def guarded(fn):
    """Run one check; turn an exception into a failed result with its text."""
    try:
        return fn()
    except Exception as exc:  # report, never hide
        return {"pass": False, "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=3)}


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="pretrain-base output dir")
    ap.add_argument("--extended", required=True, help="extend-vocab output dir")
    ap.add_argument("--adapter", required=True, help="train output dir (PEFT adapter)")
    ap.add_argument("--loom", required=True, help="path to the loom binary")
    ap.add_argument("--tokens", help="JSON array of id arrays (extended ids) to use "
                    "instead of the built-in sentences")
    ap.add_argument("--max-new", type=int, default=12)
    ap.add_argument("--loss-tol", type=float, default=1e-4)
    ap.add_argument("--keep-merged", help="save the merged model here instead of a temp dir")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--keep-work", action="store_true",
                    help="keep the temp dir (token files, merged model) instead of deleting it")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    hf_logging.set_verbosity_error()          # keep stdout to one JSON object
    warnings.filterwarnings("ignore", category=FutureWarning)

    base_dir, ext_dir, ad_dir = (os.path.abspath(p) for p in (args.base, args.extended, args.adapter))
    work = tempfile.mkdtemp(prefix="loom-hf-check-")
    result = {"versions": {"torch": torch.__version__,
                           "transformers": __import__("transformers").__version__,
                           "peft": __import__("peft").__version__},
              "inputs": {"base": base_dir, "extended": ext_dir, "adapter": ad_dir,
                         "loom": args.loom}, "checks": {}}
    training = os.path.join(ad_dir, "training.json")
    if os.path.exists(training):
        result["inputs"]["adapter_method"] = json.load(open(training)).get("method")
    checks = result["checks"]

    # --- token sequences (extended ids for b/d/e, base ids for c) -----------
    ext_tok = AutoTokenizer.from_pretrained(ext_dir)
    base_tok = AutoTokenizer.from_pretrained(base_dir)
    if args.tokens:
        ext_seqs = json.load(open(args.tokens))
    else:
        ext_seqs = encode(ext_tok, SENTENCES)
    base_seqs = encode(base_tok, SENTENCES)
    for s in ext_seqs:
        assert len(s) >= MIN_TOKENS, f"sequence shorter than {MIN_TOKENS} tokens: {s}"
    ext_file = os.path.join(work, "tokens-extended.json")
    base_file = os.path.join(work, "tokens-base.json")
    json.dump(ext_seqs, open(ext_file, "w"))
    json.dump(base_seqs, open(base_file, "w"))
    result["inputs"]["extended_token_ids"] = ext_seqs
    result["inputs"]["base_token_ids"] = base_seqs

    # --- a (extra): tokenizers vs `loom tokenize` ------------------------------
    def check_tokenizer():
        cases = []
        for name, d, tok in (("base", base_dir, base_tok), ("extended", ext_dir, ext_tok)):
            for i, text in enumerate(SENTENCES):
                path = os.path.join(work, f"text-{i}.txt")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                # `loom tokenize` adds no BOS/EOS: compare with add_special_tokens=False
                hf_ids = tok(text, add_special_tokens=False)["input_ids"]
                lo = run_loom(args.loom, ["tokenize", "--tokenizer", d, "--input", path, "--json"])
                cases.append({"tokenizer": name, "sentence": i, "n_ids": len(hf_ids),
                              "identical": hf_ids == lo["ids"],
                              "decode_roundtrip": tok.decode(hf_ids) == text})
        return {"cases": cases,
                "pass": all(c["identical"] and c["decode_roundtrip"] for c in cases)}
    checks["a_tokenizer"] = guarded(check_tokenizer)

    # --- c: base model alone --------------------------------------------------
    def check_base():
        model = load_model(base_dir)
        return compare_loss("base_loss", args.loom, model, base_dir, base_seqs, base_file,
                            args.loss_tol)
    checks["c_base_loss"] = guarded(check_base)

    # --- extra: extended model without adapter --------------------------------
    def check_extended():
        model = load_model(ext_dir)
        return compare_loss("extended_loss", args.loom, model, ext_dir, ext_seqs, ext_file,
                            args.loss_tol)
    checks["extended_loss"] = guarded(check_extended)

    # --- b: extended + adapter -------------------------------------------------
    state = {}

    def check_adapter():
        base = load_model(ext_dir)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = PeftModel.from_pretrained(base, ad_dir)
        model.eval()
        state["peft"] = model
        r = compare_loss("adapter_loss", args.loom, model, ext_dir, ext_seqs, ext_file,
                         args.loss_tol, adapter=ad_dir)
        # Load-time warnings (missing/unexpected keys, etc.) are incompatibilities.
        r["peft_load_warnings"] = [str(w.message) for w in caught
                                   if not issubclass(w.category, FutureWarning)]
        # The adapter must actually change the model (catches silently ignored keys).
        plain, _, _, _ = hf_loss(load_model(ext_dir), ext_seqs)
        r["loss_without_adapter"] = plain
        r["adapter_changes_loss"] = abs(plain - r["hf_mean_loss"]) > 1e-6
        r["pass"] = r["pass"] and r["adapter_changes_loss"]
        return r
    checks["b_adapter_loss"] = guarded(check_adapter)

    # --- d: merge_and_unload -> save -> reload ---------------------------------
    def check_merged():
        if "peft" not in state:
            raise RuntimeError("adapter did not load (see b_adapter_loss)")
        peft_model = state["peft"]
        peft_mean, _, _, peft_logits = hf_loss(peft_model, ext_seqs)
        # merge a fresh copy so the PEFT model stays usable for check e
        fresh = PeftModel.from_pretrained(load_model(ext_dir), ad_dir)
        merged = fresh.merge_and_unload()
        out_dir = args.keep_merged or os.path.join(work, "merged")
        merged.save_pretrained(out_dir)
        reloaded = load_model(out_dir)
        re_mean, _, _, re_logits = hf_loss(reloaded, ext_seqs)
        logit_diff = max((a - b).abs().max().item() for a, b in zip(peft_logits, re_logits))
        diff = abs(re_mean - peft_mean)
        r = {"peft_mean_loss": peft_mean, "merged_reloaded_mean_loss": re_mean,
             "abs_diff": diff, "max_abs_logit_diff": logit_diff,
             "merged_dir": out_dir, "merged_files": sorted(os.listdir(out_dir)),
             "tolerance": args.loss_tol, "pass": diff <= args.loss_tol}
        # Loom reading the transformers-written merged dir (a different writer).
        try:
            lo = loom_loss(args.loom, out_dir, ext_file)
            r["loom_on_merged_mean_loss"] = lo["mean_loss"]
            r["loom_on_merged_abs_diff"] = abs(lo["mean_loss"] - re_mean)
            r["pass"] = r["pass"] and r["loom_on_merged_abs_diff"] <= args.loss_tol
        except Exception as exc:
            r["loom_on_merged_error"] = str(exc)
            r["pass"] = False
        return r
    checks["d_merged"] = guarded(check_merged)

    # --- e: greedy generation --------------------------------------------------
    def check_generation():
        if "peft" not in state:
            raise RuntimeError("adapter did not load (see b_adapter_loss)")
        model = state["peft"]
        cases = []
        for s in ext_seqs:
            prompt = s[:PROMPT_LEN]
            with torch.no_grad():
                out = model.generate(
                    input_ids=torch.tensor([prompt]),
                    attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                    do_sample=False, max_new_tokens=args.max_new,
                    eos_token_id=ext_tok.eos_token_id, pad_token_id=ext_tok.eos_token_id)
            hf_ids = out[0, len(prompt):].tolist()
            lo = run_loom(args.loom, [
                "generate", "--model", ext_dir, "--adapter", ad_dir,
                "--prompt-ids", ",".join(map(str, prompt)),
                "--max-new", str(args.max_new), "--temperature", "0", "--json"])
            cases.append({"prompt_ids": prompt, "hf_ids": hf_ids, "loom_ids": lo["ids"],
                          "loom_stop_reason": lo.get("stop_reason"),
                          "identical": hf_ids == lo["ids"],
                          "hf_text": ext_tok.decode(hf_ids)})
        return {"cases": cases, "pass": all(c["identical"] for c in cases)}
    checks["e_generation"] = guarded(check_generation)

    result["pass"] = all(c.get("pass") for c in checks.values())
    if args.keep_work:
        result["work_dir"] = work
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
