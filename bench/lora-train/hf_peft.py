#!/usr/bin/env python3
"""bench/lora-train's anchor: Hugging Face transformers + PEFT training the same random Llama as
`loom-bench bench-lora-train`, timed the same way. Run by bench/lora-train/run with the project venv's
Python (.venv/bin/python, after `make venv-hf`); prints one JSON line shaped like Loom's.

The anchor is fixed: LlamaForCausalLM with attn_implementation="sdpa", fp32, no gradient checkpointing,
PEFT LoRA (dropout 0) on all 7 projections, torch.optim.AdamW over the LoRA parameters (weight decay 0,
PyTorch's betas and eps), the global gradient norm clipped to 1.0 (as Loom's Trainer does), constant
learning rate. Threads: LOOM_THREADS when set, else every core this process may run on (Loom's rule).
A step is timed from taking the batch to the end of zero_grad: forward with labels = input ids (the
model's shifted mean cross-entropy), loss.item(), backward, clipping, AdamW, zero_grad.

--case qlora: the same model, its projections NF4 through bitsandbytes (Linear4bit: blocks of 64,
double-quantised absmax, f32 compute — Loom's NF4 layout), loaded by from_pretrained with a
BitsAndBytesConfig from the random model saved to a scratch directory (quantisation happens on load),
then peft.prepare_model_for_kbit_training(use_gradient_checkpointing=False) and the same LoRA.
The peak RSS is reset (/proc/self/clear_refs) once the dense model is freed, so it counts the quantised
model's training, not the scratch dense copy."""
import argparse
import ctypes
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def thread_count():
    text = os.environ.get("LOOM_THREADS")
    if text is not None:
        threads = int(text.strip())
        if threads < 1:
            raise SystemExit(f"hf_peft: LOOM_THREADS must be a positive integer, got '{text}'")
        return threads
    return max(1, len(os.sched_getaffinity(0)))


def status_megabytes(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def release_heap_and_reset_peak():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # 5: reset the peak resident set (VmHWM) to the current one


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=["lora", "qlora"], default="lora")
    parser.add_argument("--steps", type=int, default=6, help="steps timed after the warm-up")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up steps (timed, reported, not counted)")
    # The shape: defaults are bench/lora-train's (Loom's `lora` case); the flags are the ones run passes
    # to both sides.
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--intermediate", type=int, default=1376)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--kv-heads", type=int, default=None, help="default: --heads")
    parser.add_argument("--vocab", type=int, default=8192)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rope-theta", type=float, default=10_000.0)
    parser.add_argument("--rms-norm-eps", type=float, default=1e-6)
    parser.add_argument("--tie-embeddings", action="store_true")
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    # The GPU check (bench/gpu/run) runs the same anchor on a device, in bf16: the base model's weights in
    # bf16 and the step under torch.autocast(bf16); PEFT keeps the LoRA weights in f32.
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    return parser.parse_args()


