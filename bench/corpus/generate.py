#!/usr/bin/env python3
"""Generates a mixed Russian/English book collection for bench/corpus: three tiers (core 10 %, orbit
30 %, fractal 60 % of the bytes) in every format and encoding Loom reads — UTF-8, Windows-1251 and
KOI8-R plain text (some hard-wrapped with hyphenation, some lib.ru-indented), Markdown, FB2 (UTF-8 and
Windows-1251), .fb2.zip, EPUB, JSON Lines and fortune files — plus exact and near-duplicate copies
across tiers and a few bad files. Deterministic for a seed. Usage: generate.py OUT_DIR MEGABYTES [SEED]

Library mode (bench/library): generate.py OUT_DIR --books N [--seed S] [--mean-kb 500] [--jobs J] writes N
books shaped like a real Russian collection — tiers core 1 %, orbit 9 %, fractal 90 % of the books
(fractal in sub-directories of 1000), on average --mean-kb KB of UTF-8 text a book (log-normal sizes,
20 KB to 4 MB), in the formats and encodings such a collection holds: FB2 (UTF-8 and Windows-1251),
.fb2.zip, EPUB, lib.ru-style Windows-1251 text, UTF-8 text (some hard-wrapped), KOI8-R and UTF-16 text.
4 % of the books are exact copies of an earlier book, 4 % other editions of one (about 1 % of the words
changed, a paragraph added at the start), in a format of their own; half of these copy a core or orbit
book, so most copies sit in a later tier than their original. The text is Russian:
sentences of Debian's fortunes-ru when installed (/usr/share/games/fortunes/ru), mixed with sentences of
a small Russian word list, 4 % English. Each book comes from its own seeded generator, so the library
is the same bytes whatever --jobs (zip entries carry a fixed date); a broken FB2 and an image are added to fractal. Writes OUT_DIR/library.json
(books, bytes per tier and format) and prints it."""
import argparse
import io
import json
import math
import multiprocessing
import os
import random
import re
import sys
import zipfile
from xml.sax.saxutils import escape

RUSSIAN = """а без более больше был была были было быть в вам вас весь во вот все всегда всего всех вы где да даже
для до его ее если есть еще же за здесь и из или им их к как ко когда кто ли либо мне может мы на надо наш не
него нее нет ни них но ну о об однако он она они оно от очень по под после потом потому почти при про раз
с сам свою себе себя сейчас со совсем так такой там тебя тем теперь то тогда того тоже только том тот три
тут ты у уж уже хорошо хоть чего чем через что чтобы чуть эти этого этой этом этот эту я дом город река лес
поле небо солнце ветер дорога книга слово мысль время день ночь утро вечер год жизнь человек друг отец мать
сын дочь брат сестра рука голова глаз лицо сердце душа вода огонь земля море гора окно дверь стол стена
письмо история вопрос ответ работа дело сила голос свет тень память любовь правда война мир сон путь шаг
говорить сказать думать знать видеть смотреть слышать идти прийти уйти стоять сидеть лежать жить любить
помнить ждать искать найти взять дать читать писать понимать начинать кончать молчать смеяться плакать
старый новый молодой большой маленький долгий короткий тёмный светлый тихий громкий холодный тёплый
белый чёрный красный зелёный синий далёкий близкий последний первый другой каждый целый странный
переход переходить перевод разговор расстояние возвращение путешествие воспоминание размышление""".split()
ENGLISH = """the of and to in a is that for it as was with be by on not he I this are or his from at which but
have an they you were her she there one all we their has would when been if more will who what said each
about time up out them then so some these two may first into could like other than now only its over new
after also made did many before must through back years where much your way well down should because
long just people very work life world house river forest field sky sun wind road book word thought day
night morning evening year man friend father mother son daughter brother sister hand head eye face heart
water fire earth sea mountain window door table wall letter story question answer voice light shadow
memory love truth war peace dream path walk speak think know see look hear go come leave stand sit live
remember wait search find take give read write understand begin end silent laugh cry old young great
small short dark bright quiet loud cold warm white black red green blue distant near last strange""".split()

CP1251_SAFE = str.maketrans({"ё": "е", "Ё": "Е"})


def sentence(rng, words):
    count = rng.randint(6, 18)
    text = " ".join(rng.choice(words) for _ in range(count))
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "!", "?", "…"])


class SentencePool:
    def __init__(self, rng, size=60000):
        self.sentences = [sentence(rng, RUSSIAN if i % 3 else ENGLISH) for i in range(size)]

    def paragraph(self, rng):
        return " ".join(rng.choices(self.sentences, k=rng.randint(2, 9)))

    def book(self, rng, target_bytes):
        paragraphs, size = [], 0
        while size < target_bytes:
            paragraph = self.paragraph(rng)
            paragraphs.append(paragraph)
            size += len(paragraph.encode()) + 2
        return paragraphs


