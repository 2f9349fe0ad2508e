"""Free-text opinions sorted into themes by keywords: what the forwardable files (the survey workbook's Ý kiến, the
report) give of them, as themes and counts; the texts themselves only in the microdata (/xuat dulieu)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from conversations.text import fold

THEMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Loa truyền thanh", ("loa", "truyen thanh", "phat thanh")),
    ("Mạng xã hội, Zalo, Internet", ("zalo", "facebook", "mang xa hoi", "internet", "online", "dien thoai", "video")),
    ("Hội nghị, buổi tuyên truyền trực tiếp", ("hoi nghi", "buoi tuyen truyen", "hop thon", "truc tiep", "sinh hoat")),
    ("Tài liệu, tờ rơi, pa-nô", ("to roi", "tai lieu", "pa-no", "pano", "bang ron", "so tay", "sach")),
    ("Nội dung dễ hiểu, sát thực tế", ("de hieu", "ngan gon", "gan gui", "vi du", "tinh huong", "thuc te", "cu the")),
    ("Tư vấn, giải đáp, trợ giúp pháp lý", ("tu van", "giai dap", "hoi dap", "tro giup phap ly", "luat su")),
    (
        "Nhóm đối tượng riêng (học sinh, thanh niên, người cao tuổi, ngư dân…)",
        ("hoc sinh", "thanh nien", "cao tuoi", "nguoi gia", "ngu dan", "phu nu", "dong bao", "cong nhan"),
    ),
    (
        "Thời gian, tần suất tuyên truyền",
        ("thuong xuyen", "buoi toi", "thoi gian", "dinh ky", "nhieu hon", "hang thang"),
    ),
)
OTHER_THEME = "Ý kiến khác"


def themes(texts: Sequence[str]) -> list[tuple[str, int]]:
    """Suggestions sorted into themes by keywords (a suggestion may fall into several): (theme, count), most frequent
    first, "other" last. No text is quoted: a suggestion's own words can name the person who wrote it."""
    patterns = [(name, re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b")) for name, words in THEMES]
    found: dict[str, int] = {name: 0 for name, _ in THEMES}
    other = 0
    for text in texts:
        key = fold(text)
        hits = [name for name, pattern in patterns if pattern.search(key)]
        for name in hits:
            found[name] += 1
        if not hits:
            other += 1
    ranked = sorted(((n, c) for n, c in found.items() if c), key=lambda item: -item[1])
    return ranked + ([(OTHER_THEME, other)] if other else [])
