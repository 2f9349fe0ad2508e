"""Channels without buttons show the buttons' labels as words to type: each of them must work when typed."""

from __future__ import annotations

import pytest

from conversations import messages as m
from conversations.definition import answer_line
from conversations.text import fold

TYPED = {
    m.BACK: m.WORDS_BACK,
    m.SKIP: m.WORDS_SKIP,
    m.KEEP: m.WORDS_KEEP,
    m.DONE: m.WORDS_DONE,
    m.SUBMIT: m.WORDS_SUBMIT,
    m.EDIT: m.WORDS_EDIT,
    m.CLEAR_FILES: m.WORDS_CLEAR,
    m.USE_SURVEY: m.WORDS_USE_SURVEY,
}


@pytest.mark.parametrize("label", sorted(TYPED))
def test_every_button_label_is_also_a_typed_word(label: str) -> None:
    assert fold(label) in TYPED[label]


def test_no_word_means_two_things() -> None:
    sets = list(TYPED.values())
    for index, words in enumerate(sets):
        for other in sets[index + 1 :]:
            assert not words & other


def test_an_answer_follows_its_question_after_one_stop() -> None:
    """The review screen, /xem and the workbook's notes: "question: answer", never "thì:: Không biết"."""
    assert answer_line("Giới tính của bạn?", "Nữ") == "Giới tính của bạn?: Nữ"
    assert answer_line("Người thuộc hộ nghèo … thì:", "Không biết") == "Người thuộc hộ nghèo … thì: Không biết"
    assert answer_line("Gửi ảnh kế hoạch.", "1 tệp") == "Gửi ảnh kế hoạch: 1 tệp"
    assert answer_line("Ý kiến (nếu có)…", "Không") == "Ý kiến (nếu có)…: Không"