FORTUNES_RU = "/usr/share/games/fortunes/ru"


def fortune_sentences(directory=FORTUNES_RU):
    """Sentences of Debian's fortunes-ru (real Russian, ~23 000), sorted; empty when not installed."""
    sentences = set()
    if not os.path.isdir(directory):
        return []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.endswith((".dat", ".u8")) or os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            for entry in handle.read().split("\n%\n"):
                for text in re.split(r"(?<=[.!?…])\s+", " ".join(entry.split())):
                    if 20 <= len(text) <= 300 and re.search("[а-яА-Я]", text) and not text.startswith("--"):
                        sentences.add(text)
    return sorted(sentences)


class RussianPool(SentencePool):
    """Mostly Russian sentences: fortunes-ru's where installed, plus generated ones (4 % English)."""
    def __init__(self, rng, generated=40000):
        real = fortune_sentences()
        self.sentences = real + [sentence(rng, ENGLISH if rng.random() < 0.04 * (1 + len(real) / generated) else RUSSIAN)
                                 for _ in range(generated)]
        self.source = f"{len(real)} fortunes-ru sentences + {generated} generated"


def wrap(paragraph, width=72):
    """Hard-wraps like an old .txt, hyphenating some long words across the line end."""
    lines, line = [], ""
    for word in paragraph.split(" "):
        if len(line) + 1 + len(word) <= width:
            line = f"{line} {word}" if line else word
        elif len(word) > 7 and word.isalpha() and len(line) + 5 < width:
            cut = len(word) // 2
            lines.append(f"{line} {word[:cut]}-")
            line = word[cut:]
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return "\n".join(lines)


def fb2(paragraphs, title, encoding, author="Иван Петров"):
    sections, body = [], []
    for index, paragraph in enumerate(paragraphs):
        if index % 40 == 0 and body:
            sections.append(body)
            body = []
        body.append(f"<p>{escape(paragraph)}</p>")
    sections.append(body)
    first, last = author.split(" ", 1)
    text = "".join(f"<section><title><p>Глава {n + 1}</p></title>{''.join(s)}</section>" for n, s in enumerate(sections))
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0" '
            f'xmlns:l="http://www.w3.org/1999/xlink"><description><title-info><author><first-name>{first}</first-name>'
            f"<last-name>{last}</last-name></author><book-title>{title}</book-title></title-info></description>"
            f'<body>{text}</body><body name="notes"><section id="n1"><p>Примечание.</p></section></body></FictionBook>\n')


def member(name, compress_type=zipfile.ZIP_STORED):
    """A zip entry with a fixed date, so that archives are the same bytes on every run."""
    info = zipfile.ZipInfo(name, date_time=(2001, 1, 1, 0, 0, 0))
    info.compress_type = compress_type
    info.external_attr = 0o600 << 16
    return info


def epub(paragraphs, title):
    buffer = io.BytesIO()
    chapters = [paragraphs[i:i + 60] for i in range(0, len(paragraphs), 60)]
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr(member("META-INF/container.xml"), '<?xml version="1.0"?><container version="1.0" '
                         'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                         '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                         "</rootfiles></container>")
        items = "".join(f'<item id="c{n}" href="c{n}.xhtml" media-type="application/xhtml+xml"/>' for n in range(len(chapters)))
        spine = "".join(f'<itemref idref="c{n}"/>' for n in range(len(chapters)))
        archive.writestr(member("OEBPS/content.opf"), f'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
                         f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
                         f"<dc:creator>Anna Smith</dc:creator></metadata><manifest>{items}</manifest><spine>{spine}</spine></package>")
        for n, chapter in enumerate(chapters):
            body = "".join(f"<p>{escape(p)}</p>" for p in chapter)
            archive.writestr(member(f"OEBPS/c{n}.xhtml", zipfile.ZIP_DEFLATED), f'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                             f"<head><title>{title}</title><style>p {{ margin: 0 }}</style></head><body><h1>Chapter {n + 1}</h1>{body}</body></html>",
)
    return buffer.getvalue()


def fb2zip(content):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member("book.fb2", zipfile.ZIP_DEFLATED), content)
    return buffer.getvalue()


