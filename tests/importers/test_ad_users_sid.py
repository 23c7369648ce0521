"""The SID column of Get-ADUser: each account's relative identifier, RID 500 being the built-in Administrator."""

import codecs

import pytest
from auditor.evidence.importers.ad_users import accounts_from
from auditor.evidence.importers.csvrows import parse_offset

from auditor.errors import InputError

JST = parse_offset("+09:00")
SID = "S-1-5-21-3623811015-3361044348-30300820"


def export(rows: list[str], header: str = '"SamAccountName","Enabled","SID"') -> str:
    """`Get-ADUser -Filter * | Select-Object SamAccountName,Enabled,SID | Export-Csv -Encoding UTF8`, decoded."""
    data = codecs.BOM_UTF8 + ("\r\n".join(["#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser", header,
                                           *rows]) + "\r\n").encode()
    return data.decode("utf-8-sig").replace("\r\n", "\n")


def test_the_rid_is_the_last_part_of_the_sid_whatever_the_account_is_called():
    found = accounts_from(export([f'"kk-rescue","True","{SID}-500"', f'"t.ishioka","True","{SID}-1107"',
                                  '"krbtgt","False","s-1-5-21-3623811015-3361044348-30300820-502"']), "ad.csv", JST)
    assert [(a["name"], a["rid"]) for a in found] == [("kk-rescue", 500), ("t.ishioka", 1107), ("krbtgt", 502)]


def test_the_raw_objectsid_column_and_an_empty_cell():
    found = accounts_from(export([f'"kk-rescue","True","{SID}-500"', '"contact","True",""'],
                                 '"SamAccountName","Enabled","objectSid"'), "ad.csv", JST)
    assert found[0]["rid"] == 500 and "rid" not in found[1]  # absent, never guessed


def test_an_export_without_sids_has_no_rid():
    found = accounts_from(export(['"kk-rescue","True"'], '"SamAccountName","Enabled"'), "ad.csv", JST)
    assert "rid" not in found[0]


@pytest.mark.parametrize("sid", ["S-1-5-21-x-500", "500", "{SID}", "S-1-5-21-" + "9" * 50])
def test_a_cell_that_is_not_a_sid_is_refused_naming_line_and_column(sid):
    with pytest.raises(InputError) as err:
        accounts_from(export(['"a","True","S-1-5-21-1-2-3-1107"', f'"b","True","{sid}"']), "ad.csv", JST)
    assert (err.value.file, err.value.line, err.value.where) == ("ad.csv", 4, "column 'SID'")
    assert "SID" in err.value.problem or "digits" in err.value.problem
