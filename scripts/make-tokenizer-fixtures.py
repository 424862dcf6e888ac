#!/usr/bin/env python3
"""Generate the public Hugging Face tokenizer fixtures in Tests/Fixtures/tokenizers/.

Outputs (in Tests/Fixtures/tokenizers/, or --out DIR):
  bytelevel-llama3/tokenizer.json   byte-level BPE, exact Llama-3 pre-tokenizer, ignore_merges, 4000 + 3 added
  bytelevel-llama3/expected.jsonl   one JSON object per line of cases.txt
  spm-llama2/tokenizer.model        sentencepiece BPE model (byte_fallback) it was converted from
  spm-llama2/tokenizer.json         that model in the Llama-2 tokenizer.json layout
  spm-llama2/expected.jsonl
  cases.txt                         one JSON string per line

expected.jsonl rows: {"text", "ids", "tokens", "decoded"} from
  Tokenizer.encode(text, add_special_tokens=False) and Tokenizer.decode(ids, skip_special_tokens=False).

Usage (the project venv after `make venv-hf`; `scripts/make-fixtures.py tokenizers` runs the first line):
  .venv/bin/python scripts/make-tokenizer-fixtures.py            # (re)generate everything, then verify
  .venv/bin/python scripts/make-tokenizer-fixtures.py --verify   # only reload the tokenizer.json files and re-check

Needs Debian packages fortunes, fortunes-ru; Python packages tokenizers, sentencepiece (scripts/requirements-hf.txt).
Everything is deterministic: sorted inputs, fixed seeds, single-threaded training.
"""
import os

# single-threaded: deterministic training and no rayon surprises
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse
import hashlib
import io
import json
import random
import sys
from pathlib import Path

import sentencepiece as spm
import tokenizers
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)

OUT = Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "tokenizers"
FORTUNES_EN = Path("/usr/share/games/fortunes")
FORTUNES_RU = Path("/usr/share/games/fortunes/ru")
SEED = 20240601

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>"]
LLAMA3_NORMAL_ADDED = "<tool_call>"


# --------------------------------------------------------------------------- text sources

def fortune_files(d: Path):
    """Plain fortune files of one folder: sorted, no .dat index, no .u8 symlinks, no subfolders."""
    out = []
    for p in sorted(d.iterdir()):
        if p.is_dir() or p.is_symlink() or p.suffix in (".dat", ".u8"):
            continue
        out.append(p)
    return out


def read_fortunes(d: Path):
    """All entries (strings, internal newlines kept) of every fortune file in d, in sorted file order."""
    entries = []
    for p in fortune_files(d):
        text = p.read_bytes().decode("utf-8")  # strict: the files are UTF-8
        cur = []
        for line in text.split("\n"):
            if line == "%":
                e = "\n".join(cur).strip("\n")
                if e.strip():
                    entries.append(e)
                cur = []
            else:
                cur.append(line)
        e = "\n".join(cur).strip("\n")
        if e.strip():
            entries.append(e)
    return entries


def load_corpus():
    for d, package in ((FORTUNES_EN, "fortunes"), (FORTUNES_RU, "fortunes-ru")):
        if not d.is_dir() or not fortune_files(d):
            sys.exit(f"make-tokenizer-fixtures: no fortune files in {d} (apt-get install {package})")
    en = read_fortunes(FORTUNES_EN)
    ru = read_fortunes(FORTUNES_RU)
    return en, ru


# --------------------------------------------------------------------------- json lines

_EXTRA_ESCAPES = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029", "\ufeff": "\\ufeff"}


def jdump(obj) -> str:
    """json.dumps, UTF-8 readable, but with every character some line splitter could treat as a
    line break (U+0085, U+2028, U+2029) and the BOM escaped, so that files split on LF only."""
    s = json.dumps(obj, ensure_ascii=False)
    for k, v in _EXTRA_ESCAPES.items():
        s = s.replace(k, v)
    return s


