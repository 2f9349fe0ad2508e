"""The district report: an editable Word draft of the report on the period's evaluation, built from the same
figures as the workbooks, with charts, and blank sections the Justice Office writes itself. Every page says it
is a draft."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table

from conversations.answers import count_text, number_text
from conversations.definition import Question, Questionnaire, question_label
from conversations.disclosure import answered
from conversations.localtime import day_text, local_time
from conversations.measures import SurveyTally, declines_text
from conversations.scoring import question_points
from exports import charts
from exports.assessment import Assessment, UnitResult, final_level, lowered_line, most_lowered, status_counts
from exports.opinions import themes
from exports.results import HIDDEN_NOTE
from exports.survey import ALL_UNITS, SurveyResults, event_groups, event_rows
from exports.workbook import HIDDEN

DRAFT_MARK = "DỰ THẢO – Phòng Tư pháp kiểm tra, chỉnh sửa trước khi ban hành"
FONT = "Times New Roman"
UNSCORED = (
    "{title} không chấm điểm: số liệu và minh chứng của từng đơn vị ở tệp Excel của bảng hỏi (/xuat danhgia {code}). "
    "Các đơn vị đã nộp phiếu:"
)
TOTALS_PAIRED = "Tổng điểm tự chấm và tổng điểm thẩm định (chỉ các đơn vị đã chốt kết quả) theo đơn vị"
RANKS = (
    "Xếp loại và hạng theo tổng điểm thẩm định của Phòng Tư pháp, chỉ cho các đơn vị đã chốt kết quả (xếp hạng "
    "trong số các đơn vị đã chốt; bằng điểm thì cùng hạng); hạng tự chấm xếp theo tổng điểm các đơn vị tự chấm."
)
RANKS_UNGRADED = (
    "Bộ tiêu chí chưa có ngưỡng xếp loại chính thức nên chưa xếp loại. Hạng theo tổng điểm thẩm định của Phòng Tư "
    "pháp, chỉ cho các đơn vị đã chốt kết quả (bằng điểm thì cùng hạng); hạng tự chấm xếp theo tổng điểm tự chấm."
)


@dataclass(frozen=True)
class ReportData:
    period: str
    deadline: str
    assessments: list[Assessment]
    """One per self-assessment the period runs, in the order the report gives them."""
    surveys: list[SurveyResults]
    made_at: datetime


def criterion_title(q: Question) -> str:
    """A criterion as a heading: its export label, or its question up to the question mark (without the typing
    instructions that follow)."""
    if q.export_label:
        return q.export_label
    head, mark, _ = q.text.partition("?")
    return head + mark


def criteria_achievement(a: Assessment) -> list[tuple[Question, float]]:
    """Each scored criterion with the average share of its maximum that submitted units scored, highest first."""
    units = a.submitted
    if not units:
        return []
    found = []
    for q in a.qn.questions:
        if not q.scored:
            continue
        points = [question_points(q, r.answers[q.id]) if q.id in r.answers else 0.0 for r in units]
        found.append((q, round(100 * sum(points) / (q.max_points * len(units)), 1)))
    return sorted(found, key=lambda item: -item[1])


# ---------------------------------------------------------------- document helpers


def _setup(doc: DocxDocument) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(13)
    for level in (1, 2):
        heading = doc.styles[f"Heading {level}"]
        heading.font.name, heading.font.size = FONT, Pt(14 if level == 1 else 13)
        heading.font.bold, heading.font.color.rgb = True, RGBColor(0, 0, 0)
        fonts = heading.element.rPr.rFonts  # the theme's heading font would win over the name above
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(theme), None)
    mark = section.header.paragraphs[0]
    mark.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = mark.add_run(DRAFT_MARK)
    run.bold, run.font.size, run.font.color.rgb = True, Pt(10), RGBColor(0xC0, 0, 0)


def _centred(doc: DocxDocument, text: str, bold: bool = False, size: int = 13, italic: bool = False) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold, run.italic, run.font.size = bold, italic, Pt(size)


def _blank(doc: DocxDocument, what: str) -> None:
    """A section the Justice Office writes: highlighted, so it cannot be missed."""
    run = doc.add_paragraph().add_run(f"[Phòng Tư pháp viết: {what}]")
    run.italic = True
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _table(doc: DocxDocument, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> Table:
    table: Table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold, run.font.size = True, Pt(10)
    for values in rows:
        cells = table.add_row().cells  # type: ignore[no-untyped-call]
        for cell, text in zip(cells, values, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).font.size = Pt(10)
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
    return table


def _picture(doc: DocxDocument, png: bytes, caption: str) -> None:
    """A chart and its caption, kept on one page (keep with next)."""
    doc.add_picture(io.BytesIO(png), width=Cm(16))
    chart = doc.paragraphs[-1]
    chart.alignment = WD_ALIGN_PARAGRAPH.CENTER
    chart.paragraph_format.keep_with_next = True
    _centred(doc, caption, italic=True, size=11)


def _closing(doc: DocxDocument) -> None:
    """Recipients and the signature line, kept on one page with the section before them: the report never ends on
    a page holding only the signature."""
    doc.paragraphs[-1].paragraph_format.keep_with_next = True
    closing = doc.add_table(rows=1, cols=2)
    closing.rows[0].cells[0].text = "Nơi nhận:\n- [……];\n- Lưu: VT."
    closing.rows[0].cells[1].text = "TRƯỞNG PHÒNG\n\n\n[Họ và tên]"
    closing.rows[0].cells[1].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    row = closing.rows[0]._tr.get_or_add_trPr()
    row.append(OxmlElement("w:cantSplit"))


def _cell(value: float | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else number_text(value)


# ---------------------------------------------------------------- sections


def _heading_block(doc: DocxDocument, data: ReportData) -> None:
    top = doc.add_table(rows=1, cols=2)
    left, right = top.rows[0].cells
    left.text = "ỦY BAN NHÂN DÂN [……]\nPHÒNG TƯ PHÁP\nSố: ……/BC-TP"
    right.text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n[……], ngày … tháng … năm …"
    for cell in (left, right):
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for run in paragraph.runs:
                run.bold, run.font.size = True, Pt(12)
    doc.add_paragraph()
    _centred(doc, "BÁO CÁO", bold=True, size=14)
    _centred(
        doc,
        f"Kết quả đánh giá hiệu quả công tác phổ biến, giáo dục pháp luật kỳ {data.period}",
        bold=True,
        size=14,
    )
    _centred(doc, f"(Dự thảo lập ngày {local_time(data.made_at)} từ dữ liệu trên hệ thống)", italic=True, size=12)


class Numbering:
    """Sections and charts are numbered as they are written: how many there are depends on the questionnaires the
    period runs. With several of a kind, each heading names its questionnaire."""

    def __init__(self, data: ReportData) -> None:
        self.section = self.chart = 0
        self.several = len(data.assessments) > 1 or len(data.surveys) > 1

    def of(self, text: str, qn: Questionnaire | None) -> str:
        """A heading, caption or label ("Tự đánh giá"), with the questionnaire's name when there are several."""
        return f"{text} – {qn.short_title}" if qn is not None and self.several else text

    def heading(self, doc: DocxDocument, title: str, qn: Questionnaire | None = None) -> None:
        self.section += 1
        doc.add_heading(f"{self.section}. {self.of(title, qn)}", level=2)

    def caption(self, title: str, qn: Questionnaire | None = None) -> str:
        self.chart += 1
        return f"Biểu đồ {self.chart}. {self.of(title, qn)}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _participation(doc: DocxDocument, data: ReportData, n: Numbering) -> None:
    n.heading(doc, "Tình hình tham gia")
    for a in data.assessments:
        counts = status_counts(a)
        submitted, drafts, missing = counts.values()
        doc.add_paragraph(
            f"{n.of('Tự đánh giá', a.qn)}: {submitted}/{len(a.units)} đơn vị đã nộp phiếu, {drafts} đơn vị đang làm, "
            f"{missing} đơn vị chưa bắt đầu (hạn nộp {data.deadline}).",
            style="List Bullet",
        )
    for s in data.surveys:
        places = sum(1 for tally in s.by_unit.values() if tally.responses)
        declines = declines_text(s.overall.responses, s.overall.declined)
        doc.add_paragraph(
            f"{s.qn.shown_title}: {s.overall.responses} phiếu đã nộp tại {places} đơn vị{declines}; "
            f"công bố được tỷ lệ của {len(s.shown_units())} đơn vị ({HIDDEN_NOTE.format(minimum=s.minimum)}).",
            style="List Bullet",
        )
    for a in data.assessments:
        statuses = [(a.qn.shown_title, status_counts(a))]
        surveys = (a.survey.shown_title, [(r.unit.name, r.survey_responses) for r in a.units]) if a.survey else None
        _picture(
            doc,
            charts.progress_chart(statuses, surveys, f"Tiến độ kỳ {data.period}"),
            n.caption("Tiến độ tự đánh giá và số phiếu khảo sát theo đơn vị", a.qn),
        )


