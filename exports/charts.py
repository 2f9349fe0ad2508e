"""Charts as PNG images for the report and for chat. matplotlib's object API (no pyplot): no global state, so
charts can be drawn in worker threads. DejaVu Sans, matplotlib's default font, has every Vietnamese letter."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from conversations.answers import number_text
from conversations.status import LABELS, Status

BAR = "#2F5597"
VERIFIED = "#C55A11"
STATUS_COLOURS = {
    LABELS[Status.APPROVED]: "#2E6B04",
    LABELS[Status.SUBMITTED]: "#4E9A06",
    LABELS[Status.RETURNED]: "#CC3333",
    LABELS[Status.DRAFT]: "#F0A30A",
    LABELS[None]: "#A6A6A6",
}
SERIES_COLOURS = ("#2F5597", "#C55A11", "#4E9A06", "#7030A0")
"""Bars of several questionnaires side by side."""
WIDTH_INCHES = 7.5


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    return buffer.getvalue()


@dataclass(frozen=True)
class Series:
    """One set of bars, a value per label; None where a label has no bar."""

    name: str
    values: Sequence[float | None]
    colour: str = BAR


@dataclass(frozen=True)
class Bars:
    """A horizontal bar chart's data: a bar per label and series (side by side, with a legend, when several)."""

    labels: Sequence[str]
    series: Sequence[Series]
    title: str
    maximum: float | None = None
    axis: str = ""


def _bars(ax: Axes, labels: Sequence[str], series: Sequence[Series], maximum: float | None) -> None:
    """Horizontal bars, first label on top, each with its value written at the end; a label's bars side by side,
    the first series on top."""
    found = [v for s in series for v in s.values if v is not None]
    top = maximum if maximum is not None else max([*found, 1.0])
    height, size = 0.8 / len(series), 8 if len(series) == 1 else 7
    for k, s in enumerate(series):
        offset = (k - (len(series) - 1) / 2) * height
        shown = [(y + offset, v) for y, v in enumerate(s.values) if v is not None]
        ax.barh([y for y, _ in shown], [v for _, v in shown], height=height, color=s.colour, label=s.name)
        for y, value in shown:
            ax.text(value + top * 0.01, y, number_text(round(value, 1)), va="center", fontsize=size)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.12)
    if len(series) > 1:
        ax.figure.legend(loc="outside lower center", ncols=len(series), fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", labelsize=8)


def bar_chart(chart: Bars) -> bytes:
    rows = max(len(chart.labels), 1) * (1 + 0.6 * (len(chart.series) - 1))  # a pair of bars takes more room
    figure = Figure(figsize=(WIDTH_INCHES, 1.2 + 0.32 * rows), layout="constrained")
    ax = figure.add_subplot()
    _bars(ax, chart.labels, chart.series, chart.maximum)
    ax.set_title(chart.title, fontsize=11)
    ax.set_xlabel(chart.axis, fontsize=9)
    return _png(figure)


def progress_chart(
    statuses: Sequence[tuple[str, Mapping[str, int]]],
    surveys: tuple[str, Sequence[tuple[str, int]]] | None,
    title: str,
    target: int | None = None,
) -> bytes:
    """How many units are at each status (labels of conversations.status.LABELS), a set of bars per self-assessment
    (named, side by side with a legend when the period runs several); beside it, one survey's responses per unit
    (its name and the counts), against the target number of responses when one is given."""
    rows = max(len(surveys[1]) if surveys else 0, 3)
    figure = Figure(figsize=(WIDTH_INCHES + 2, 1.6 + 0.3 * rows), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[2, 3])
    labels = list(statuses[0][1]) if statuses else []
    width = 0.8 / max(len(statuses), 1)
    highest = max([n for _, counts in statuses for n in counts.values()] + [1])
    for k, (name, counts) in enumerate(statuses):
        xs = [x + (k - (len(statuses) - 1) / 2) * width for x in range(len(labels))]
        values = [counts.get(label, 0) for label in labels]
        if len(statuses) == 1:
            left.bar(xs, values, width=width, color=[STATUS_COLOURS.get(label, BAR) for label in labels])
        else:  # one colour per questionnaire, so the legend tells them apart
            left.bar(xs, values, width=width, color=SERIES_COLOURS[k % len(SERIES_COLOURS)], label=name)
        for x, count in zip(xs, values, strict=True):
            left.text(x, count, str(count), ha="center", va="bottom", fontsize=9 if len(statuses) == 1 else 7)
    if statuses:
        left.set_xticks(range(len(labels)), labels)
        left.set_title(f"{statuses[0][0] if len(statuses) == 1 else 'Tự đánh giá'}: số đơn vị", fontsize=10)
        left.set_ylim(0, highest * 1.2)
        left.yaxis.set_major_locator(MaxNLocator(integer=True))
        left.tick_params(axis="x", labelsize=8, labelrotation=25 if len(labels) > 3 else 0)
        left.spines[["top", "right"]].set_visible(False)
        if len(statuses) > 1:
            left.legend(fontsize=7, frameon=False, loc="upper right")
    else:
        left.set_axis_off()
        left.text(0.5, 0.5, "Chưa có phiếu tự đánh giá", ha="center", va="center", fontsize=10)
    if surveys and surveys[1]:
        name, per_unit = surveys
        _bars(right, [unit for unit, _ in per_unit], [Series("", [float(n) for _, n in per_unit])], None)
        right.set_title(f"{name}: số phiếu đã nộp", fontsize=10)
        right.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts of people: no 0.2 ticks
        if target:
            right.set_xlim(0, max(right.get_xlim()[1], target * 1.12))
            right.axvline(target, color="#CC3333", linestyle="--", linewidth=1)
            right.text(target, -0.6, f"mục tiêu {target}", color="#CC3333", fontsize=8, ha="center")
    else:
        right.set_axis_off()
        right.text(0.5, 0.5, "Chưa có phiếu khảo sát nào", ha="center", va="center", fontsize=10)
    figure.suptitle(title, fontsize=12)
    return _png(figure)
