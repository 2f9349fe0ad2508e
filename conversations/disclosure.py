"""Disclosure control: which figures of a table are hidden ("ẩn"), so that nobody can be picked out by their answers,
also by adding or subtracting the figures that are shown, knowing that a count is never negative nor more than the
respondents it is counted over. Every writer asks here: the survey workbook and its CSV, the self-assessment
workbook's survey-based scores, the report's tables and its charts, and the survey's figure an officer is shown for a
survey-measured criterion (bot/figures.py).

A table here is a set of members (the units, or the groups of one breakdown such as gender) whose figures add up
to the figure of all of them ("Tất cả đơn vị", or everyone), a figure being a count or the numerator of a rate over
the respondents it rests on (its base). The figures of a table on some questions are every option's count of each
of them, and the points earned on each scored one.

- Primary suppression: a figure resting on at least one but fewer than K respondents is hidden.
- Complementary suppression: where exactly one member of a table is hidden, the shown total minus the shown members
  would give it, so one more member is hidden: the one with the fewest respondents among those that have any (ties:
  the first code). Then the total minus the shown members gives only the joint figure of the hidden ones.
- That joint figure must not say every hidden member's either: were it 0 for some figure of the table (an option's
  count, the points), each hidden member's would be 0; were it all of their joint base (or of the points they could
  earn), each would be 100 %. So while it is either for some figure, the next member with the fewest respondents is
  hidden too, until it holds for every figure or every member with respondents is hidden. The one exception: a
  figure whose total is itself 0 or all of its base, which already says every member's value, resting on at least
  K respondents (else the total is hidden), as any figure of everyone may. Then, for every figure, each hidden
  member's value can be anything from 0 to its base that the others' make up to the joint figure: between two
  values at least, never one.
- The total itself is never hidden as a complement, so tables that share it (units and each breakdown, the workbook
  and the report) stay independent; it is hidden only when it rests on fewer than K respondents itself, and then so
  is every member.
- The choice depends on the members' bases and figures on the table's questions, so every table holding the same
  figure (the share answering "Có" on Tổng hợp and its counts on Theo câu hỏi, the survey workbook and the
  self-assessment's survey-based scores) is decided over the same questions' figures and hides the same members. It
  is made over every unit with respondents, also when an export shows only one, so exports of one unit and of all
  units never differ in what they show of a unit. Nothing is hidden unless some member has too few respondents:
  the bases alone say whether the figures must be read (bot/figures.py reads every unit's answers only then).
- A member without respondents shows nothing: its figure is known to be zero and plays no part.
- A question asked only after some answer (show-if) rests on as many respondents as gave that answer: its figures
  (and its "Số người trả lời") are hidden wherever that answer's count is, or they would give it, and then more
  members where its own figures need them.

A two-way table of counts (`cross_hidden`: a unit's events and its own link by the groups of one breakdown) is the
other kind: its row sums (each event's respondents), column sums (the unit's count of each option, on Theo câu hỏi)
and total are published, and each cell counts people, so a cell with 1 to K-1 is hidden. Which tables of
non-negative integers share those sums and the shown cells is exactly known from a graph with a node per row and
per column, and for each hidden cell (r, c) an edge r→c (it may grow) and, if it is at least 1, c→r (it may shrink):
the cell can grow by one, the others making up for it, iff some path leads from c to r without its own edges, and
shrink iff it is at least 1 and some path leads from r to c so. A hidden cell with neither is given by the others;
then the cheapest shown cells closing such a path are hidden too (fewest hidden zeros, then the smallest counts,
then the fewest cells: a rectangle where one does), until every hidden cell can take two values. A cell that no
path ever frees is given by the sums alone (an event that is the whole unit, a row or column of zeros): it is
published by them and shown.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from functools import partial
from heapq import heappop, heappush
from typing import TypeVar

from conversations.definition import Questionnaire, SurveyMeasure
from conversations.measures import SurveyTally, measure, measure_questions

Member = TypeVar("Member", bound=Hashable)


def too_few(base: int, minimum: int) -> bool:
    """A figure resting on at least one but fewer than `minimum` respondents (primary suppression)."""
    return 0 < base < minimum


Figure = tuple[float, float]
"""One figure of a member: its part (a count, points earned) and the most it could be (the respondents it is counted
over, the points they could earn)."""


def hidden(
    bases: Mapping[Member, int],
    minimum: int,
    figures: Mapping[Member, Sequence[Figure]] | None = None,
    also: Iterable[Member] = (),
) -> frozenset[Member]:
    """The members of one table whose figure is hidden, given how many respondents each figure rests on, their
    figures (the same number for every member) and those hidden anyway (`also`)."""
    found = {m for m, base in bases.items() if too_few(base, minimum)} | set(also)
    others = sorted((m for m, base in bases.items() if base and m not in found), key=lambda m: (bases[m], str(m)))
    if len(found) == 1 and others:
        found.add(others.pop(0))
    while found and others and figures and _told(figures, found):
        found.add(others.pop(0))
    return frozenset(found)


def _extreme(figures: Iterable[Figure]) -> bool:
    """Whether the joint figure of some members is 0 or all it could be: it then says each one's."""
    found = list(figures)
    part, whole = sum(p for p, _ in found), sum(w for _, w in found)
    return abs(part) < 1e-9 or abs(whole - part) < 1e-9