def _verified_cell(r: UnitResult) -> str:
    """The verified total, or where the scoring stands when it is not finalised."""
    if r.verified is None or r.verification is None:
        return r.scoring or ""
    total = number_text(r.verified.verified_total)
    return total if r.finalised else f"{total} ({_lower_first(r.scoring or '')})"


def _scores(doc: DocxDocument, a: Assessment, n: Numbering) -> None:
    n.heading(doc, "Điểm tự đánh giá và thẩm định theo đơn vị", a.qn)
    graded = bool(a.qn.classification)
    header = ["STT", "Đơn vị", f"Tự chấm\n({a.qn.max_points:g})", "Hạng tự chấm"]
    header += [*(["Theo khảo sát"] if a.measured else []), "Thẩm định", *(["Xếp loại"] if graded else []), "Hạng"]
    rows = []
    for place, r in enumerate(a.submitted, start=1):
        assert r.card is not None
        row = [str(place), r.unit.name, number_text(r.card.total), str(r.self_rank)]
        if a.measured:
            row.append(number_text(r.survey_card.total) if r.survey_card is not None else HIDDEN)
        row.append(_verified_cell(r))
        rows.append([*row, *([final_level(a, r)] if graded else []), str(r.rank or "")])
    if not rows:
        doc.add_paragraph("Chưa có đơn vị nào nộp phiếu tự đánh giá.")
        return
    widths = [1.0, 3.6, 1.6, 1.5, *([1.7] if a.measured else []), 2.4, *([2.4] if graded else []), 1.2]
    _table(doc, header, rows, widths)
    doc.add_paragraph(RANKS if graded else RANKS_UNGRADED)
    chart = totals_chart(a)
    paired = len(chart.series) > 1
    _picture(
        doc, charts.bar_chart(chart), n.caption(TOTALS_PAIRED if paired else "Tổng điểm tự đánh giá theo đơn vị", a.qn)
    )


