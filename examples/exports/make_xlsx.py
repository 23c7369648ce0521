"""Writes examples/exports/asset-register.xlsx, the example city's asset register (情報資産台帳).

The register is a workbook the 情報政策課 keeps in Excel, so the example ships it as one: a header
row, text cells, the classes as Excel users type them (機密性3 ...) and the purchase date as a real
date cell. The workbook's creation and modification times are fixed so that running this again
gives the same sheet content. Run from the repository's root:

    .venv/bin/python examples/exports/make_xlsx.py
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

OUT = Path(__file__).resolve().parent / "asset-register.xlsx"
SAVED = datetime(2026, 10, 30, 17, 42, 0)  # when the 情報政策課 last saved the register
HEADER = ("資産番号", "ホスト名", "種別", "所属", "管理者", "機密性", "完全性", "可用性", "設置場所", "状態", "導入日")
ROWS = (
    ("KK-PC-0101", "mn-jyuki-01", "端末", "市民課", "市民課長", "機密性3", "完全性2", "可用性2",
     "本庁舎1F 住民記録端末室", "稼働", date(2024, 3, 12)),
    ("KK-PC-0102", "mn-zeimu-01", "端末", "税務課", "税務課長", "機密性3", "完全性2", "可用性2",
     "本庁舎2F 税務課", "稼働", date(2024, 3, 12)),
    ("KK-PC-0201", "LG-SOUMU-02", "端末", "総務課", "総務課長", "機密性2", "完全性2", "可用性2",
     "本庁舎3F 総務課", "稼働", date(2025, 1, 20)),
    ("KK-PC-0202", "LG-SHIMIN-03", "端末", "市民課", "市民課長", "機密性2", "完全性2", "可用性2",
     "本庁舎1F 市民課窓口", "稼働", date(2025, 1, 20)),
    ("KK-PC-0203", "lg-jousei-04", "端末", "情報政策課", "情報政策課長", "機密性2", "完全性2", "可用性2",
     "本庁舎4F 情報政策課", "稼働", date(2023, 9, 1)),
    ("KK-PC-0204", "LG-SHIMIN-05", "端末", "市民課", "市民課長", "機密性2", "完全性2", "可用性2",
     "本庁舎1F 市民課窓口", "稼働", date(2025, 1, 20)),
    ("KK-SV-0011", "lg-fs-01", "サーバ", "情報政策課", "情報政策課長", "機密性2", "完全性2", "可用性3",
     "本庁舎4F サーバ室", "稼働", date(2025, 2, 3)),
    ("KK-PC-0301", "in-kouhou-01", "端末", "広報広聴課", "広報広聴課長", "機密性1", "完全性2", "可用性2",
     "本庁舎3F 広報広聴課", "稼働", date(2024, 11, 5)),
    ("KK-NW-0001", "kakuu-fw01", "ネットワーク機器", "情報政策課", "情報政策課長", "機密性2", "完全性3", "可用性3",
     "本庁舎4F サーバ室", "稼働", date(2024, 7, 22)),
    ("KK-PC-0088", "LG-SOUMU-01", "端末", "総務課", "総務課長", "機密性2", "完全性2", "可用性2",
     "（廃棄済）", "廃棄", date(2019, 3, 15)),
    ("KK-PC-0290", "LG-YOBI-01", "端末", "情報政策課", "情報政策課長", "機密性2", "完全性2", "可用性1",
     "本庁舎4F 倉庫", "保管", date(2025, 1, 20)),
    ("KK-MD-0007", "", "記録媒体", "税務課", "税務課長", "機密性3", "完全性2", "可用性1",
     "税務課 施錠キャビネット", "稼働", date(2025, 12, 10)),
    ("KK-DT-0001", "", "情報資産", "市民課", "市民課長", "機密性3", "完全性3", "可用性3",
     "住民記録システム", "稼働", None),
    ("KK-DT-0014", "", "文書", "総務課", "総務課長", "機密性2", "完全性2", "可用性1",
     "本庁舎B1 書庫", "稼働", None),
)


def build() -> Workbook:
    """The register's one sheet, 情報資産台帳, as the city types it."""
    book = Workbook()
    sheet = book.active
    sheet.title = "情報資産台帳"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in ROWS:
        sheet.append(row)
    for cell in sheet["K"][1:]:
        cell.number_format = "yyyy/m/d"
    for column, width in zip("ABCDEFGHIJK", (12, 14, 14, 12, 14, 9, 9, 9, 24, 8, 11), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    book.properties.creator = "情報政策課"
    book.properties.created = SAVED
    book.properties.modified = SAVED
    return book


if __name__ == "__main__":
    build().save(OUT)
    print(OUT)
