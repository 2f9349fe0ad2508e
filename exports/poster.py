"""A printable A4 poster that brings citizens to a unit's survey: the unit's name, why the survey matters, the QR
code of the Telegram deep link and what to type on Zalo. Drawn with matplotlib's object API (no global state, so
posters can be made in worker threads), as PNG for chat and PDF for printing. The QR code is made with segno and
drawn module by module in pure black; everything else is in colour, so the code stands apart on the page."""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from matplotlib.figure import Figure

A4_INCHES = (8.27, 11.69)
PNG_DPI = 200
INK = "#1F3864"
ACCENT = "#C00000"
QUIET_ZONE = 4
WHY = (
    "Ý kiến của bạn giúp chính quyền biết việc phổ biến, giáo dục pháp luật ở địa phương đã đến được với người dân "
    "chưa, để làm thiết thực hơn. Khảo sát ẩn danh, khoảng 3 phút."
)


@dataclass(frozen=True)
class Poster:
    png: bytes
    pdf: bytes


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


def make_poster(unit_name: str, unit_code: str, link: str) -> Poster:
    figure = Figure(figsize=A4_INCHES)
    text = figure.text
    text(0.5, 0.94, "KHẢO SÁT Ý KIẾN NGƯỜI DÂN", ha="center", fontsize=26, weight="bold", color=ACCENT)
    text(0.5, 0.905, "về công tác phổ biến, giáo dục pháp luật", ha="center", fontsize=15, color=INK)
    text(0.5, 0.85, _wrap(unit_name, 28), ha="center", va="top", fontsize=30, weight="bold", color=INK)
    text(0.5, 0.76, _wrap(WHY, 62), ha="center", va="top", fontsize=13, color=INK, linespacing=1.5)
    modules = qr_modules(link)
    size = len(modules) + 2 * QUIET_ZONE
    padded = [[0.0] * size for _ in range(size)]
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            padded[y + QUIET_ZONE][x + QUIET_ZONE] = 1.0 if dark else 0.0
    side = 0.52
    ax = figure.add_axes((0.5 - side / 2, 0.22, side, side * A4_INCHES[0] / A4_INCHES[1]))
    ax.imshow(padded, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    text(0.5, 0.19, "Quét mã bằng camera điện thoại để mở khảo sát trên Telegram", ha="center", fontsize=14, color=INK)
    text(0.5, 0.165, link, ha="center", fontsize=11, color=INK, family="monospace")
    zalo = f"Dùng Zalo? Nhắn tin cho tài khoản Zalo của chương trình:\n“khảo sát {unit_code}”"
    text(0.5, 0.1, zalo, ha="center", va="top", fontsize=15, weight="bold", color=ACCENT, linespacing=1.6)
    png, pdf = io.BytesIO(), io.BytesIO()
    figure.savefig(png, format="png", dpi=PNG_DPI)
    figure.savefig(pdf, format="pdf")
    return Poster(png.getvalue(), pdf.getvalue())
