import pytest

from conversations.answers import number_text


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        (12, "12"),
        (12.5, "12,5"),
        (12.25, "12,25"),
        (0.002, "0"),
        (0.999, "1"),
        (12.999, "13"),
        (-0.001, "0"),
        (-2.5, "-2,5"),
        (80.0, "80"),
    ],
)
def test_a_number_is_shown_with_a_decimal_comma_and_no_dangling_comma(number: float, shown: str) -> None:
    assert number_text(number) == shown