def totals_chart(a: Assessment) -> charts.Bars:
    """The submitted units' own totals; once a unit is finalised, its verified total beside (the other units have no
    such bar: their verified total may still change)."""
    cards = [(r, r.card) for r in a.submitted if r.card is not None]
    labels, own = [r.unit.name for r, _ in cards], charts.Series("Tự chấm", [card.total for _, card in cards])
    final = [r.final_total for r, _ in cards]
    if all(total is None for total in final):
        return charts.Bars(labels, [own], "Tổng điểm tự đánh giá", a.qn.max_points, "điểm")
    verified = charts.Series("Thẩm định (đơn vị đã chốt)", final, charts.VERIFIED)
    return charts.Bars(labels, [own, verified], "Tổng điểm tự chấm và thẩm định", a.qn.max_points, "điểm")


def _mean(values: Sequence[float | None]) -> str:
    found = [v for v in values if v is not None]
    return number_text(round(sum(found) / len(found), 2)) if found else ""


def _points(doc: DocxDocument, a: Assessment, n: Numbering) -> None:
    """Each group's and each criterion's average self, survey-based and verified points."""
    scored = [r.verified for r in a.submitted if r.verified is not None]
    final = [r.verified for r in a.submitted if r.finalised and r.verified is not None]
    if not scored:
        return
    n.heading(doc, "Điểm từng nhóm, từng tiêu chí: tự chấm, theo khảo sát, thẩm định", a.qn)
    by_survey = "; theo khảo sát: trên các đơn vị đủ số phiếu khảo sát" if a.measured else ""
    base = f"trên {len(final)} đơn vị đã chốt kết quả" if final else "chưa có (chưa đơn vị nào chốt kết quả)"
    doc.add_paragraph(f"Điểm trung bình: tự chấm trên {len(scored)} đơn vị đã nộp phiếu; thẩm định {base}{by_survey}.")
    survey = ["Theo khảo sát TB"] if a.measured else []
    rows = []
    for g in scored[0].groups:
        own = [next(x for x in v.groups if x.code == g.code) for v in scored]
        done = [next(x for x in v.groups if x.code == g.code) for v in final]
        row = [f"{g.code}. {g.title}", number_text(g.maximum), _mean([x.self_points for x in own])]
        surveyed = any(q.group == g.code for q in a.measured)  # other groups' points are the unit's own
        row += [_mean([x.survey_points for x in own]) if surveyed else ""] if a.measured else []
        rows.append([*row, _mean([x.verified for x in done])])
    _table(
        doc,
        ["Nhóm tiêu chí", "Tối đa", "Tự chấm TB", *survey, "Thẩm định TB"],
        rows,
        [8.0, 1.6, 2.0, *([2.2] if a.measured else []), 2.0],
    )
    lowered = {x.question.id: len(x.units) for x in most_lowered(a)}
    rows = []
    for q in a.qn.questions:
        criteria = [c for v in scored if (c := v.criterion(q.id)) is not None]
        if not q.scored or not criteria:
            continue
        checked = [c for v in final if (c := v.criterion(q.id)) is not None]
        row = [
            f"{q.code or q.id} {criterion_title(q)}",
            number_text(q.max_points),
            _mean([c.self_points for c in criteria]),
        ]
        row += [_mean([c.survey_points for c in criteria])] if a.measured else []
        rows.append([*row, _mean([c.verified for c in checked]), str(lowered.get(q.id, 0))])
    header = ["Tiêu chí", "Tối đa", "Tự chấm TB", *survey, "Thẩm định TB", "Số đơn vị bị hạ điểm"]
    _table(doc, header, rows, [6.0, 1.3, 2.0, *([2.2] if a.measured else []), 2.0, 2.0])


