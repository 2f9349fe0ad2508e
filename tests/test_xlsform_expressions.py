"""The XLSForm expression subset: every operator and function, XPath's treatment of missing answers and numbers,
and a clear Vietnamese error for anything outside the subset."""

from __future__ import annotations

from typing import Any

import pytest

from conversations.expressions import ExpressionError, Where, parse

ANSWERS: dict[str, Any] = {
    "chon": "co",
    "nhieu": ["loa", "zalo"],
    "so": 7,
    "ty_le": 82.5,
    "ngay": "2026-02-01",
    "ten": "An",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${chon} = 'co'", True),
        ("${chon} != 'co'", False),
        ("${khong_tra_loi} = ''", True),
        ("${khong_tra_loi} != 'co'", True),
        ("${khong_tra_loi} >= 0", False),
        ("${so} = 7", True),
        ("${so} = '7'", True),
        ("${so} != ''", True),
        ("${so} > 5 and ${so} < 10", True),
        ("${so} >= 8 or ${so} <= 6", False),
        ("${ty_le} >= 82.5", True),
        ("${ngay} > '2026-01-15'", True),
        ("${ngay} < '2026-01-15'", False),
        ("not(${chon} = 'khong')", True),
        ("selected(${nhieu}, 'zalo')", True),
        ("selected(${nhieu}, 'hoi_nghi')", False),
        ("selected(${nhieu}, ' zalo ')", True),  # ODK trims the value looked for
        ("count-selected(${nhieu}) = 2", True),
        ("string-length(${ten}) = 2", True),
        ("if(${so} > 5, 'cao', 'thap') = 'cao'", True),
        ("true() and not(false())", True),
        ("${chon} = \u2018co\u2019", True),
        ("(${so} + 3) * 2 = 20", True),
        ("${so} - 2 * 3 = 1", True),
        ("-${so} = -7", True),
        ("${so} mod 4 = 3", True),
        ("${so} div 2 = 3.5", True),
    ],
)
def test_conditions(text: str, expected: bool) -> None:
    assert parse(text, Where.RELEVANT).holds(ANSWERS) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${so} * 10", 70),
        ("${ty_le} div 2", 41.25),
        ("round(${ty_le} div 3, 1)", 27.5),
        ("round(2.5)", 3),
        ("coalesce(${khong_tra_loi}, 5) + 1", 6),
        ("coalesce(${ten}, 'x')", "An"),
        ("if(${chon} = 'co', ${so}, 0)", 7),
        ("${so} div 0", None),  # infinite: no value
        ("${khong_tra_loi} + 1", None),  # a missing number is not a number
        ("''", None),
        ("${so} > 3", "true"),
    ],
)
def test_calculations(text: str, expected: Any) -> None:
    assert parse(text, Where.CALCULATION).value(ANSWERS) == expected


def test_the_current_answer_and_choice_columns() -> None:
    constraint = parse(". >= 0 and . <= ${so}", Where.CONSTRAINT)
    assert constraint.holds(ANSWERS, current=7) and not constraint.holds(ANSWERS, current=8)
    assert parse("count-selected(.) <= 1", Where.CONSTRAINT).holds({}, current=["a", "b"]) is False
    choice_filter = parse("huyen = ${chon} or name = 'tat_ca'", Where.CHOICE_FILTER)
    assert choice_filter.holds(ANSWERS, columns={"huyen": "co", "name": "x"})
    assert choice_filter.holds(ANSWERS, columns={"huyen": "khac", "name": "tat_ca"})
    assert not choice_filter.holds(ANSWERS, columns={"huyen": "khac", "name": "x"})
    assert choice_filter.refs == ("chon",) and choice_filter.columns == ("huyen", "name")


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("", Where.RELEVANT, "biểu thức trống"),
        ("${so} = = 1", Where.RELEVANT, "thiếu một giá trị ở vị trí 9"),
        ("${so} = 1)", Where.RELEVANT, "thừa phần sau ở vị trí 10"),
        ("(${so} = 1", Where.RELEVANT, "cần “)”"),
        ("today() > '2026-01-01'", Where.RELEVANT, "hàm “today()” chưa được hỗ trợ"),
        ("selected(${nhieu})", Where.RELEVANT, "hàm “selected()” cần 2 tham số, có 1"),
        ("/data/so > 1", Where.RELEVANT, "đường dẫn “/”"),
        ("${nhieu}[1] = 'a'", Where.RELEVANT, "ngoặc vuông"),
        ("${so} | ${ten}", Where.RELEVANT, "phép hợp"),
        ("../so = 1", Where.RELEVANT, "“..”"),
        ("@id = 1", Where.RELEVANT, "thuộc tính “@”"),
        ("so > 1", Where.RELEVANT, "“so” ở vị trí 1 không phải câu hỏi: hãy viết ${so}"),
        (". > 1", Where.RELEVANT, "chỉ dùng trong 'constraint'"),
        ("${} = 1", Where.RELEVANT, "thiếu tên câu hỏi"),
        ("${so} ≥ 1", Where.RELEVANT, "ký tự “≥”"),
    ],
)
def test_anything_outside_the_subset_is_refused_clearly(text: str, where: Where, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text, where)
    assert message in str(caught.value)