def json_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(kind, paragraphs, rng, title, author="Иван Петров"):
    """Bytes and file extension of one book in the given format."""
    if kind == "txt-utf8":
        return "\n\n".join(paragraphs).encode(), ".txt"
    if kind == "txt-wrapped":
        return "\n\n".join(wrap(p) for p in paragraphs).encode(), ".txt"
    if kind == "txt-cp1251":
        return "\n".join("     " + wrap(p).replace("\n", "\n") for p in paragraphs).translate(CP1251_SAFE).encode("cp1251", "replace"), ".txt"
    if kind == "txt-utf16":
        return "\ufeff".encode("utf-16-le") + "\r\n\r\n".join(paragraphs).encode("utf-16-le"), ".txt"
    if kind == "txt-koi8r":
        return "\n\n".join(paragraphs).encode("koi8_r", "replace"), ".txt"
    if kind == "md":
        parts = [f"# {title}"] + [f"## Part {i // 30 + 1}\n\n{p}" if i % 30 == 0 else p for i, p in enumerate(paragraphs)]
        return "\n\n".join(parts).encode(), ".md"
    if kind == "fb2":
        return fb2(paragraphs, title, "utf-8", author).encode(), ".fb2"
    if kind == "fb2-cp1251":
        return fb2([p.translate(CP1251_SAFE) for p in paragraphs], title, "windows-1251", author.translate(CP1251_SAFE)).encode("cp1251", "replace"), ".fb2"
    if kind == "fb2.zip":
        return fb2zip(fb2(paragraphs, title, "utf-8", author).encode()), ".fb2.zip"
    if kind == "epub":
        return epub(paragraphs, title), ".epub"
    if kind == "jsonl":
        records = [f'{{"id": {i}, "text": {json_string(chr(10).join(paragraphs[i:i + 3]))}}}' for i in range(0, len(paragraphs), 3)]
        return ("\n".join(records) + "\n").encode(), ".jsonl"
    if kind == "fortune":
        return ("\n%\n".join(wrap(p, 64) for p in paragraphs) + "\n%\n").encode(), ""
    raise ValueError(kind)


KINDS = ["txt-utf8", "txt-wrapped", "txt-cp1251", "txt-koi8r", "md", "fb2", "fb2-cp1251", "fb2.zip", "epub", "jsonl", "fortune"]


# Library mode: formats as a Russian e-book collection has them (weights in per cent).
LIBRARY_KINDS = [("fb2", 22), ("fb2.zip", 25), ("fb2-cp1251", 10), ("epub", 10), ("txt-cp1251", 15), ("txt-utf8", 7),
                 ("txt-wrapped", 4), ("txt-koi8r", 5), ("txt-utf16", 2)]
LIBRARY_TIERS = [("core", 0.01), ("orbit", 0.09), ("fractal", 0.90)]
AUTHORS = ["Иван Петров", "Анна Смирнова", "Пётр Кузнецов", "Мария Волкова", "Алексей Соколов", "Ольга Лебедева",
           "Николай Морозов", "Елена Новикова", "Сергей Орлов", "Татьяна Фёдорова"]


class Library:
    """N books, each a pure function of (seed, index), so workers can make them in any order."""
    def __init__(self, out, books, seed, mean_kb):
        self.out, self.books, self.seed = out, books, seed
        self.sigma = 0.8
        self.mu = math.log(mean_kb * 1000) - self.sigma ** 2 / 2   # the log-normal's mean is mean_kb
        counts, start = [], 0
        for index, (tier, share) in enumerate(LIBRARY_TIERS):
            count = books - start if index == len(LIBRARY_TIERS) - 1 else max(1, round(books * share))
            counts.append((tier, start, count))
            start += count
        self.tiers = counts
        self.pool = RussianPool(random.Random(f"{seed}:pool"))

    def tier(self, index):
        for tier, start, count in self.tiers:
            if start <= index < start + count:
                return tier, index - start
        raise IndexError(index)

    def plan(self, index):
        """(kind, origin, paragraphs): origin is None, ("copy", j) or ("edition", j)."""
        rng = random.Random(f"{self.seed}:book:{index}")
        kinds, weights = zip(*LIBRARY_KINDS)
        kind = rng.choices(kinds, weights)[0]
        roll = rng.random()
        if index > 0 and roll < 0.08:
            # Half of the copies are of a core or orbit book, so that copies cross tiers.
            source = rng.randrange(min(index, self.tiers[-1][1]) if rng.random() < 0.5 else index)
            if roll < 0.04:
                return kind, ("copy", source), self.paragraphs(source)
            paragraphs = [" ".join(w if rng.random() > 0.01 else rng.choice(RUSSIAN) for w in p.split(" "))
                          for p in self.paragraphs(source)]
            return kind, ("edition", source), [self.pool.paragraph(rng)] + paragraphs
        size = int(min(4_000_000, max(20_000, rng.lognormvariate(self.mu, self.sigma))))
        return kind, None, self.pool.book(rng, size)

    def paragraphs(self, index):
        return self.plan(index)[2]

    def write(self, index):
        kind, origin, paragraphs = self.plan(index)
        tier, number = self.tier(index)
        rng = random.Random(f"{self.seed}:render:{index}")
        title = f"Книга {index + 1}"
        data, extension = render(kind, paragraphs, rng, title, AUTHORS[index % len(AUTHORS)])
        directory = os.path.join(self.out, tier, f"{number // 1000:02d}") if tier == "fractal" else os.path.join(self.out, tier)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, f"{tier}-{number:05d}{extension}"), "wb") as handle:
            handle.write(data)
        text_bytes = sum(len(p.encode()) for p in paragraphs) + 2 * max(0, len(paragraphs) - 1)
        return tier, kind, origin[0] if origin else "original", len(data), text_bytes


