import codecs

import pytest
from auditor.evidence.importers.textio import decode

from auditor.errors import InputError

TEXT = "職員番号,氏名,所属\r\n1001,石岡 太郎,情報政策課\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16-be"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("cp932"), "cp932"),
    ],
)
def test_each_windows_encoding_decodes_to_the_same_text(data, encoding):
    text, found = decode(data, "roster.csv")
    assert found == encoding
    assert text == TEXT.replace("\r\n", "\n")


def test_cp932_only_characters_are_read_as_cp932():
    text, found = decode("①髙橋,NEC特殊文字\r\n".encode("cp932"), "x.csv")
    assert (found, text) == ("cp932", "①髙橋,NEC特殊文字\n")


def test_undecodable_file_names_the_line():
    data = b"a,b\r\nc,d\r\n" + b"\x82\xff\xfe\r\n"
    with pytest.raises(InputError) as err:
        decode(data, "bad.csv")
    assert err.value.file == "bad.csv" and err.value.line == 3
    assert "neither UTF-8 nor CP932" in err.value.problem
