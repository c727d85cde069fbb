"""Generate hostile inputs for ``painclf label``: malformed files, hostile texts, odd schemas.

Run as a script to write the cases into a folder (``python tests/hostile.py OUT``) and
look at them; ``tests/test_hostile.py`` generates them into a temporary folder and
labels them. Each case is a file with the rows it must come out with: every row has
an ``id`` (``r00001``...) in input order, and the ids of the rows that cannot be read
are listed, so a test can check that no row is lost, reordered or left unlabeled.

Row cases (a hostile text in a well-formed row) are written into one file per format
(CSV, TSV, gzip, JSON Lines, Parquet, Excel); file cases (encodings, line endings, broken
rows, JSON that cannot be parsed, odd Parquet schemas) get one file each.
"""

from __future__ import annotations

import codecs
import gzip
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

RED_FLAGS = (
    "now I can't control my bladder",
    "my groin and inner thighs have gone numb",
    "my left leg keeps giving way and my foot drags",
    "I fell off the roof and landed on my back",
    "back pain with a fever of 39 and chills",
    "crushing chest pain spreading to my left arm",
    "I can't breathe properly and my upper back hurts",
)
INVISIBLE = {
    "zwsp": "\u200b",
    "soft_hyphen": "\u00ad",
    "zwj": "\u200d",
    "rtl_mark": "\u200f",
    "word_joiner": "\u2060",
    "bom": "\ufeff",
}
LENGTHS = (1_000, 10_000, 20_000)
RUNS = {
    "html_tag_spaces": lambda n: "<" + " " * (n - 1),
    "bangs": lambda n: "!" * n,
    "ampersands": lambda n: "&" * n,
    "apostrophes": lambda n: "'" * n,
    "double_quotes": lambda n: '"' * n,
    "emoji": lambda n: "😀" * (n // 2),
    "alternating_punct": lambda n: "!?" * (n // 2),
    "brackets": lambda n: "(" * n,
    "entities": lambda n: "&amp;" * (n // 5),
    "tags": lambda n: "<b>" * (n // 3),
    "long_word": lambda n: "a" * n,
    "dotted": lambda n: "a." * (n // 2),
    "hyphens": lambda n: "-" * n,
    "digits": lambda n: "1" * n,
    "spaces_tabs": lambda n: " \t" * (n // 2),
    "newlines": lambda n: "pain\n" * (n // 5),
}


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _inside_words(text: str, mark: str) -> str:
    return " ".join(w[: len(w) // 2] + mark + w[len(w) // 2 :] for w in text.split(" "))


def hostile_texts() -> list[tuple[str, str]]:
    """(name, text) pairs: every text is valid Unicode that a CSV cell can hold."""
    texts: list[tuple[str, str]] = []
    for i, phrase in enumerate(RED_FLAGS):
        texts.append((f"red_flag_{i}_plain", phrase))
        for name, mark in INVISIBLE.items():
            texts.append((f"red_flag_{i}_{name}", _inside_words(phrase, mark)))
        texts.append((f"red_flag_{i}_fullwidth", _fullwidth(phrase)))
        texts.append((f"red_flag_{i}_cyrillic_o", phrase.replace("o", "о")))
        texts.append((f"red_flag_{i}_html", f"<p>{phrase}</p>&nbsp;"))
    for name, make in RUNS.items():
        for n in LENGTHS:
            texts.append((f"run_{name}_{n}", make(n)))
            texts.append((f"run_{name}_{n}_in_text", f"My back hurts {make(n)} since Monday"))
    specials = {
        "empty": "",
        "blank": "   ",
        "number_only": "12345",
        "emoji_only": "😀😀😀",
        "cr_inside": "first line\rsecond line",
        "crlf_inside": "first line\r\nsecond line",
        "lf_inside": "first line\nsecond line",
        "comma_quote": 'She said, "it hurts", twice',
        "tab_inside": "sore\tafter\tsquats",
        "semicolons": "a;b;c; sore back",
        "pipe": "a|b|c sore back",
        "leading_equals": "=cmd|' /C calc'!A0 my back hurts",
        "control_chars": "my back\x01\x02\x07 hurts\x1b[31m",
        "nul": "my back\x00hurts",
        "bom_inside": "\ufeffmy back hurts",
        "zalgo": "m̸̡y̷ b̶a̸c̴k̵ h̸u̷r̵t̶s̸",
        "rtl_text": "ظهري يؤلمني منذ يومين",
        "cjk": "我的背很痛",
        "mixed_script": "my bасk hurts аnd my legs аre numb",
        "ligatures": "ﬁnally my back is ﬁne",
        "math_letters": "𝐦𝐲 𝐛𝐚𝐜𝐤 𝐡𝐮𝐫𝐭𝐬",
        "nbsp": "my\u00a0back\u00a0hurts",
        "line_separator": "my back\u2028hurts\u2029a lot",
        "json_like": '{"text": "not json, a ticket"}',
        "url": "see https://example.com/a?b=c&d=e#f my back",
        "backslashes": "C:\\Users\\me\\back pain.txt",
        "only_punct": "?!?!...",
        "very_long_normal": "My lower back is sore after deadlifts. " * 600,
    }
    texts.extend(specials.items())
    return texts


@dataclass
class Case:
    """One input file: its rows' ids in order, and the ids of rows that cannot be read."""

    name: str
    path: Path
    ids: list[str]
    unreadable: set[str] = field(default_factory=set)
    text_columns: list[str] | None = None


def _ids(count: int, start: int = 0) -> list[str]:
    return [f"r{i:05d}" for i in range(start, start + count)]


def _frame(texts: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": _ids(len(texts)),
            "case": [name for name, _ in texts],
            "text": [text for _, text in texts],
        }
    )


def _csv_text(frame: pd.DataFrame, sep: str) -> str:
    import csv

    # QUOTE_ALL: a bare "\r" inside a field stays inside the field.
    return frame.to_csv(index=False, sep=sep, lineterminator="\n", quoting=csv.QUOTE_ALL)


def row_cases(folder: Path) -> Iterator[Case]:
    """Every hostile text in a well-formed row, once per format."""
    texts = hostile_texts()
    frame = _frame(texts)
    ids = frame["id"].tolist()
    writers: dict[str, Callable[[Path], None]] = {
        "rows.csv": lambda p: p.write_text(_csv_text(frame, ","), encoding="utf-8"),
        "rows.tsv": lambda p: p.write_text(_csv_text(frame, "\t"), encoding="utf-8"),
        "rows.csv.gz": lambda p: p.write_bytes(
            gzip.compress(_csv_text(frame, ",").encode("utf-8"))
        ),
        "rows.jsonl": lambda p: p.write_text(_jsonl(frame), encoding="utf-8"),
        "rows.jsonl.gz": lambda p: p.write_bytes(gzip.compress(_jsonl(frame).encode("utf-8"))),
        "rows.parquet": lambda p: frame.to_parquet(p, index=False),
        "rows.xlsx": lambda p: _excel_safe(frame).to_excel(p, index=False),
    }
    for name, write in writers.items():
        path = folder / name
        write(path)
        yield Case(name, path, ids)


def _excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The texts an Excel cell can hold: no control characters, at most 32,767 characters."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    frame = frame.copy()
    frame["text"] = [ILLEGAL_CHARACTERS_RE.sub("?", t)[:32_767] for t in frame["text"]]
    return frame


def _jsonl(frame: pd.DataFrame) -> str:
    return "".join(
        json.dumps(row, ensure_ascii=False) + "\n" for row in frame.to_dict(orient="records")
    )


def _lines(rows: list[str], end: str = "\n") -> str:
    return end.join(rows) + end


GOOD = "My hamstrings are sore after squats"


def file_cases(folder: Path) -> Iterator[Case]:
    """Files whose encoding, line endings, rows or schema are hostile."""
    header = "id,text"
    good_rows = [f"r{i:05d},{GOOD} {i}" for i in range(4)]
    ids4 = _ids(4)

    # Encodings.
    body = _lines([header, *good_rows])
    encodings = {
        "utf8_bom": codecs.BOM_UTF8 + body.encode("utf-8"),
        "utf16_le_bom": body.encode("utf-16"),  # Python writes the native (LE) BOM
        "utf16_be_bom": codecs.BOM_UTF16_BE + body.encode("utf-16-be"),
        "utf32_bom": body.encode("utf-32"),
        "cp1252": _lines([header, "r00000,caf\xe9 sore", *good_rows[1:]]).encode("cp1252"),
        "utf16_crlf": _lines([header, *good_rows], "\r\n").encode("utf-16"),
    }
    for name, data in encodings.items():
        path = folder / f"enc_{name}.csv"
        path.write_bytes(data)
        yield Case(path.name, path, ids4)
    path = folder / "enc_utf16_bom.tsv"
    path.write_bytes(
        _lines(["id\ttext", *[r.replace(",", "\t", 1) for r in good_rows]]).encode("utf-16")
    )
    yield Case(path.name, path, ids4)

    # Line endings.
    for name, end in {"lf": "\n", "crlf": "\r\n", "cr": "\r"}.items():
        path = folder / f"eol_{name}.csv"
        path.write_bytes(_lines([header, *good_rows], end).encode("utf-8"))
        yield Case(path.name, path, ids4)
    path = folder / "eol_mixed.csv"
    path.write_bytes(
        f"{header}\r\n{good_rows[0]}\r{good_rows[1]}\n{good_rows[2]}\r\n{good_rows[3]}".encode()
    )
    yield Case(path.name, path, ids4)
    path = folder / "eol_bare_cr_mid_row.csv"
    path.write_bytes(b"id,a,b\nr00000,a,b\rr00001,c,d\nr00002,e,f\n")
    yield Case(path.name, path, _ids(3), text_columns=["a"])
    path = folder / "eol_quoted_cr.csv"
    path.write_bytes(b'id,text\nr00000,"sore\rback"\nr00001,"pain\r\nhere"\nr00002,ok\n')
    yield Case(path.name, path, _ids(3))

    # Broken CSV rows: each row that cannot be read is on its own line.
    broken = {
        "unbalanced_quote": 'r00002,"never closed',
        "stray_quote": 'r00002,"closed" then text',
        "extra_fields": "r00002,sore,extra,more",
        "missing_field": "r00002",
        "nul_byte": "r00002,sore\x00back",
        "huge_field": 'r00002,"' + "x" * 200_000 + '"trailing',
    }
    for name, bad in broken.items():
        rows = [header, *good_rows[:2], bad, "r00003,fine row", "r00004,another fine row"]
        path = folder / f"csv_{name}.csv"
        path.write_text(_lines(rows), encoding="utf-8")
        readable = name in ("nul_byte",)
        yield Case(path.name, path, _ids(5), set() if readable else {"r00002"})
    path = folder / "csv_blank_lines.csv"
    path.write_text(_lines([header, "", good_rows[0], "", "", good_rows[1]]), encoding="utf-8")
    yield Case(path.name, path, _ids(2))
    path = folder / "csv_semicolon.csv"
    path.write_text(_lines(["id;text", "r00000;sore back", "r00001;pain, sharp"]), encoding="utf-8")
    yield Case(path.name, path, _ids(2))
    path = folder / "csv_duplicate_header.csv"
    path.write_text(
        _lines(["id,text,text", "r00000,sore,back", "r00001,pain,here"]), encoding="utf-8"
    )
    yield Case(path.name, path, _ids(2), text_columns=["text"])
    path = folder / "csv_header_only.csv"
    path.write_text(header + "\n", encoding="utf-8")
    yield Case(path.name, path, [])
    path = folder / "csv_truncated.csv.gz"
    path.write_bytes(gzip.compress(_lines([header, *good_rows]).encode())[:-12])
    yield Case(path.name, path, [], text_columns=None)

    # JSON Lines.
    deep = '{"id": "r00002", "text": ' + "[" * 990 + "]" * 990 + "}"
    jsonl_bad = {
        "invalid": '{"id": "r00002", "text": "unterminated',
        "array": '["r00002", "not an object"]',
        "deep_nesting": deep,
        "deep_nesting_5000": '{"id": "r00002", "a": ' + "[" * 5000 + "]" * 5000 + "}",
        "number": "12345",
    }
    for name, bad in jsonl_bad.items():
        good = [json.dumps({"id": i, "text": f"{GOOD} {i}"}) for i in _ids(2)]
        later = [json.dumps({"id": i, "text": "fine"}) for i in _ids(2, 3)]
        path = folder / f"jsonl_{name}.jsonl"
        path.write_text(_lines([*good, bad, *later]), encoding="utf-8")
        yield Case(path.name, path, _ids(5), {"r00002"})
    path = folder / "jsonl_lone_surrogate.jsonl"
    path.write_text(
        _lines(
            [
                '{"id": "r00000", "text": "x \\ud83d my back hurts"}',
                '{"id": "r00001", "text": "pair \\ud83d\\ude00 ok", "\\udc00key": "v"}',
            ]
        ),
        encoding="utf-8",
    )
    yield Case(path.name, path, _ids(2))
    path = folder / "jsonl_late_key.jsonl"
    rows = [json.dumps({"id": i, "text": f"{GOOD}"}) for i in _ids(30)]
    rows.append(json.dumps({"id": "r00030", "text": GOOD, "late": "kept"}))
    path.write_text(_lines(rows), encoding="utf-8")
    yield Case(path.name, path, _ids(31))
    path = folder / "jsonl_crlf.jsonl"
    path.write_bytes(
        _lines([json.dumps({"id": i, "text": GOOD}) for i in _ids(3)], "\r\n").encode()
    )
    yield Case(path.name, path, _ids(3))
    path = folder / "jsonl_utf16.jsonl"
    path.write_bytes(
        _lines([json.dumps({"id": i, "text": GOOD}) for i in _ids(3)]).encode("utf-16")
    )
    yield Case(path.name, path, _ids(3))
    path = folder / "jsonl_nested_values.jsonl"
    path.write_text(
        _lines(
            [
                json.dumps({"id": "r00000", "text": GOOD, "meta": {"a": [1, 2]}}),
                json.dumps({"id": "r00001", "text": ["a", "list"], "meta": None}),
                json.dumps({"id": "r00002", "text": 12.5, "meta": True}),
            ]
        ),
        encoding="utf-8",
    )
    yield Case(path.name, path, _ids(3))

    # Excel: a blank row, a number, a date, a cell beyond the header, a second sheet.
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "text", None])
    sheet.append(["r00000", GOOD])
    sheet.append([])
    sheet.append(["r00001", 12345])
    sheet.append(["r00002", "sore", "beyond the header"])
    import datetime as dt

    sheet.append(["r00003", dt.datetime(2026, 12, 1, 9, 30)])
    book.create_sheet("other").append(["not", "read"])
    path = folder / "xlsx_odd_cells.xlsx"
    book.save(path)
    yield Case(path.name, path, _ids(4), {"r00002"})
    path = folder / "xlsx_not_a_workbook.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    yield Case(path.name, path, [])

    # Parquet schemas.
    base = pd.DataFrame({"id": _ids(3), "text": [GOOD, "How do I cancel?", ""]})
    indexed = base.set_index(pd.Index([10, 20, 30]))
    path = folder / "pq_indexed.parquet"
    indexed.to_parquet(path)
    yield Case(path.name, path, _ids(3))
    path = folder / "pq_named_index.parquet"
    base.set_index("id").to_parquet(path)
    yield Case(path.name, path, _ids(3))
    path = folder / "pq_duplicate_names.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays(
        [pa.array(_ids(3)), pa.array([GOOD, "b", "c"]), pa.array(["x", "y", "z"])],
        names=["id", "text", "text"],
    )
    pq.write_table(table, path)
    yield Case(path.name, path, _ids(3), text_columns=["text"])
    path = folder / "pq_binary_text.parquet"
    table = pa.Table.from_arrays(
        [
            pa.array(_ids(3)),
            pa.array([GOOD.encode(), b"caf\xe9 sore", None], pa.binary()),
        ],
        names=["id", "text"],
    )
    pq.write_table(table, path)
    yield Case(path.name, path, _ids(3))
    path = folder / "pq_null_and_numbers.parquet"
    pd.DataFrame({"id": _ids(3), "text": [None, None, None], "n": [1, 2, 3]}).to_parquet(path)
    yield Case(path.name, path, _ids(3))
    path = folder / "pq_list_column.parquet"
    pd.DataFrame({"id": _ids(2), "text": [GOOD, "x"], "tags": [["a", "b"], []]}).to_parquet(path)
    yield Case(path.name, path, _ids(2))


def all_cases(folder: Path) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    return [*row_cases(folder), *file_cases(folder)]


def case_count(cases: list[Case]) -> int:
    """How many hostile inputs the cases hold: each row case once per format, each file."""
    return sum(len(case.ids) if case.name.startswith("rows.") else 1 for case in cases)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-cases")
    made = all_cases(out)
    print(f"{case_count(made)} cases in {len(made)} files under {out}")