def write_lines(path: Path, objs):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for o in objs:
            f.write(jdump(o) + "\n")


def read_cases(path: Path):
    with open(path, "rb") as f:
        return [json.loads(l) for l in f.read().decode("utf-8").split("\n") if l != ""]


def expected_rows(tok: Tokenizer, cases):
    rows = []
    for text in cases:
        enc = tok.encode(text, add_special_tokens=False)
        rows.append(
            {
                "text": text,
                "ids": enc.ids,
                "tokens": enc.tokens,
                "decoded": tok.decode(enc.ids, skip_special_tokens=False),
            }
        )
    return rows


def check_expected(tok_path: Path, exp_path: Path, cases):
    tok = Tokenizer.from_file(str(tok_path))
    with open(exp_path, "rb") as f:
        rows = [json.loads(l) for l in f.read().decode("utf-8").split("\n") if l != ""]
    assert len(rows) == len(cases), (exp_path, len(rows), len(cases))
    bad = 0
    for case, row in zip(cases, rows):
        assert row["text"] == case
        enc = tok.encode(case, add_special_tokens=False)
        dec = tok.decode(enc.ids, skip_special_tokens=False)
        if enc.ids != row["ids"] or enc.tokens != row["tokens"] or dec != row["decoded"]:
            bad += 1
            print("MISMATCH", exp_path, repr(case)[:80], file=sys.stderr)
        # tokens and ids must agree with the vocabulary; exception: an added token with
        # lstrip / rstrip reports the whitespace it swallowed as part of its token string
        strip = {a.content for a in tok.get_added_tokens_decoder().values() if a.lstrip or a.rstrip}
        for i, t in zip(row["ids"], row["tokens"]):
            v = tok.id_to_token(i)
            assert v == t or (v in strip and t.strip() == v), (i, t, v)
    return len(rows), bad


# --------------------------------------------------------------------------- 1. byte-level Llama-3 style BPE

def build_llama3(corpus, out_dir: Path):
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()  # serializes with add_prefix_space, trim_offsets, use_regex = true, as in Meta's file
    trainer = trainers.BpeTrainer(
        vocab_size=4000,
        min_frequency=2,
        show_progress=False,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus, trainer=trainer, length=len(corpus))
    assert tok.get_vocab_size() == 4000, tok.get_vocab_size()
    # Llama-3 keeps its special tokens after the BPE vocabulary (128000, 128001, ...): same here.
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in LLAMA3_SPECIALS])
    tok.add_tokens([AddedToken(LLAMA3_NORMAL_ADDED, special=False)])  # normal token, normalized=True
    bos = LLAMA3_SPECIALS[0]
    bos_id = tok.token_to_id(bos)
    tok.post_processor = processors.Sequence(
        [
            processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True),
            processors.TemplateProcessing(
                single=f"{bos} $A",
                pair=f"{bos} $A {bos}:1 $B:1",
                special_tokens=[(bos, bos_id)],
            ),
        ]
    )
    return finalize(tok, out_dir, model_overrides={"ignore_merges": True}, merges_as_strings=True)


def finalize(tok: Tokenizer, out_dir: Path, model_overrides=None, merges_as_strings=False, top_overrides=None):
    """Serialize, force the intended model flags, write tokenizer.json (2-space indent, raw UTF-8,
    key order as tokenizers writes it) and load it back with Tokenizer.from_file.

    merges_as_strings: write merges in the older "left right" string form (as in the published
    Llama-3 and Qwen2 tokenizer.json files) instead of the [left, right] pairs tokenizers >= 0.20
    writes. Safe here because no byte-level or sentencepiece token contains a space.
    top_overrides: top-level sections to replace as given (e.g. the decoder's flags, which the
    Python decoders.ByteLevel constructor does not take)."""
    data = json.loads(tok.to_str())
    for k, v in (top_overrides or {}).items():
        assert k in data, k
        data[k] = v
    for k, v in (model_overrides or {}).items():
        data["model"][k] = v
    if merges_as_strings:
        merges = data["model"]["merges"]
        assert all(" " not in a and " " not in b for a, b in merges)
        data["model"]["merges"] = [f"{a} {b}" for a, b in merges]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "tokenizer.json"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return Tokenizer.from_file(str(path))