def _lowered(doc: DocxDocument, a: Assessment, n: Numbering, most: int = 10) -> None:
    """The criteria lowered most often, each with its units and their reasons."""
    n.heading(doc, "Tiêu chí bị hạ điểm nhiều nhất khi thẩm định", a.qn)
    found = most_lowered(a)
    if not found:
        doc.add_paragraph("Chưa có tiêu chí nào bị hạ điểm khi thẩm định.")
        return
    doc.add_paragraph(
        f"{len(found)} tiêu chí được Phòng Tư pháp chấm thấp hơn điểm tự chấm (kể cả ở đơn vị đang thẩm định)"
        + (
            ":"
            if len(found) <= most
            else f"; dưới đây là {most} tiêu chí bị hạ ở nhiều đơn vị nhất, danh sách đủ ở trang "
            "“Tiêu chí bị hạ điểm” của tệp Excel tự đánh giá:"
        )
    )
    rows = [
        [
            f"{x.question.code or x.question.id} {criterion_title(x.question)}",
            str(len(x.units)),
            "\n".join(lowered_line(r, c) for r, c in x.units),
        ]
        for x in found[:most]
    ]
    _table(doc, ["Tiêu chí", "Số đơn vị bị hạ điểm", "Đơn vị (tự chấm → thẩm định): lý do"], rows, [5.0, 2.0, 9.0])


def _submitted(doc: DocxDocument, a: Assessment, n: Numbering) -> None:
    """A framework without points (the pilot's template): the units that submitted it, and where its figures are."""
    n.heading(doc, "Đơn vị đã nộp phiếu", a.qn)
    if not a.submitted:
        doc.add_paragraph("Chưa có đơn vị nào nộp phiếu tự đánh giá.")
        return
    doc.add_paragraph(UNSCORED.format(title=a.qn.shown_title, code=a.qn.id))
    for r in a.submitted:
        doc.add_paragraph(r.unit.name, style="List Bullet")


