import pytest

from conversations.answers import count_text, number_text


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


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0"), (999, "999"), (1000, "1.000"), (10000, "10.000"), (1234567, "1.234.567")]
)
def test_a_count_sets_its_thousands_apart_with_a_dot(count: int, shown: str) -> None:
    assert count_text(count) == shown
