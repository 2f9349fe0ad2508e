"""A printable A4 poster that brings people to a public survey: its title, the unit (or the event) it asks about, why
it matters, the QR code of the Telegram deep link and, when the Zalo Official Account is configured, a second QR code
that opens the OA on Zalo with the words to type there, and, when given, a small code and the address of the survey's
public results at the foot. Drawn with matplotlib's object API (no global state, so posters can be made in worker
threads), as PNG for chat and PDF for printing. The QR codes are made with segno and drawn module by module, the ones
that open the survey in pure black and the results' in RESULTS_INK, a colour nothing else is drawn in; the text is
in colour, so each code stands apart on the page."""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

A4_INCHES = (8.27, 11.69)
PNG_DPI = 200
INK = "#1F3864"
ACCENT = "#C00000"
RESULTS_INK = "#003264"
"""The results' code: dark enough to scan, and neither black nor a blend of the text's colours with white."""
QUIET_ZONE = 4
TITLE_LINE = 0.035
"""A line of the title (24 pt, as a share of the page's height)."""
WHY = (
    "Ý kiến của bạn giúp biết việc phổ biến, giáo dục pháp luật đã đến được với mọi người chưa, để làm thiết thực "
    "hơn. Phiếu ẩn danh, chỉ mất vài phút."
)
TELEGRAM = "Telegram: quét mã bằng camera điện thoại"
ZALO = "Zalo: quét mã để mở {account}, rồi nhắn:"
RESULTS = "Xem kết quả khảo sát (đã ẩn số liệu ít người trả lời): quét mã nhỏ này hoặc mở"


@dataclass(frozen=True)
class Poster:
    png: bytes
    pdf: bytes


@dataclass(frozen=True)
class ZaloCode:
    """The Zalo Official Account on a poster: its name, the link its QR code opens and the words to send it."""

    account: str
    link: str
    words: str


@dataclass(frozen=True)
class PosterText:
    """What a poster says: the survey's title, the unit or event it asks about, and where to answer it."""

    title: str
    place: str
    telegram: str
    zalo: ZaloCode | None = None
    results: str | None = None
    """The address of the survey's public results for the place, when people can open it."""


def qr_modules(data: str) -> list[list[bool]]:
    """The QR code's dark modules, row by row, without the quiet zone."""
    code = segno.make(data, error="m", micro=False)
    return [[bool(module) for module in row] for row in code.matrix]


def _wrap(text: str, width: int) -> str:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _code(figure: Figure, data: str, centre: float, side: float, bottom: float, ink: str = "#000000") -> None:
    modules = qr_modules(data)
    size = len(modules) + 2 * QUIET_ZONE
    padded = [[0.0] * size for _ in range(size)]
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            padded[y + QUIET_ZONE][x + QUIET_ZONE] = 1.0 if dark else 0.0
    ax = figure.add_axes((centre - side / 2, bottom, side, side * A4_INCHES[0] / A4_INCHES[1]))
    ax.imshow(padded, cmap=ListedColormap(["#FFFFFF", ink]), vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()


def make_poster(poster: PosterText) -> Poster:
    figure = Figure(figsize=A4_INCHES)
    text = figure.text
    title = _wrap(poster.title.upper(), 30)
    below = TITLE_LINE * title.count("\n")  # what follows a title of several lines moves down by them
    text(0.5, 0.94, title, ha="center", va="top", fontsize=24, weight="bold", color=ACCENT)
    text(0.5, 0.86 - below, "về công tác phổ biến, giáo dục pháp luật", ha="center", fontsize=15, color=INK)
    text(0.5, 0.83 - below, _wrap(poster.place, 30), ha="center", va="top", fontsize=26, weight="bold", color=INK)
    text(0.5, 0.71 - below, _wrap(WHY, 62), ha="center", va="top", fontsize=13, color=INK, linespacing=1.5)
    zalo = poster.zalo
    if zalo is None:
        _code(figure, poster.telegram, 0.5, 0.5, 0.2)
        text(0.5, 0.17, TELEGRAM, ha="center", fontsize=14, color=INK)
        text(0.5, 0.145, poster.telegram, ha="center", fontsize=11, color=INK, family="monospace")
    else:
        for centre, data in ((0.27, poster.telegram), (0.73, zalo.link)):
            _code(figure, data, centre, 0.4, 0.3)
        text(0.27, 0.27, _wrap(TELEGRAM, 26), ha="center", va="top", fontsize=13, color=INK)
        text(0.27, 0.2, poster.telegram, ha="center", va="top", fontsize=7, color=INK, family="monospace")
        said = _wrap(ZALO.format(account=zalo.account), 30)
        text(0.73, 0.27, said, ha="center", va="top", fontsize=13, color=INK)
        text(0.73, 0.17, _wrap(f"“{zalo.words}”", 24), ha="center", va="top", fontsize=15, weight="bold", color=ACCENT)
    if poster.results is not None:
        _code(figure, poster.results, 0.14, 0.13, 0.02, RESULTS_INK)
        text(0.25, 0.095, _wrap(RESULTS, 60), ha="left", va="top", fontsize=11, color=INK)
        text(0.25, 0.045, poster.results, ha="left", va="top", fontsize=9, color=INK, family="monospace")
    png, pdf = io.BytesIO(), io.BytesIO()
    figure.savefig(png, format="png", dpi=PNG_DPI)
    figure.savefig(pdf, format="pdf")
    return Poster(png.getvalue(), pdf.getvalue())
