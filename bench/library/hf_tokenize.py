"""bench/library's anchor: Hugging Face `tokenizers` encoding the scene text of a Loom corpus.

Reads the scenes of every shard of CORPUS (train split, then validation, shard order — the order the
`tokenize` stage reads them), in batches of about --batch-mb MB of text, and encodes each batch with
`Tokenizer.from_file(tokenizer.json).encode_batch(texts, add_special_tokens=False)`; threads come from
RAYON_NUM_THREADS (the caller sets it). Only encode_batch is timed (reading and parsing the shards is
not), so the rate is HF's best case. Prints one JSON line: scenes, bytes, tokens, encode seconds,
wall seconds, MB/s, peak RSS. Usage: hf_tokenize.py TOKENIZER_JSON CORPUS_DIR [--max-mb N] [--batch-mb N]"""
import argparse
import json
import os
import resource
import sys
import time

import tokenizers
from tokenizers import Tokenizer


def shards(corpus):
    with open(os.path.join(corpus, "manifest.json"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    for split in ("train", "validation"):
        for shard in manifest["shards"]:
            if shard["split"] == split:
                yield os.path.join(corpus, shard["path"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tokenizer")
    parser.add_argument("corpus")
    parser.add_argument("--max-mb", type=float, default=0, help="stop after this many MB of scene text (0: all)")
    parser.add_argument("--batch-mb", type=float, default=4)
    options = parser.parse_args()
    started = time.perf_counter()
    tokenizer = Tokenizer.from_file(options.tokenizer)
    limit = int(options.max_mb * 1e6)
    batch_bytes = int(options.batch_mb * 1e6)
    scenes = size = tokens = 0
    encode_seconds = 0.0
    batch, pending = [], 0

    def flush():
        nonlocal tokens, encode_seconds, batch, pending
        if not batch:
            return
        start = time.perf_counter()
        encodings = tokenizer.encode_batch(batch, add_special_tokens=False)
        encode_seconds += time.perf_counter() - start
        tokens += sum(len(encoding.ids) for encoding in encodings)
        batch, pending = [], 0

    done = False
    for path in shards(options.corpus):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                text = json.loads(line)["text"]
                length = len(text.encode("utf-8"))
                batch.append(text)
                pending += length
                scenes += 1
                size += length
                if pending >= batch_bytes:
                    flush()
                    print(f"hf_tokenize: {size / 1e6:.0f} MB, {size / 1e6 / encode_seconds:.2f} MB/s", file=sys.stderr, flush=True)
                if limit and size >= limit:
                    done = True
                    break
        if done:
            break
    flush()
    print(json.dumps({
        "tokenizers_version": tokenizers.__version__,
        "rayon_threads": os.environ.get("RAYON_NUM_THREADS"),
        "scenes": scenes, "bytes": size, "tokens": tokens,
        "encode_seconds": encode_seconds, "wall_seconds": time.perf_counter() - started,
        "megabytes_per_second": size / 1e6 / encode_seconds if encode_seconds else 0,
        "peak_rss_megabytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