def _criteria(doc: DocxDocument, a: Assessment, n: Numbering) -> None:
    n.heading(doc, "Tiêu chí đạt cao nhất và thấp nhất", a.qn)
    achieved = criteria_achievement(a)
    if not achieved:
        doc.add_paragraph("Chưa có đơn vị nào nộp phiếu tự đánh giá.")
        return
    doc.add_paragraph("Tỷ lệ điểm tự chấm trung bình so với điểm tối đa của tiêu chí, trên các đơn vị đã nộp phiếu.")
    count = min(3, len(achieved) // 2 or 1)
    for title, chosen in (("Đạt cao nhất", achieved[:count]), ("Đạt thấp nhất", achieved[::-1][:count])):
        doc.add_paragraph(title + ":")
        for q, percent in chosen:
            doc.add_paragraph(f"{q.code or q.id} {criterion_title(q)} – {number_text(percent)} %", style="List Bullet")


def _survey(doc: DocxDocument, s: SurveyResults, n: Numbering) -> None:
    n.heading(doc, f"Kết quả {_lower_first(s.qn.shown_title)}")
    shown = [f for f in s.indicators if f.headline]
    header = ["Đơn vị", "Số phiếu", *[f.label for f in shown]]
    rows = []
    sets: list[tuple[str, str | None]] = [(u.name, u.code) for u in s.units]
    sets += [(ALL_UNITS, None)] if len(s.units) > 1 else []
    for name, code in sets:
        tally = s.overall if code is None else s.by_unit.get(code, SurveyTally())
        rows.append([name, str(tally.responses), *[_cell(s.value(f, code)) for f in shown]])
    _table(doc, header, rows, [4.0, 1.6, *[2.6] * len(shown)])
    doc.add_paragraph(f"“{HIDDEN}”: không công bố tỷ lệ để bảo đảm ẩn danh ({HIDDEN_NOTE.format(minimum=s.minimum)}).")
    q = s.satisfaction
    if q is not None and s.overall.answered[q.id] and not s.overall_hidden(f"question:{q.id}", answered(q.id), [q.id]):
        base = s.overall.answered[q.id]
        percents = [100 * s.overall.chosen[(q.id, c.value)] / base for c in q.options]
        said_as = q.export_label or q.text
        chart = charts.bar_chart(
            charts.Bars([c.label for c in q.options], [charts.Series("", percents)], said_as, 100, "%")
        )
        said = f"Mức độ hài lòng – {_lower_first(s.qn.shown_title)} ({base} người trả lời)"
        _picture(doc, chart, n.caption(said))


def _events(doc: DocxDocument, s: SurveyResults, n: Numbering) -> None:
    """Which sessions reached whom, and how satisfied they were: the units' tables of events (exports.survey)."""
    rows = event_rows(s)
    if not rows:
        return
    n.heading(doc, f"Kết quả theo sự kiện – {_lower_first(s.qn.shown_title)}")
    shown = [i for i, f in enumerate(s.indicators) if f.headline]
    header = ["Đơn vị", "Sự kiện", "Số phiếu", *[s.indicators[i].label for i in shown]]
    table = [
        [r.unit.name, r.name + (f" ({day_text(r.day)})" if r.day else ""), str(r.tally.responses)]
        + [_cell(r.values[i]) for i in shown]
        for r in rows
    ]
    _table(doc, header, table, [3.2, 4.4, 1.6, *[2.4] * len(shown)])
    doc.add_paragraph(
        "Mỗi đơn vị: từng sự kiện, người trả lời không qua sự kiện và cả đơn vị; "
        f"“{HIDDEN}” như trên, và thêm một ô khi chỉ một ô của đơn vị bị ẩn, để không trừ ra được."
    )
    _event_groups(doc, s)


REPORT_OPTIONS = 5
"""The most options a breakdown may have for its table of who each event reached to be in the report (a column
each, on a portrait page); the others are on the survey workbook's Sự kiện theo nhóm."""


def _event_groups(doc: DocxDocument, s: SurveyResults) -> None:
    """Which sessions reached whom: each event's respondents by group (exports.survey `event_groups`), a table per
    breakdown with few options, hidden as the workbook's Sự kiện theo nhóm."""
    found = event_groups(s)
    if not found:
        return
    wide: list[str] = []
    for d in s.dimensions:
        said = f"câu “{question_label(d)}”"
        if len(d.options) > REPORT_OPTIONS:
            wide.append(said)
            continue
        doc.add_paragraph(f"Người trả lời của từng sự kiện, chia theo {said}:")
        header = ["Đơn vị", "Sự kiện", *(c.label for c in d.options), "Tổng"]
        rows = [
            [t.unit.name, r.name + (f" ({day_text(r.day)})" if r.day else ""), *map(_cell, r.counts), _cell(r.total)]
            for t in found
            if t.dimension is d
            for r in t.rows
        ]
        each = round(9.6 / (len(d.options) + 1), 2)
        _table(doc, header, rows, [2.8, 4.2, *[each] * (len(d.options) + 1)])
    if wide:
        doc.add_paragraph(f"Chia theo {', '.join(wide)}: xem trang “Sự kiện theo nhóm” của tệp Excel /xuat khaosat.")
    doc.add_paragraph(
        f"“{HIDDEN}”: ô có từ 1 đến dưới {s.minimum} người, và thêm các ô khác để không ai tính ra được từ tổng "
        "của từng dòng (số phiếu của sự kiện) và từng cột (số người của nhóm trong đơn vị)."
    )


def _survey_versus_self(doc: DocxDocument, a: Assessment, n: Numbering) -> None:
    if not a.measured:
        return
    compared = "Đối chiếu điểm tự chấm với điểm tính từ khảo sát (cùng khoảng điểm), trên các đơn vị đủ số phiếu"
    doc.add_paragraph(n.of(compared, a.qn) + ":")
    header = ["Tiêu chí", "Số đơn vị", "Điểm tự chấm TB", "Điểm theo khảo sát TB"]
    rows = []
    for q in a.measured:
        pairs = [
            (question_points(q, r.answers[q.id]) if q.id in r.answers else 0.0, question_points(q, rate.percent))
            for r in a.submitted
            if q.id not in r.hidden_rates and (rate := r.survey_rates[q.id]).percent is not None
        ]
        own = number_text(round(sum(p for p, _ in pairs) / len(pairs), 2)) if pairs else ""
        survey = number_text(round(sum(p for _, p in pairs) / len(pairs), 2)) if pairs else ""
        rows.append([f"{q.code} (tối đa {q.max_points:g})", str(len(pairs)), own, survey])
    _table(doc, header, rows, [4.5, 2.0, 3.5, 3.5])


def _opinions(doc: DocxDocument, s: SurveyResults, n: Numbering) -> None:
    n.heading(doc, f"Ý kiến, kiến nghị – {_lower_first(s.qn.shown_title)}")
    found = themes([text for _, _, _, text in s.texts])
    if not found:
        doc.add_paragraph("Chưa có ý kiến nào.")
        return
    doc.add_paragraph(
        f"{len(s.texts)} ý kiến, chia nhóm tự động theo từ khóa (một ý kiến có thể thuộc nhiều nhóm; "
        "toàn văn từng ý kiến ở trang “Ý kiến” của tệp dữ liệu gốc /xuat dulieu, chỉ quản trị viên lấy được):"
    )
    _table(doc, ["Nhóm ý kiến", "Số ý kiến"], [[n, count_text(c)] for n, c in found], [12.2, 3.8])


def build_docx(data: ReportData) -> bytes:
    doc = Document()
    _setup(doc)
    _heading_block(doc, data)
    doc.add_heading("I. MỤC ĐÍCH, CĂN CỨ, PHẠM VI ĐÁNH GIÁ", level=1)
    _blank(doc, "căn cứ thực hiện (kế hoạch, văn bản chỉ đạo), mục đích, phạm vi và cách thức đánh giá")
    doc.add_heading("II. KẾT QUẢ ĐÁNH GIÁ", level=1)
    n = Numbering(data)
    _participation(doc, data, n)
    for a in data.assessments:
        if not a.qn.scored:
            _submitted(doc, a, n)
            continue
        _scores(doc, a, n)
        _points(doc, a, n)
        _lowered(doc, a, n)
        _criteria(doc, a, n)
    for s in data.surveys:
        _survey(doc, s, n)
        _events(doc, s, n)
        for a in data.assessments:
            if a.survey is not None and a.survey.id == s.qn.id:
                _survey_versus_self(doc, a, n)
        _opinions(doc, s, n)
    doc.add_heading("III. ĐÁNH GIÁ CHUNG", level=1)
    doc.add_heading("1. Ưu điểm", level=2)
    _blank(doc, "những kết quả nổi bật, mô hình, cách làm hay")
    doc.add_heading("2. Hạn chế, nguyên nhân", level=2)
    _blank(doc, "hạn chế, khó khăn và nguyên nhân chủ quan, khách quan")
    doc.add_heading("IV. PHƯƠNG HƯỚNG, ĐỀ XUẤT, KIẾN NGHỊ", level=1)
    _blank(doc, "nhiệm vụ thời gian tới, đề xuất, kiến nghị với cấp trên")
    _closing(doc)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