def main():
    args = arguments()
    threads = thread_count()
    import torch  # after reading the thread count; set before any tensor exists

    torch.set_num_threads(threads)
    # PEFT imports bitsandbytes when it is installed, which then warns that its CPU gemv_4bit kernel (one
    # token at a time: generation, not training) is not fetched from the Hub; training never calls it.
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    import peft
    import transformers
    from transformers import LlamaConfig, LlamaForCausalLM

    transformers.utils.logging.disable_progress_bar()

    kv_heads = args.kv_heads or args.heads
    config = LlamaConfig(
        hidden_size=args.hidden, intermediate_size=args.intermediate, num_hidden_layers=args.layers,
        num_attention_heads=args.heads, num_key_value_heads=kv_heads, vocab_size=args.vocab,
        max_position_embeddings=args.seq, rope_theta=args.rope_theta, rms_norm_eps=args.rms_norm_eps,
        tie_word_embeddings=args.tie_embeddings, use_cache=False)
    torch.manual_seed(0)
    model = LlamaForCausalLM._from_config(config, attn_implementation="sdpa", dtype=torch.float32)
    device = torch.device(args.device)
    half = args.dtype == "bf16"
    if args.case == "lora":
        model = model.to(device=device, dtype=torch.bfloat16 if half else torch.float32)
    facts = {}
    peak_while_building = None
    if args.case == "qlora":
        import bitsandbytes
        from bitsandbytes.cextension import ErrorHandlerMockBNBNativeLibrary, lib
        from transformers import BitsAndBytesConfig

        quantization = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.float32, bnb_4bit_quant_storage=torch.uint8)
        with tempfile.TemporaryDirectory(prefix="loom-bench-hf-qlora-") as scratch:
            model.save_pretrained(scratch)
            del model
            model = LlamaForCausalLM.from_pretrained(
                scratch, quantization_config=quantization, attn_implementation="sdpa", dtype=torch.float32,
                device_map="cpu")
        model = peft.prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        quantized = [name for name, module in model.named_modules() if isinstance(module, bitsandbytes.nn.Linear4bit)]
        if len(quantized) != 7 * args.layers:
            raise SystemExit(f"hf_peft: expected {7 * args.layers} Linear4bit projections, got {len(quantized)}")
        peak_while_building = status_megabytes("VmHWM")
        release_heap_and_reset_peak()
        facts.update({
            "bitsandbytes": bitsandbytes.__version__, "nf4_compute_dtype": "f32", "nf4_double_quant": True,
            "nf4_blocksize": 64, "quantized_projections": len(quantized),
            # Whether bitsandbytes' own CPU library (libbitsandbytes_cpu.so: NF4 dequantisation) loaded, or
            # its pure-PyTorch fallback runs.
            "bitsandbytes_native_cpu_library": not isinstance(lib, ErrorHandlerMockBNBNativeLibrary),
        })
    model.config.use_cache = False
    model = peft.get_peft_model(model, peft.LoraConfig(
        r=args.rank, lora_alpha=args.alpha, lora_dropout=0.0, target_modules=TARGETS, bias="none",
        task_type="CAUSAL_LM"))
    base = model.base_model.model
    attention = base.config._attn_implementation
    checkpointing = bool(base.is_activation_checkpointing if hasattr(type(base), "is_activation_checkpointing")
                         else base.is_gradient_checkpointing)
    if attention != "sdpa" or checkpointing:
        raise SystemExit(f"hf_peft: the anchor is sdpa without checkpointing, got {attention}, {checkpointing}")
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    lora_parameters = sum(parameter.numel() for parameter in trainable)
    optimizer = torch.optim.AdamW(trainable, lr=args.learning_rate, weight_decay=0.0)
    model.train()
    rss_after_model = status_megabytes("VmRSS")

    total_steps = args.warmup + args.steps
    generator = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, args.vocab, (total_steps, args.batch, args.seq), generator=generator).to(device)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=half)
    tokens_per_step = args.batch * args.seq
    step_tokens_per_second, losses = [], []
    for step in range(total_steps):
        start = time.perf_counter()
        batch = tokens[step]
        with autocast:
            loss = model(input_ids=batch, labels=batch, use_cache=False).loss
        value = loss.item()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        step_tokens_per_second.append(round(tokens_per_step / seconds, 3))
        losses.append(round(value, 4))
        print(f"hf_peft {args.case}: step {step + 1}/{total_steps} loss {value:.4f} "
              f"{tokens_per_step / seconds:.1f} tok/s", file=sys.stderr, flush=True)

    timed = step_tokens_per_second[args.warmup:]
    result = {
        "side": "hf-peft",
        "case": args.case,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "attn_implementation": attention,
        "gradient_checkpointing": checkpointing,
        "dtype": "bfloat16 (autocast)" if half else "float32",
        "device": str(device),
        "warmup": args.warmup,
        "step_tokens_per_second": step_tokens_per_second,
        "tokens_per_second": round(statistics.median(timed), 3) if timed else None,
        "losses": losses,
        "peak_rss_mb": round(status_megabytes("VmHWM"), 3),
        "rss_after_model_mb": round(rss_after_model, 3),
        "lora_parameters": lora_parameters,
        "shape": {
            "hidden": args.hidden, "intermediate": args.intermediate, "layers": args.layers, "heads": args.heads,
            "kv_heads": kv_heads, "vocab": args.vocab, "seq": args.seq, "batch": args.batch, "rank": args.rank,
            "alpha": args.alpha, "tie_embeddings": args.tie_embeddings, "rope_theta": args.rope_theta,
            "rms_norm_eps": args.rms_norm_eps,
        },
        **facts,
    }
    if device.type == "cuda":
        result["peak_device_allocated_mb"] = round(torch.cuda.max_memory_allocated(device) / 1048576, 3)
        result["peak_device_reserved_mb"] = round(torch.cuda.max_memory_reserved(device) / 1048576, 3)
    if peak_while_building is not None:
        result["peak_rss_while_building_mb"] = round(peak_while_building, 3)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