LIBRARY = None


def _write_book(index):
    return LIBRARY.write(index)


def generate_library(out, books, seed, mean_kb, jobs):
    global LIBRARY
    LIBRARY = Library(out, books, seed, mean_kb)
    summary = {"books": books, "seed": seed, "mean_kb": mean_kb, "sentences": LIBRARY.pool.source,
               "tiers": {tier: {"books": count, "file_bytes": 0, "text_bytes": 0} for tier, _, count in LIBRARY.tiers},
               "formats": {}, "origins": {}, "file_bytes": 0, "text_bytes": 0}
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for done, (tier, kind, origin, file_bytes, text_bytes) in enumerate(pool.imap(_write_book, range(books), chunksize=4), 1):
            summary["tiers"][tier]["file_bytes"] += file_bytes
            summary["tiers"][tier]["text_bytes"] += text_bytes
            summary["formats"][kind] = summary["formats"].get(kind, 0) + 1
            summary["origins"][origin] = summary["origins"].get(origin, 0) + 1
            summary["file_bytes"] += file_bytes
            summary["text_bytes"] += text_bytes
            if done % 500 == 0 or done == books:
                print(f"generate.py: {done} of {books} books, {summary['file_bytes'] / 1e6:.0f} MB", file=sys.stderr, flush=True)
    rng = random.Random(f"{seed}:bad")
    bad = os.path.join(out, "fractal", "bad")
    os.makedirs(bad, exist_ok=True)
    with open(os.path.join(bad, "broken.fb2"), "w") as handle:
        handle.write('<?xml version="1.0"?><FictionBook><body><p>unclosed</body></FictionBook>')
    with open(os.path.join(bad, "cover.png"), "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(2000)))
    with open(os.path.join(out, "library.json"), "w") as handle:
        json.dump(summary, handle, indent=1, ensure_ascii=False)
    return summary


def main():
    if "--books" in sys.argv:
        parser = argparse.ArgumentParser(description="a generated Russian book library (bench/library)")
        parser.add_argument("out")
        parser.add_argument("--books", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--mean-kb", type=float, default=500)
        parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
        options = parser.parse_args()
        print(json.dumps(generate_library(options.out, options.books, options.seed, options.mean_kb, options.jobs), ensure_ascii=False))
        return
    out, megabytes = sys.argv[1], float(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    pool = SentencePool(rng)
    total = int(megabytes * 1_000_000)
    tiers = [("core", 0.1), ("orbit", 0.3), ("fractal", 0.6)]
    written = 0
    kept_books = []
    for tier, share in tiers:
        directory = os.path.join(out, tier)
        os.makedirs(directory, exist_ok=True)
        budget, used, number = total * share, 0, 0
        while used < budget:
            number += 1
            kind = KINDS[number % len(KINDS)]
            roll = rng.random()
            if kept_books and roll < 0.05:
                paragraphs = rng.choice(kept_books)  # exact copy of an earlier book
            elif kept_books and roll < 0.10:
                source = rng.choice(kept_books)  # near copy: a few words changed per paragraph
                paragraphs = [" ".join(w if rng.random() > 0.02 else rng.choice(RUSSIAN) for w in p.split(" ")) for p in source]
            else:
                paragraphs = pool.book(rng, rng.randint(300_000, 1_500_000))
            if len(kept_books) < 50:
                kept_books.append(paragraphs)
            data, extension = render(kind, paragraphs, rng, f"{tier} {number}")
            with open(os.path.join(directory, f"{tier}-{number:05d}{extension}"), "wb") as handle:
                handle.write(data)
            used += len(data)
        written += used
    with open(os.path.join(out, "fractal", "broken.fb2"), "w") as handle:
        handle.write('<?xml version="1.0"?><FictionBook><body><p>unclosed</body></FictionBook>')
    with open(os.path.join(out, "fractal", "cover.png"), "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(2000)))
    print(written)


if __name__ == "__main__":
    main()