def _told(figures: Mapping[Member, Sequence[Figure]], found: Iterable[Member]) -> bool:
    """Whether the total minus the shown members would give each hidden member's value of some figure (one whose
    total does not already give it)."""
    every = zip(*figures.values(), strict=True)
    mine = zip(*(figures[m] for m in found), strict=True)
    return any(_extreme(some) and not _extreme(all_) for all_, some in zip(every, mine, strict=True))


def conditions(qn: Questionnaire, question_id: str) -> frozenset[str]:
    """The questions whose answers decide whether this one is asked (show-if), but the consent question: every
    counted respondent said yes to it. A figure's base on such a question is a count of those answers."""
    return frozenset(r for r in qn.rests_on(question_id) if not qn.question(r).consent)


def read_over(qn: Questionnaire, questions: Iterable[str]) -> list[str]:
    """The questions whose answers decide what is hidden of a figure on these: them, and those they are asked after
    (show-if), and those that one is, over and over. Every tally a choice is made over must count all of them."""
    found: set[str] = set()
    todo = list(questions)
    while todo:
        question_id = todo.pop()
        if question_id not in found:
            found.add(question_id)
            todo += conditions(qn, question_id)
    return sorted(found)


def _answered(question_id: str, tally: SurveyTally) -> int:
    return tally.answered[question_id]


def answered(question_id: str) -> Callable[[SurveyTally], int]:
    """How many respondents a figure on one question rests on."""
    return partial(_answered, question_id)


def figures(qn: Questionnaire, questions: Iterable[str], tally: SurveyTally) -> list[Figure]:
    """The figures of a table on these questions for one member: every option's count over those who answered the
    question, and the points earned on a scored one over the points they could earn."""
    found: list[Figure] = []
    for question_id in questions:
        q = qn.question(question_id)
        base = tally.answered[question_id]
        found += [(tally.chosen[(question_id, c.value)], base) for c in q.options]
        if q.scored:
            found.append((tally.points.get(question_id, 0.0), base * q.max_points))
    return found


def hidden_in(
    qn: Questionnaire,
    tallies: Mapping[Member, SurveyTally],
    base: Callable[[SurveyTally], int],
    questions: Iterable[str],
    minimum: int,
    also: Iterable[Member] = (),
) -> frozenset[Member]:
    """The members of one table (units, events, the groups of a breakdown) whose figure (resting on `base`
    respondents, computed from `questions`) is hidden, by their bases and their figures on those questions."""
    asked = list(questions)
    bases = {m: base(t) for m, t in tallies.items()}
    return hidden(bases, minimum, {m: figures(qn, asked, t) for m, t in tallies.items()}, also)


def hidden_figure(
    qn: Questionnaire,
    tallies: Mapping[str, SurveyTally],
    base: Callable[[SurveyTally], int] | None,
    questions: Iterable[str],
    minimum: int,
) -> frozenset[str]:
    """The units whose figure (resting on `base` respondents, computed from `questions`) is hidden: wherever a
    question it rests on is asked after an answer whose count is hidden, since the figure's base (or a figure and
    its percentage) would give that count, and by its own bases and figures (hidden_in). Without `base`: only the
    former (the number who answered a question, which is such a count)."""
    asked = list(questions)
    refs = sorted({r for q in asked for r in conditions(qn, q)})
    found = frozenset().union(*(hidden_figure(qn, tallies, answered(r), [r], minimum) for r in refs))
    return found if base is None else hidden_in(qn, tallies, base, asked, minimum, found)


def total_hidden(
    qn: Questionnaire,
    total: SurveyTally,
    base: Callable[[SurveyTally], int] | None,
    questions: Iterable[str],
    minimum: int,
) -> bool:
    """Whether the figure of all the units is hidden: only when it (unless `base` is None), or an answer it rests
    on, has too few."""
    refs = {r for q in questions for r in conditions(qn, q)}
    own = base is not None and too_few(base(total), minimum)
    return own or any(too_few(total.answered[r], minimum) for r in refs)


def _measure_base(survey: Questionnaire, how: SurveyMeasure, tally: SurveyTally) -> int:
    return measure(survey, how, tally).base


