"""The tabular importers read a file as a stream: pieces of text, batches of rows, the hash on the way."""

import codecs
import hashlib
import io
from pathlib import Path

import pytest
from auditor.evidence.importers import ImportOptions, import_files
from auditor.evidence.importers.csvrows import csv_batches, csv_records, read_csv
from auditor.evidence.importers.textio import TextStream, decode

from auditor.errors import InputError

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
KINDS = {"ad-users": EXPORTS / "ad-users-ps51.csv", "hr-roster": EXPORTS / "roster-excel-cp932.csv",
         "training": EXPORTS / "training-utf8bom.csv"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_export_is_never_read_whole(monkeypatch, kind):
    options = ImportOptions(target_id="t", collected_at="2026-11-02T09:00:00+09:00")
    expected = import_files(kind, [str(KINDS[kind])], options)

    def whole(self):
        raise AssertionError(f"{self} was read whole")

    monkeypatch.setattr(Path, "read_bytes", whole)
    bundle = import_files(kind, [str(KINDS[kind])], options)
    assert bundle["facts"] == expected["facts"]
    data = KINDS[kind].open("rb").read()
    assert bundle["sources"][0]["size"] == len(data)
    assert bundle["sources"][0]["sha256"] == hashlib.sha256(data).hexdigest()


def pieces_of(text: str, size: int) -> list[str]:
    """The text cut at line ends into pieces of about ``size`` characters, as TextStream cuts it."""
    stream = TextStream(io.BytesIO(text.encode("utf-8")), "t.csv", block_size=size)
    return list(stream.pieces())


MULTILINE = ('"SamAccountName","Description","Enabled"\n"a","one\nline two\nline three","True"\n\n'
             '"b","x","False"\n"c","y\n","True"\n' + "".join(f'"u{i}","d{i}","True"\n' for i in range(30)))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 40, 1 << 20])
def test_records_and_their_lines_do_not_depend_on_where_the_text_is_cut(size):
    whole = csv_records(MULTILINE, "t.csv")
    records, lines = [], []
    for more, at in csv_batches(pieces_of(MULTILINE, size), "t.csv"):
        records += more
        lines += at
    assert (records, lines) == whole
    assert lines[:4] == [1, 2, 6, 7]  # a's description spans lines 2-4; line 5 is empty


@pytest.mark.parametrize("size", [1, 4, 64])
def test_an_unclosed_quote_is_named_on_its_first_line_whatever_the_pieces(size):
    text = 'a,b\n1,2\n3,"open\nnever\nclosed\n'
    with pytest.raises(InputError) as err:
        for _ in read_csv(pieces_of(text, size), "t.csv")[1]:
            pass
    assert err.value.line == 3 and "never closed" in err.value.problem


def test_a_utf8_bom_file_names_the_line_of_its_bad_byte():
    data = codecs.BOM_UTF8 + b"a\n\xff\n"  # the offset of the error used to be counted without the BOM
    with pytest.raises(InputError) as err:
        decode(data, "x.csv")
    assert err.value.line == 2
    with pytest.raises(InputError) as err:
        TextStream(io.BytesIO(data), "x.csv").text()
    assert err.value.line == 2 and "invalid utf-8-sig" in err.value.problem


def test_ascii_then_cp932_is_cp932_even_when_the_first_block_is_ascii():
    data = b"a,b\r\n" * 10 + "石岡,太郎\r\n".encode("cp932")
    stream = TextStream(io.BytesIO(data), "x.csv", block_size=7)
    assert stream.text() == decode(data, "x.csv")[0] and stream.encoding == "cp932"
    assert stream.digest.size == len(data) and not stream.ascii


def test_two_encodings_in_one_file_are_refused_naming_the_line():
    data = "café,ok\n".encode() * 4 + "水戸,健\n".encode("cp932")
    with pytest.raises(InputError) as err:
        TextStream(io.BytesIO(data), "x.csv", block_size=8).text()
    assert err.value.line == 5 and "mixes encodings" in err.value.problem
    assert decode(data, "x.csv")[1] == "cp932"  # read whole, it was CP932 mojibake (a block holding it all agrees)
    assert TextStream(io.BytesIO(data), "x.csv").text() == decode(data, "x.csv")[0]


def test_crlf_split_between_blocks_is_one_line_end():
    data = b"a,b\r\nc,d\r\ne,f\r"
    for size in range(1, len(data) + 1):
        pieces = list(TextStream(io.BytesIO(data), "x.csv", block_size=size).pieces())
        assert "".join(pieces) == "a,b\nc,d\ne,f\n" and all(p.endswith("\n") for p in pieces)