# --------------------------------------------------------------------------- 2. sentencepiece BPE -> Llama-2 tokenizer.json

def spm_sentences(corpus):
    """sentencepiece trains on lines: every non-blank line of every entry."""
    out = []
    for e in corpus:
        for line in e.split("\n"):
            if line.strip():
                out.append(line)
    return out


def train_spm(corpus, model_path: Path):
    # sentence_iterator + model_writer: no file names end up in the model's trainer_spec,
    # so tokenizer.model is byte-identical from run to run
    buf = io.BytesIO()
    # Llama-2's trainer_spec, scaled down (vocab 3000, character_coverage 0.9995)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(spm_sentences(corpus)),
        model_writer=buf,
        model_type="bpe",
        vocab_size=3000,
        character_coverage=0.9995,
        byte_fallback=True,
        split_digits=True,
        split_by_unicode_script=True,
        split_by_whitespace=True,
        split_by_number=True,
        allow_whitespace_only_pieces=True,
        remove_extra_whitespaces=False,
        normalization_rule_name="identity",
        add_dummy_prefix=True,
        max_sentencepiece_length=16,
        max_sentence_length=16384,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_bytes(buf.getvalue())


def spm_merges(vocab):
    """Merges recovered from a sentencepiece BPE vocabulary, as transformers does it
    (transformers.tokenization_utils_base.generate_merges with vocab_scores=None):
    every split of every piece into two pieces of the vocabulary, ordered by the id of the merged
    piece, then by the lengths of the two halves (and, within one piece, by the ids of the halves)."""
    merges = []
    for piece, pid in vocab.items():
        local = []
        for i in range(1, len(piece)):
            l, r = piece[:i], piece[i:]
            if l in vocab and r in vocab:
                local.append((l, r, pid))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda x: (x[2], len(x[0]), len(x[1])))
    return [(l, r) for l, r, _ in merges]


def build_spm_llama2(model_path: Path, out_dir: Path):
    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    n = sp.get_piece_size()
    vocab = {}
    for i in range(n):
        vocab[sp.id_to_piece(i)] = i
    assert sp.id_to_piece(0) == "<unk>" and sp.id_to_piece(1) == "<s>" and sp.id_to_piece(2) == "</s>"
    # control / unknown / byte pieces never take part in merges
    skip = {sp.id_to_piece(i) for i in range(n) if sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i)}
    mvocab = {p: i for p, i in vocab.items() if p not in skip}
    merges = spm_merges(mvocab)
    # cross-check with transformers' own helper when it is installed
    try:
        from transformers.tokenization_utils_base import generate_merges

        assert merges == generate_merges(mvocab), "merge order differs from transformers.generate_merges"
    except ImportError:
        pass

    tok = Tokenizer(
        models.BPE(
            vocab=vocab,
            merges=merges,
            unk_token="<unk>",
            fuse_unk=True,
            byte_fallback=True,
            dropout=None,
        )
    )
    # The layout of meta-llama/Llama-2-7b-hf's tokenizer.json (transformers' LlamaConverter, legacy=True)
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.pre_tokenizer = None
    tok.decoder = decoders.Sequence(
        [
            decoders.Replace("▁", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            decoders.Strip(content=" ", left=1, right=0),
        ]
    )
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ["<unk>", "<s>", "</s>"]])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s>:1 $B:1", special_tokens=[("<s>", 1)]
    )
    return finalize(tok, out_dir, model_overrides={"ignore_merges": False})


# --------------------------------------------------------------------------- 3. cases