def measure_hidden(
    survey: Questionnaire, how: SurveyMeasure, tallies: Mapping[str, SurveyTally], minimum: int
) -> frozenset[str]:
    """The units whose figure for a survey-measured criterion is hidden, decided over every unit with respondents
    (`tallies`, their answers to the measure's questions), as the survey workbook decides it: the same in the exports
    and in the figure an officer is shown. Empty exactly when it is empty by the bases alone (tallies without
    answers): only a unit with too few makes any hidden."""
    base = partial(_measure_base, survey, how)
    return hidden_figure(survey, tallies, base, measure_questions(survey, how), minimum)


Cell = tuple[int, int]
"""A cell of a two-way table: its row and column."""
Node = tuple[str, int]
"""A row ("r", index) or column ("c", index) of a two-way table, as a node of its graph."""
Cost = tuple[int, int, int]
"""What hiding some cells costs: how many hidden zeros, the sum of their counts, how many cells."""


def cross_hidden(counts: Sequence[Sequence[int]], minimum: int) -> frozenset[Cell]:
    """The hidden cells of a two-way table of counts whose row sums, column sums and total are published: those
    with 1 to `minimum` - 1 that the sums alone do not give, and the complements that leave every hidden cell two
    values at least (see the module's docstring). Deterministic: the loose cell first in order is freed first, and
    equal costs are broken by the order the paths are found in, so the same counts always hide the same cells."""
    cells = [(r, c) for r, row in enumerate(counts) for c in range(len(row))]
    everything = frozenset(cells)
    found = {x for x in cells if too_few(counts[x[0]][x[1]], minimum) and _free(counts, everything, x)}
    while (loose := next((x for x in sorted(found) if not _free(counts, found, x)), None)) is not None:
        # a path exists with every cell hidden (the cell is free then), and hiding more never closes one
        found |= _complement(counts, found, loose)
    return frozenset(found)


def _free(counts: Sequence[Sequence[int]], hidden: frozenset[Cell] | set[Cell], cell: Cell) -> bool:
    """Whether a hidden cell can take another value, the other hidden cells making up for it."""
    price = partial(_price_if_hidden, hidden)
    return any(_path(counts, price, cell, start, goal) is not None for start, goal in _ways(counts, cell))


def _complement(counts: Sequence[Sequence[int]], hidden: set[Cell], cell: Cell) -> set[Cell]:
    """The cheapest shown cells whose hiding lets the cell grow or shrink."""
    price = partial(_price, counts, hidden)
    found = [p for start, goal in _ways(counts, cell) if (p := _path(counts, price, cell, start, goal)) is not None]
    cheapest = min(found, key=lambda p: _total(price(x) for x in p))
    return {x for x in cheapest if x not in hidden}


def _ways(counts: Sequence[Sequence[int]], cell: Cell) -> list[tuple[Node, Node]]:
    """The paths that would free a cell: column to row (it grows) and, if it is at least 1, row to column."""
    r, c = cell
    column: Node = ("c", c)
    row: Node = ("r", r)
    return [(column, row), (row, column)] if counts[r][c] else [(column, row)]


def _price_if_hidden(hidden: frozenset[Cell] | set[Cell], cell: Cell) -> Cost | None:
    return (0, 0, 0) if cell in hidden else None


def _price(counts: Sequence[Sequence[int]], hidden: set[Cell], cell: Cell) -> Cost:
    """Nothing for a hidden cell; a shown one costs its count, and a zero more than any count (it can only grow)."""
    if cell in hidden:
        return (0, 0, 0)
    count = counts[cell[0]][cell[1]]
    return (0 if count else 1, count, 1)


def _total(costs: Iterable[Cost]) -> Cost:
    found = list(costs)
    return (sum(z for z, _, _ in found), sum(n for _, n, _ in found), sum(k for _, _, k in found))


def _path(
    counts: Sequence[Sequence[int]], price: Callable[[Cell], Cost | None], skip: Cell, start: Node, goal: Node
) -> list[Cell] | None:
    """The cells of the cheapest path from `start` to `goal` (Dijkstra) over the cells `price` allows but `skip`:
    a cell (r, c) leads from row r to column c, and back if it is at least 1."""
    best: dict[Node, Cost] = {start: (0, 0, 0)}
    came: dict[Node, tuple[Node, Cell]] = {}
    heap: list[tuple[Cost, Node]] = [((0, 0, 0), start)]
    while heap:
        cost, node = heappop(heap)
        if node == goal:
            cells: list[Cell] = []
            while node != start:
                node, cell = came[node]
                cells.append(cell)
            return cells
        if cost > best[node]:
            continue
        kind, index = node
        if kind == "r":
            steps = [(("c", c), (index, c)) for c in range(len(counts[index]))]
        else:
            steps = [(("r", r), (r, index)) for r, row in enumerate(counts) if row[index]]
        for nxt, cell in steps:
            own = price(cell) if cell != skip else None
            if own is None:
                continue
            new = _total([cost, own])
            if nxt not in best or new < best[nxt]:
                best[nxt], came[nxt] = new, (node, cell)
                heappush(heap, (new, nxt))
    return None
