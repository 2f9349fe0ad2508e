"""Disclosure control of a two-way table of counts whose row sums, column sums and total are published (a unit's
events by the groups of one breakdown): an attacker who knows those sums, every shown cell and that no count is
negative tries every value of each hidden cell and whether the other hidden cells can then make up the sums (an
exact test: a maximum flow, checked against enumerating every table of small ones), and must find at least two
values for each hidden cell. The attacker is not blind: it pins a cell hidden alone."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.definition import question_label
from conversations.disclosure import Cell, cross_hidden
from exports.survey import WHOLE_UNIT, option_headers
from exports.workbook import HIDDEN
from tests.test_disclosure import DIMENSIONS, rows_of

Counts = Sequence[Sequence[int]]


def sums(counts: Counts) -> tuple[list[int], list[int]]:
    """The published row and column sums."""
    return [sum(row) for row in counts], [sum(column) for column in zip(*counts, strict=True)]


def fill(row_left: Sequence[int], column_left: Sequence[int], cells: Sequence[Cell]) -> bool:
    """Whether non-negative integers in these cells can make up what each row and column leaves: a maximum flow
    from the rows to the columns through the cells (an integer one, as every maximum flow of integer capacities
    can be) carrying all of it. Augmenting paths, found breadth first, until none is left."""
    if min([*row_left, *column_left], default=0) < 0 or sum(row_left) != sum(column_left):
        return False
    source, sink = ("s", 0), ("t", 0)
    room: dict[tuple[object, object], int] = {}
    for r, left in enumerate(row_left):
        room[(source, ("r", r))] = left
    for c, left in enumerate(column_left):
        room[(("c", c), sink)] = left
    for r, c in cells:
        room[(("r", r), ("c", c))] = sum(row_left)
    for a, b in list(room):
        room.setdefault((b, a), 0)
    carried = 0
    while True:
        came: dict[object, object] = {source: source}
        todo = [source]
        while todo and sink not in came:
            node = todo.pop(0)
            for (a, b), left in room.items():
                if a == node and left > 0 and b not in came:
                    came[b] = a
                    todo.append(b)
        if sink not in came:
            return carried == sum(row_left)
        path, node = [], sink
        while node != source:
            path.append((came[node], node))
            node = came[node]
        step = min(room[edge] for edge in path)
        for a, b in path:
            room[(a, b)] -= step
            room[(b, a)] += step
        carried += step


def values(
    rows: Sequence[int], columns: Sequence[int], shown: dict[Cell, int], hidden: Sequence[Cell]
) -> dict[Cell, set[int]]:
    """Every value each hidden cell takes in some table of non-negative integers that, with the shown cells, adds up
    to the sums: each value from 0 to its row's sum, and whether the other hidden cells can then make up the rest."""
    row_left, column_left = list(rows), list(columns)
    for (r, c), count in shown.items():
        row_left[r] -= count
        column_left[c] -= count
    found: dict[Cell, set[int]] = {}
    for cell in hidden:
        r, c = cell
        others = [x for x in hidden if x != cell]
        found[cell] = set()
        for value in range(rows[r] + 1):
            row = [*row_left[:r], row_left[r] - value, *row_left[r + 1 :]]
            column = [*column_left[:c], column_left[c] - value, *column_left[c + 1 :]]
            if fill(row, column, others):
                found[cell].add(value)
    return found


def attack(counts: Counts, hidden: frozenset[Cell]) -> set[Cell]:
    rows, columns = sums(counts)
    cells = {(r, c): n for r, row in enumerate(counts) for c, n in enumerate(row)}
    shown = {x: n for x, n in cells.items() if x not in hidden}
    return {x for x, taken in values(rows, columns, shown, sorted(hidden)).items() if len(taken) < 2}


tables = st.integers(1, 4).flatmap(
    lambda width: st.lists(st.lists(st.integers(0, 6), min_size=width, max_size=width), min_size=1, max_size=4)
)


@settings(max_examples=300, deadline=None)
@given(counts=tables, minimum=st.integers(3, 5))
def test_no_hidden_cell_has_one_value(counts: list[list[int]], minimum: int) -> None:
    hidden = cross_hidden(counts, minimum)
    assert not attack(counts, hidden), (counts, sorted(hidden))
    small = {(r, c) for r, row in enumerate(counts) for c, n in enumerate(row) if 0 < n < minimum}
    # a small cell is shown only where the sums alone give it: hiding it all would not save it
    everything = frozenset((r, c) for r, row in enumerate(counts) for c in range(len(row)))
    assert small - hidden <= attack(counts, everything)
    assert cross_hidden(counts, minimum) == hidden, "deterministic"


