"""The importer over a corpus of real XLSForms: the XLSForm project's own test forms (pyxform's example workbooks,
its .xls ones saved as .xlsx, and the markdown forms written in its test modules, made into workbooks here). Each
either loads or is refused with coded Vietnamese problems at their rows; nothing raises anything else."""

from __future__ import annotations

import io
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyxform.xls2json_backends import md_table_to_workbook

from conversations.definition_errors import DefinitionCode
from conversations.xlsform import FormCode, FormError, Problem, read_xlsform
from tests.test_xlsform import workbook

CORPUS = Path(__file__).resolve().parent / "fixtures" / "xlsform-corpus"
FORM_SEPARATOR = "<!-- form -->"
WHOLE_FILE = {FormCode.FILE, FormCode.SHEET_MISSING, FormCode.NO_QUESTION}
"""Problems of the file as a whole, with no row to name."""
CODES = {str(c) for c in FormCode} | {str(c) for c in DefinitionCode}


def workbook_of(markdown: str) -> bytes:
    out = io.BytesIO()
    md_table_to_workbook(markdown).save(out)
    return out.getvalue()


def corpus() -> Iterator[tuple[str, bytes]]:
    for path in sorted((CORPUS / "forms").iterdir()):
        if path.suffix == ".xlsx":
            yield path.name, path.read_bytes()
        elif path.suffix == ".md":
            yield path.name, workbook_of(path.read_text())
    for path in sorted((CORPUS / "markdown").iterdir()):
        for index, markdown in enumerate(path.read_text().split(FORM_SEPARATOR), start=1):
            yield f"{path.stem}-{index}.xlsx", workbook_of(markdown)


def well_said(problem: Problem) -> bool:
    """A coded problem in Vietnamese (NFC), at its row unless it is about the whole file."""
    message = problem.message
    return (
        any(c == "đ" or unicodedata.decomposition(c) for c in message.lower())  # a Vietnamese letter
        and unicodedata.is_normalized("NFC", message)
        and (problem.code in CODES or problem.code.startswith(f"{FormCode.PYXFORM}."))
        and (problem.row is not None or problem.code in WHOLE_FILE)
    )


def test_every_form_of_the_corpus_loads_or_is_refused_in_vietnamese_at_its_rows() -> None:
    outcomes: Counter[str] = Counter()
    badly_said: list[tuple[str, Problem]] = []
    for name, content in corpus():
        try:
            reading = read_xlsform(content, name)
        except FormError as error:
            outcomes["refused"] += 1
            assert error.problems, name
            badly_said += [(name, p) for p in error.problems if not well_said(p)]
        else:
            outcomes["loaded"] += 1
            assert all(well_said(notice) for notice in reading.notices), name
            assert any(q.answerable for q in reading.questionnaire.questions), name
    assert badly_said == []
    assert outcomes["loaded"] >= 100 and outcomes["refused"] >= 500, outcomes


TEXT = st.text(alphabet="${}()'\" =<>+-*,.:_abcxyzđ019 ", max_size=30)
ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "integer",
                    "text",
                    "select_one l",
                    "select_multiple l",
                    "select_one thieu",
                    "begin_group",
                    "end_group",
                    "calculate",
                    "note",
                    "geopoint",
                    "begin_repeat",
                    "",
                ]
            )
            | TEXT,
            "name": st.sampled_from(["a", "b", "c", "", "1x", "a.b"]) | TEXT,
            "label": TEXT,
            "hint": TEXT,
            "relevant": TEXT,
            "calculation": TEXT,
            "required": st.sampled_from(["yes", "no", "", "maybe"]),
        }
    ),
    max_size=5,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ROWS)
def test_random_rows_are_read_or_refused_never_a_crash(rows: list[dict[str, str]]) -> None:
    choices = [{"list_name": "l", "name": "x", "label": "X"}, {"list_name": "l", "name": "y", "label": "Y"}]
    try:
        read_xlsform(workbook(rows, choices), "ngau-nhien.xlsx")
    except FormError as error:
        assert error.problems and all(well_said(p) for p in error.problems), error.problems
