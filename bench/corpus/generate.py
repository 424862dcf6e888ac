#!/usr/bin/env python3
"""Generates a mixed Russian/English book collection for bench/corpus: three tiers (core 10 %, orbit
30 %, fractal 60 % of the bytes) in every format and encoding Loom reads — UTF-8, Windows-1251 and
KOI8-R plain text (some hard-wrapped with hyphenation, some lib.ru-indented), Markdown, FB2 (UTF-8 and
Windows-1251), .fb2.zip, EPUB, JSON Lines and fortune files — plus exact and near-duplicate copies
across tiers and a few bad files. Deterministic for a seed. Usage: generate.py OUT_DIR MEGABYTES [SEED]"""
import io
import os
import random
import sys
import zipfile

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


def fb2(paragraphs, title, encoding):
    sections, body = [], []
    for index, paragraph in enumerate(paragraphs):
        if index % 40 == 0 and body:
            sections.append(body)
            body = []
        body.append(f"<p>{paragraph}</p>")
    sections.append(body)
    text = "".join(f"<section><title><p>Глава {n + 1}</p></title>{''.join(s)}</section>" for n, s in enumerate(sections))
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0" '
            f'xmlns:l="http://www.w3.org/1999/xlink"><description><title-info><author><first-name>Иван</first-name>'
            f"<last-name>Петров</last-name></author><book-title>{title}</book-title></title-info></description>"
            f'<body>{text}</body><body name="notes"><section id="n1"><p>Примечание.</p></section></body></FictionBook>\n')


def epub(paragraphs, title):
    buffer = io.BytesIO()
    chapters = [paragraphs[i:i + 60] for i in range(0, len(paragraphs), 60)]
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr("META-INF/container.xml", '<?xml version="1.0"?><container version="1.0" '
                         'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                         '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                         "</rootfiles></container>")
        items = "".join(f'<item id="c{n}" href="c{n}.xhtml" media-type="application/xhtml+xml"/>' for n in range(len(chapters)))
        spine = "".join(f'<itemref idref="c{n}"/>' for n in range(len(chapters)))
        archive.writestr("OEBPS/content.opf", f'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
                         f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
                         f"<dc:creator>Anna Smith</dc:creator></metadata><manifest>{items}</manifest><spine>{spine}</spine></package>")
        for n, chapter in enumerate(chapters):
            body = "".join(f"<p>{p}</p>" for p in chapter)
            archive.writestr(f"OEBPS/c{n}.xhtml", f'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
                             f"<head><title>{title}</title><style>p {{ margin: 0 }}</style></head><body><h1>Chapter {n + 1}</h1>{body}</body></html>",
                             compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def fb2zip(content):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("book.fb2", content)
    return buffer.getvalue()


def json_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(kind, paragraphs, rng, title):
    """Bytes and file extension of one book in the given format."""
    if kind == "txt-utf8":
        return "\n\n".join(paragraphs).encode(), ".txt"
    if kind == "txt-wrapped":
        return "\n\n".join(wrap(p) for p in paragraphs).encode(), ".txt"
    if kind == "txt-cp1251":
        return "\n".join("     " + wrap(p).replace("\n", "\n") for p in paragraphs).translate(CP1251_SAFE).encode("cp1251", "replace"), ".txt"
    if kind == "txt-koi8r":
        return "\n\n".join(paragraphs).encode("koi8_r", "replace"), ".txt"
    if kind == "md":
        parts = [f"# {title}"] + [f"## Part {i // 30 + 1}\n\n{p}" if i % 30 == 0 else p for i, p in enumerate(paragraphs)]
        return "\n\n".join(parts).encode(), ".md"
    if kind == "fb2":
        return fb2(paragraphs, title, "utf-8").encode(), ".fb2"
    if kind == "fb2-cp1251":
        return fb2([p.translate(CP1251_SAFE) for p in paragraphs], title, "windows-1251").encode("cp1251", "replace"), ".fb2"
    if kind == "fb2.zip":
        return fb2zip(fb2(paragraphs, title, "utf-8").encode()), ".fb2.zip"
    if kind == "epub":
        return epub(paragraphs, title), ".epub"
    if kind == "jsonl":
        records = [f'{{"id": {i}, "text": {json_string(chr(10).join(paragraphs[i:i + 3]))}}}' for i in range(0, len(paragraphs), 3)]
        return ("\n".join(records) + "\n").encode(), ".jsonl"
    if kind == "fortune":
        return ("\n%\n".join(wrap(p, 64) for p in paragraphs) + "\n%\n").encode(), ""
    raise ValueError(kind)


KINDS = ["txt-utf8", "txt-wrapped", "txt-cp1251", "txt-koi8r", "md", "fb2", "fb2-cp1251", "fb2.zip", "epub", "jsonl", "fortune"]


def main():
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