def test_nothing_small_hides_nothing() -> None:
    assert cross_hidden([[5, 0, 7], [6, 9, 0], [0, 0, 12]], 5) == frozenset()


def test_one_small_cell_hides_one_rectangle() -> None:
    counts = [[12, 2, 9], [9, 7, 5], [9, 8, 6]]
    hidden = cross_hidden(counts, 5)
    assert hidden == {(0, 1), (0, 2), (1, 1), (1, 2)}, "the smallest counts closing a cycle"
    assert not attack(counts, hidden)


def test_the_sums_alone_give_a_single_rows_cells() -> None:
    """A unit with one event and nobody by its own link: the row is the unit's distribution, published anyway."""
    assert cross_hidden([[1, 4, 2]], 5) == frozenset()
    assert cross_hidden([[1, 4, 2], [0, 0, 0]], 5) == frozenset()


def test_the_attacker_pins_a_cell_hidden_alone() -> None:
    counts = [[8, 2, 9], [6, 7, 5]]
    assert attack(counts, frozenset({(0, 1)})) == {(0, 1)}
    assert attack(counts, frozenset({(0, 1), (1, 1)})) == {(0, 1), (1, 1)}
    assert not attack(counts, frozenset({(0, 1), (1, 1), (0, 2), (1, 2)}))


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.lists(st.integers(0, 3), min_size=3, max_size=3), min_size=1, max_size=3),
    chosen=st.sets(st.tuples(st.integers(0, 2), st.integers(0, 2)), max_size=6),
)
def test_the_attacker_finds_every_value_that_enumerating_every_table_finds(
    counts: list[list[int]], chosen: set[Cell]
) -> None:
    """The flow stands for the search: over small tables, every assignment of the hidden cells is tried."""
    hidden = sorted(x for x in chosen if x[0] < len(counts))
    rows, columns = sums(counts)
    shown = {(r, c): n for r, row in enumerate(counts) for c, n in enumerate(row) if (r, c) not in hidden}
    every: dict[Cell, set[int]] = {x: set() for x in hidden}
    for guess in product(*(range(rows[r] + 1) for r, _ in hidden)):
        table = {**shown, **dict(zip(hidden, guess, strict=True))}
        if sums([[table[(r, c)] for c in range(3)] for r in range(len(counts))]) == (rows, columns):
            for x, value in zip(hidden, guess, strict=True):
                every[x].add(value)
    assert values(rows, columns, shown, hidden) == every


def attack_workbook(book: Any) -> int:
    """The attacker on every block of a survey workbook's Sự kiện theo nhóm, with the sums read from the same
    workbook: each event's Số phiếu on Theo sự kiện, the unit's counts on Theo câu hỏi (a block whose column sums
    that hides is hidden whole: Theo câu hỏi's own control keeps it). How many hidden cells were tried."""
    sizes = {(r["Mã đơn vị"], r["Mã sự kiện"], r["Sự kiện"]): r["Số phiếu"] for r in rows_of(book, "Theo sự kiện")}
    names = {r["Mã đơn vị"]: r["Đơn vị"] for r in rows_of(book, "Theo sự kiện")}
    asked = rows_of(book, "Theo câu hỏi")
    headers = {question_label(d): (d, hs) for d, hs in zip(DIMENSIONS, option_headers(DIMENSIONS), strict=True)}
    blocks: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows_of(book, "Sự kiện theo nhóm"):
        if row["Sự kiện"] != WHOLE_UNIT:
            blocks.setdefault((row["Mã đơn vị"], row["Chia theo"]), []).append(row)
    tried = 0
    for (unit, label), rows in blocks.items():
        d, hs = headers[label]
        by_option = {r["Phương án"]: r[f"{names[unit]}: số"] for r in asked if r["Câu hỏi"] == label}
        columns = [by_option[c.label] for c in d.options]
        cells = {(i, j): row[h] for i, row in enumerate(rows) for j, h in enumerate(hs)}
        if HIDDEN in columns:
            assert set(cells.values()) == {HIDDEN}, (unit, label)
            continue
        totals = [sizes[(unit, row["Mã sự kiện"], row["Sự kiện"])] for row in rows]
        assert [row["Tổng"] for row in rows] == totals, "each row's total is its Số phiếu"
        hidden = sorted(x for x, v in cells.items() if v == HIDDEN)
        shown = {x: v for x, v in cells.items() if v != HIDDEN}
        taken = values(totals, columns, shown, hidden)
        assert all(len(v) >= 2 for v in taken.values()), (unit, label, taken)
        tried += len(hidden)
    return tried