def hand_cases():
    c = []
    # empty and pure whitespace
    c += ["", " ", "  ", "   ", "\t", "\n", "\n\n", "\n\n\n", "\r", "\r\n", "\r\n\r\n", "\r\n\r\n\r\n",
          " \n ", "  \t  \n", "\t\n\t", " \n\n ", "\n \n", "\u00a0", "\u3000", "\u2003\u2003"]
    # runs of spaces, leading / trailing
    c += [" " * n for n in (4, 5, 8, 16)]
    c += ["a b", "a  b", "a   b", "a    b", "a     b", "word    ", "    word", " leading", "trailing ",
          "  both  ", " Привет", "мир ", "   Три пробела впереди", "и три позади   ", "x \t y", "x\t\ty",
          "\tindented", "\t\tдва таба", "a\tb", "col1\tcol2\tcol3", "колонка1\tколонка2\n1\t2",
          "\t\t\t", "a\u00a0b", "10\u00a0000", "слово\u3000слово"]
    # newlines
    c += ["line1\nline2", "para1\n\npara2", "a\n\n\n\nb", "\n\nstart", "end\n\n", "end\n", "\nstart",
          "line1\r\nline2\r\n", "текст\r\nещё текст", "a\rb", "a\r\n\r\nb", "  \r\n  x", "x  \n  y",
          "Строка один.\nСтрока два.\n\nНовый абзац.", "a\n b\n  c\n   d", "a \nb", "a\n\tb"]
    # Russian
    c += [
        "Привет, мир!",
        "Съешь же ещё этих мягких французских булок, да выпей чаю.",
        "В чащах юга жил бы цитрус? Да, но фальшивый экземпляр!",
        "Широкая электрификация южных губерний даст мощный толчок подъёму сельского хозяйства.",
        "Ёжик в тумане",
        "ЁЛКА И ЁЖ — ВСЕ ЗАГЛАВНЫЕ",
        "Москва — столица России.",
        "«Кавычки-ёлочки» и „лапки“",
        "Он сказал: «Нет!» — и ушёл.",
        "Что? Где? Когда?",
        "Ура!!! Получилось...",
        "т.е. и т.д. и т.п.",
        "Во-первых, во-вторых, кое-где, из-за, по-русски.",
        "Ъ ъ Ь ь Ы ы Э э Ю ю Я я",
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
        "Превед, медвед!",
        "Не всё то золото, что блестит.",
        "ПРИВЕТ МИР",
        "пРиВеТ",
        "Україна, Беларусь, Қазақстан: і ї є ґ ў қ ң",
        "Сербский: ђ ћ љ њ џ, болгарский: Ѣ ѣ (дореформенная ять)",
    ]
    # English + contractions in both cases
    c += [
        "Hello, world!",
        "The quick brown fox jumps over the lazy dog.",
        "It's", "IT'S", "it'S", "It'S", "I'm", "I'M", "they'll", "THEY'LL", "They'Ll", "we've", "WE'VE",
        "you're", "YOU'RE", "he'd", "HE'D", "don't", "DON'T", "can't stop", "'s", "'S", "'t", "'T", "'re",
        "'RE", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'d", "'D", "'", "''", "'''", "' s", "'sup",
        "rock 'n' roll", "O'Neil's dog's bone", "THE CAT'S TOY", "the cat’s toy (typographic apostrophe)",
        "it'ſ (long s)", "x'ſa", "x'sa", "x'Sa", "x'LLa", "'x'", "'42'", "'Привет'", "l'été", "L'ÉTÉ",
        "Don't you think they'd've done it?",
        "Debian GNU/Linux 12 (bookworm)",
        "   Indented English text with    irregular   spacing.   ",
    ]
    # mixed Russian / English
    c += [
        "Linux — это ядро, а GNU — набор утилит.",
        "Версия 2.6.32-5-amd64 вышла в 2010 году.",
        "ПриветHello", "helloмир", "Ошибка: file not found (код 404)",
        "Нажмите Ctrl+C, чтобы выйти из vim'а.",
        "Я люблю Python, а ты — Swift?",
        "Файл README.md лежит в каталоге /usr/share/doc.",
    ]
    # emoji, incl. ZWJ sequences, skin tones, flags, keycaps, variation selectors
    c += ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "❤", "🇷🇺🇺🇸", "1️⃣", "🧑🏿‍💻 coding", "Привет 👋 мир",
          "a😀b", "😀😀😀", "👩‍🔬👨‍🚀", "🤷‍♂️", "☺︎ text presentation", "🫠🫡", "emoji at end 🎉", "🎉 emoji at start"]
    # CJK, Arabic and other scripts
    c += ["你好，世界", "日本語のテキスト、カタカナとひらがな。", "한국어 텍스트", "中文English混合Русский", "東京タワー",
          "مرحبا بالعالم", "العربية 123 ٤٥٦", "שלום עולם", "Καλημέρα κόσμε", "नमस्ते दुनिया", "สวัสดีชาวโลก",
          "Բարեւ աշխարհ", "გამარჯობა", "ሰላም", "Tiếng Việt có dấu"]
    # digits of various lengths and numeric forms
    c += ["0", "7", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "123456789",
          "1234567890", "12345678901234567890", "007", "3.14159", "1,000,000", "1 000 000", "2024-01-15",
          "+7 (495) 123-45-67", "0x1F", "1e10", "-42", "1/2", "50%", "١٢٣٤", "²³", "½", "Ⅻ", "٣.١٤",
          "abc123def", "год2024", "12abc", "v1.2.3", "1.", "1..2", "99 бутылок пива", "IPv4 10.0.0.1"]
    # punctuation runs
    c += ["!!!", "?!?!", "...", "…", "---", "—", "– - —", "!!!???...", "((()))", "[[{{<<>>}}]]",
          "\"quoted\"", "#!/bin/sh", "a,b;c:d", "$$$", "@@@", "~~~", "***", "__init__", "foo_bar_baz",
          ":-)", ";)", "==>", "!=", "<=>", "&&||", "...\n", "?\n\n", "!\r\n", "x = (a + b) * c;",
          "#include <stdio.h>", "«»„“”‘’", "¿¡", "§ 5, п. 3", "№ 42", "©®™"]
    # characters unseen in training (byte fallback / rare bytes)
    c += ["ǅ", "Ω", "∀x∈ℝ: x²≥0", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝕳𝖊𝖑𝖑𝖔", "\u0000", "\u0007bell", "\u001b[31mred\u001b[0m",
          "zero\u200bwidth", "soft\u00adhyphen", "\ufeffBOM at start", "line\u2028separator",
          "para\u2029separator", "nel\u0085char", "\ue000 private use", "\U0010fffd", "\U0001f9ec",
          "e\u0301 (combining acute)", "é (precomposed)", "Ǆ ǅ ǆ", "ﬁle ﬂow", "Ｆｕｌｌｗｉｄｔｈ", "①②③",
          "İstanbul", "ß Straße STRASSE", "Gödel naïve café", "\x7f", "\u0080\u009f", "ÿ", "Ā"]
    # long words and repetitions
    c += ["Антидисэстеблишментарианизм", "Pneumonoultramicroscopicsilicovolcanoconiosis",
          "а" * 50, "ab" * 30, "ха" * 20, "=" * 40, "-" * 17, " " * 33, "\n" * 7, "😀" * 12]
    # added tokens of both tokenizers inside text
    c += [
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|begin_of_text|><|end_of_text|>",
        "<|begin_of_text|>Привет",
        "Hello<|end_of_text|>",
        "a <|begin_of_text|> b",
        "  <|begin_of_text|>  ",
        "\n<|end_of_text|>\n",
        "<|begin_of_text|", "|begin_of_text|>", "<|begin_of_text|>>", "<<|begin_of_text|>",
        "<|BEGIN_OF_TEXT|>",
        "<tool_call>",
        "<tool_call>{\"name\": \"ls\", \"arguments\": {\"path\": \"/tmp\"}}</tool_call>",
        "x<tool_call>y",
        " <tool_call> ",
        "<tool_call><tool_call>",
        "<|begin_of_text|><tool_call><|end_of_text|>",
        "<s>", "</s>", "<unk>", "<s>Hello</s>", "<s> Привет </s>", " <s>", "<s>\n", "text<s>text",
        "<s><s></s></s>", "<pad>",
    ]
    return c


def sampled_cases(en, ru, rng):
    en_ok = [e for e in en if 20 <= len(e) <= 500]
    ru_ok = [e for e in ru if 20 <= len(e) <= 500]
    out = []
    out += rng.sample(ru_ok, 16)
    out += rng.sample(en_ok, 10)
    # mixed: one Russian and one English fortune in one string
    for r, e in zip(rng.sample(ru_ok, 4), rng.sample(en_ok, 4)):
        out.append(r + " " + e)
    # first line only (no newline), Russian and English
    out += [e.split("\n")[0] for e in rng.sample(ru_ok, 3)]
    out += [e.split("\n")[0] for e in rng.sample(en_ok, 2)]
    # one long string: several Russian entries joined
    out.append("\n\n".join(rng.sample(ru_ok, 8)))
    return out


def make_cases(en, ru):
    rng = random.Random(SEED)
    cases = []
    seen = set()
    for s in hand_cases() + sampled_cases(en, ru, rng):
        if s not in seen:
            seen.add(s)
            cases.append(s)
    return cases


# --------------------------------------------------------------------------- main

def sha256(p: Path):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def verify(out: Path):
    cases = read_cases(out / "cases.txt")
    ok = True
    for name in ("bytelevel-llama3", "spm-llama2"):
        n, bad = check_expected(out / name / "tokenizer.json", out / name / "expected.jsonl", cases)
        print(f"verify {name}: {n} cases, {bad} mismatches")
        ok &= bad == 0
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verify", action="store_true", help="only re-check existing files")
    ap.add_argument("--out", type=Path, default=OUT, help=f"the fixture folder (default {OUT})")
    args = ap.parse_args()
    out = args.out.resolve()
    if args.verify:
        sys.exit(0 if verify(out) else 1)

    print(f"tokenizers {tokenizers.__version__}, sentencepiece {spm.__version__}")
    en, ru = load_corpus()
    corpus = en + ru
    print(f"corpus: {len(en)} English + {len(ru)} Russian fortunes, "
          f"{sum(len(e.encode()) for e in corpus)} bytes")

    llama3 = build_llama3(corpus, out / "bytelevel-llama3")
    train_spm(corpus, out / "spm-llama2" / "tokenizer.model")
    llama2 = build_spm_llama2(out / "spm-llama2" / "tokenizer.model", out / "spm-llama2")

    cases = make_cases(en, ru)
    write_lines(out / "cases.txt", cases)
    write_lines(out / "bytelevel-llama3" / "expected.jsonl", expected_rows(llama3, cases))
    write_lines(out / "spm-llama2" / "expected.jsonl", expected_rows(llama2, cases))
    print(f"{len(cases)} cases")

    # how the converted tokenizer.json compares with sentencepiece itself (informative only)
    sp = spm.SentencePieceProcessor(model_file=str(out / "spm-llama2" / "tokenizer.model"))
    diff = [c for c in cases if sp.encode(c) != llama2.encode(c, add_special_tokens=False).ids]
    print(f"spm-llama2: HF ids differ from sentencepiece's on {len(diff)} of {len(cases)} cases")
    for c in diff[:20]:
        print("   ", repr(c)[:100])

    ok = verify(out)
    for p in sorted(out.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            print(f"{p.relative_to(out)}  {p.stat().st_size}  {sha256(p)}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
