"""Questionnaire definitions: one normalised, validated structure, loaded from YAML.

A definition is data. Loading checks everything the engine later relies on (ids, references, show-if order,
points and group maxima), so a bad file is refused at start with the file, the question id and the problem.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import date
from functools import cached_property, partial
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from conversations.definition_errors import DefinitionCode, DefinitionError, DefinitionProblem
from conversations.expressions import Expression, ExpressionError, Where, parse
from conversations.question_types import KINDS, Kind
from conversations.question_types import QuestionType as QuestionType
from conversations.text import nfc

ID_PATTERN = r"^[a-z][a-z0-9_]{0,23}$"
"""Ids end up in button data (≤64 bytes on Telegram): short ASCII keeps every token well under the limit."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(Strict):
    value: Annotated[str, Field(pattern=ID_PATTERN)]
    label: str
    points: float | None = None
    attributes: dict[str, str] = {}
    """Other columns of the choice (XLSForm choices sheet), for `choice_filter`."""
    exclusive: bool = False
    """Multiple choice: this option is chosen alone ("Không biết", "Chưa tổ chức riêng cho nhóm nào")."""

    @field_validator("label")
    @classmethod
    def _nfc(cls, label: str) -> str:
        return nfc(label)


YES_NO_CHOICES = (Choice(value="co", label="Có"), Choice(value="khong", label="Không"))


class Band(Strict):
    """Points for a number in [min, max] (inclusive) or [min, below) (exclusive upper end)."""

    min: float
    max: float | None = None
    below: float | None = None
    points: float

    @model_validator(mode="after")
    def _one_upper_bound(self) -> Band:
        if (self.max is None) == (self.below is None):
            raise ValueError("mỗi khoảng điểm cần đúng một trong hai: 'max' (gồm cả) hoặc 'below' (không gồm)")
        upper = self.max if self.max is not None else self.below
        assert upper is not None
        if upper < self.min:
            raise ValueError("khoảng điểm có cận trên nhỏ hơn cận dưới")
        return self

    def contains(self, number: float) -> bool:
        if number < self.min:
            return False
        return number <= self.max if self.max is not None else number < (self.below or 0)


Test = Callable[[Mapping[str, Any]], bool]


def _holds_all(tests: tuple[Test, ...], values: Mapping[str, Any]) -> bool:
    return all(t(values) for t in tests)


def _holds_any(tests: tuple[Test, ...], values: Mapping[str, Any]) -> bool:
    return any(t(values) for t in tests)


def _holds_not(test: Test, values: Mapping[str, Any]) -> bool:
    return not test(values)


def _is_answered(name: str, answered: bool, values: Mapping[str, Any]) -> bool:
    return (name in values) == answered


def _equals(name: str, expected: object, values: Mapping[str, Any]) -> bool:
    return name in values and bool(values[name] == expected)


def _not_equals(name: str, unexpected: object, values: Mapping[str, Any]) -> bool:
    return name in values and bool(values[name] != unexpected)


def _is_in(name: str, allowed: list[str], values: Mapping[str, Any]) -> bool:
    return name in values and values[name] in allowed


def _includes(name: str, item: str, values: Mapping[str, Any]) -> bool:
    return name in values and isinstance(values[name], list) and item in values[name]


def _compared(name: str, gte: float | None, lte: float | None, values: Mapping[str, Any]) -> bool:
    value = values.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    if gte is not None:
        return bool(value >= gte)
    return lte is not None and bool(value <= lte)


class Condition(Strict):
    """A show-if rule on earlier answers. Exactly one form is used per node: a test on one question, a
    combination (`all`, `any`, `not`), or an XLSForm `expression` (conversations.expressions)."""

    question: str | None = None
    equals: StrictStr | StrictInt | StrictFloat | None = None
    not_equals: StrictStr | StrictInt | StrictFloat | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    includes: str | None = None
    gte: float | None = None
    lte: float | None = None
    answered: bool | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")
    expression: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def parsed(self) -> Expression | None:
        return parse(self.expression, Where.RELEVANT) if self.expression is not None else None

    @cached_property
    def test(self) -> Callable[[Mapping[str, Any]], bool]:
        """Whether the condition holds over the values given (a value missing: the question is unanswered or
        hidden). Compiled once per definition: every question's show-if is tested several times per message. Made
        of module functions, so that a definition still pickles (an export's worker process gets it)."""
        parsed = self.parsed
        if parsed is not None:
            return parsed.holds
        if self.all is not None:
            return partial(_holds_all, tuple(c.test for c in self.all))
        if self.any is not None:
            return partial(_holds_any, tuple(c.test for c in self.any))
        if self.not_ is not None:
            return partial(_holds_not, self.not_.test)
        name = self.question
        assert name is not None
        if self.answered is not None:
            return partial(_is_answered, name, self.answered)
        if self.equals is not None:
            return partial(_equals, name, self.equals)
        if self.not_equals is not None:
            return partial(_not_equals, name, self.not_equals)
        if self.in_ is not None:
            return partial(_is_in, name, self.in_)
        if self.includes is not None:
            return partial(_includes, name, self.includes)
        return partial(_compared, name, self.gte, self.lte)

    @model_validator(mode="after")
    def _well_formed(self) -> Condition:
        combinators = [x for x in (self.all, self.any, self.not_) if x is not None]
        tests = [
            x
            for x in (self.equals, self.not_equals, self.in_, self.includes, self.gte, self.lte, self.answered)
            if x is not None
        ]
        if self.expression is not None:
            if combinators or tests or self.question is not None:
                raise ValueError("điều kiện dạng 'expression' không dùng cùng 'question', 'all', 'any', 'not'")
            parse(self.expression, Where.RELEVANT)
        elif combinators:
            if len(combinators) > 1 or tests or self.question is not None:
                raise ValueError("điều kiện chỉ dùng một trong 'all', 'any', 'not'")
        elif self.question is None or len(tests) != 1:
            raise ValueError("điều kiện cần 'question' và đúng một phép so sánh")
        return self

    def compared_values(self) -> Iterator[tuple[str, str]]:
        """(question, value) pairs this condition compares with choice values, for checking at load."""
        if self.question is not None:
            for value in [self.equals, self.not_equals, self.includes, *(self.in_ or [])]:
                if isinstance(value, str):
                    yield self.question, value
        for child in (self.all or []) + (self.any or []) + ([self.not_] if self.not_ else []):
            yield from child.compared_values()

    def referenced(self) -> Iterator[str]:
        if self.question is not None:
            yield self.question
        if self.parsed is not None:
            yield from self.parsed.refs
        for child in (self.all or []) + (self.any or []) + ([self.not_] if self.not_ else []):
            yield from child.referenced()


class SurveyMeasure(Strict):
    """A criterion whose figure a public survey measures. Its value is a percentage computed from one unit's
    submitted survey responses, then given points by the criterion's own `bands`:

    - `question` and `values`: the share of the respondents who answered `question` that chose one of `values`;
    - `group`: the share of the points of that survey group that the respondents earned (knowledge questions).

    `survey` names the survey by its questionnaire code: one code (`survey: khao-sat-nguoi-dan`), or several, one
    per audience (`survey: [khao-sat-nguoi-dan, khao-sat-phong-ban]`: a commune's citizens, a department's staff),
    each asking `question` or `group` alike. A unit's figure comes from the first of them that the period assigns
    to the unit (`survey_for`), else from the first named.
    """

    indicator: Literal["self_study", "satisfaction", "knowledge"]
    survey: str | Annotated[list[str], Field(min_length=1)]
    question: str | None = None
    values: list[str] = []
    group: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SurveyMeasure:
        if (self.question is None) == (self.group is None):
            raise ValueError("'measured_by' cần đúng một trong hai: 'question' (kèm 'values') hoặc 'group'")
        if (self.question is not None) != bool(self.values):
            raise ValueError("'measured_by' với 'question' cần 'values': các phương án được tính")
        return self

    @property
    def surveys(self) -> tuple[str, ...]:
        """The codes of the surveys that may measure it, in the order named."""
        return (self.survey,) if isinstance(self.survey, str) else tuple(self.survey)

    def survey_for(self, assigned: Collection[str]) -> str:
        """The survey a unit's figure comes from: the first named that is among `assigned` (the public surveys the
        period assigns to the unit), else the first named."""
        return next((code for code in self.surveys if code in assigned), self.surveys[0])


class Question(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    type: QuestionType
    text: str
    code: str | None = None
    help: str | None = None
    required: bool = True
    show_if: Condition | None = None
    choices: list[Choice] = []
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    min_date: date | None = None
    max_date: date | None = None
    not_in_future: bool = False
    max_files: int = 10
    bands: list[Band] = []
    points_yes: float | None = None
    points_no: float | None = None
    export_label: str | None = None
    measured_by: SurveyMeasure | None = None
    consent: bool = False
    """The question asking the respondent's consent (yes/no): a "no" ends the survey at once, counted apart."""
    accept: Literal["any", "image"] = "any"
    """Evidence: any file, or photos only (XLSForm `image`)."""
    required_message: str | None = None
    constraint: str | None = None
    """An XLSForm expression the answer (`.`) must satisfy; `constraint_message` says why when it does not."""
    constraint_message: str | None = None
    calculation: str | None = None
    """The XLSForm expression a `calculate` question's value is computed with."""
    choice_filter: str | None = None
    """An XLSForm expression over the choices' `attributes` (and `name`): the choices offered."""
    group: str = ""

    @field_validator("text", "help", "export_label", "required_message", "constraint_message")
    @classmethod
    def _nfc(cls, value: str | None) -> str | None:
        return nfc(value) if value is not None else None

    @property
    def kind(self) -> Kind:
        """What the question's type is and does (conversations.question_types)."""
        return KINDS[self.type]

    @cached_property
    def answerable(self) -> bool:
        """Kept in the instance's dict (a bool, which pickles): the engine asks it of every question at every step."""
        return self.kind.answerable

    @property
    def has_value(self) -> bool:
        """Answered, or calculated: something later conditions and expressions can use."""
        return self.kind.has_value

    def expression(self, where: Where) -> Expression | None:
        """The expression written at `where` (show-if is parsed into `show_if`), parsed once: the engine asks at
        every message. ExpressionError when it does not parse."""
        parsed = self.expressions
        if where not in parsed:
            name = _EXPRESSION_FIELDS.get(where)
            text: str | None = getattr(self, name) if name is not None else None
            parsed[where] = parse(text, where) if text is not None else None
        return parsed[where]

    @cached_property
    def expressions(self) -> dict[Where, Expression | None]:
        """The expressions parsed so far, by where they are written (`expression`)."""
        return {}

    @property
    def options(self) -> tuple[Choice, ...]:
        """The choices offered, with yes/no built in."""
        return self.yes_no_options if self.kind.yes_no else tuple(self.choices)

    @cached_property
    def yes_no_options(self) -> tuple[Choice, ...]:
        """Yes and no, built once (validating two models was a tenth of an engine step, asked several times a step).
        Only these are kept: `as_asked` copies a question with other `choices`, and the copy keeps what is cached."""
        return (
            Choice(value="co", label="Có", points=self.points_yes),
            Choice(value="khong", label="Không", points=self.points_no),
        )

    @property
    def max_points(self) -> float:
        if self.bands:
            return max(b.points for b in self.bands)
        points = [c.points or 0.0 for c in self.options]
        if not points:
            return 0.0
        if self.kind.multiple:
            positive = sum(p for p in points if p > 0)
            return min(positive, self.max) if self.max is not None else positive
        return max(points)

    @property
    def scored(self) -> bool:
        return self.max_points > 0


class Group(Strict):
    code: str
    title: str
    max_points: float | None = None
    note: str | None = None
    questions: list[Question]


class Level(Strict):
    name: str
    min_points: float


class Questionnaire(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
    version: str
    kind: Literal["self_assessment", "citizen_survey", "individual_survey"]
    title: str
    short_title: str
    source: str
    status: Literal["official", "partial", "template"]
    notice: str | None = None
    intro: str
    outro: str
    anonymous: bool = False
    classification: list[Level] | None = None
    groups: list[Group]

    # The lookups below are worked out once per definition and kept as cached properties, in the instance's own
    # dict: the engine reads them many times at every message, and a pydantic private attribute is read through
    # BaseModel.__getattr__, which cost more than the engine's own work of a message.

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        """Every question in order, each knowing its group."""
        return tuple(q.model_copy(update={"group": g.code}) for g in self.groups for q in g.questions)

    @cached_property
    def _by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @cached_property
    def _position(self) -> dict[str, int]:
        return {q.id: index for index, q in enumerate(self.questions)}

    @cached_property
    def asking(self) -> tuple[tuple[Question, Condition | None, Expression | None, bool], ...]:
        """Each question with what decides whether it is asked (conversations.conditions): its show-if, its
        calculation, whether a choice filter narrows its choices."""
        return tuple(
            (q, q.show_if, q.expression(Where.CALCULATION), q.choice_filter is not None) for q in self.questions
        )

    @cached_property
    def _rests_on(self) -> dict[str, frozenset[str]]:
        """Filled as the engine asks (`rests_on`)."""
        return {}

    @property
    def shown_title(self) -> str:
        """The name users read in lists, headings and charts: the short title ("Khảo sát người dân"), or the title
        when a questionnaire (an uploaded form, say) has none."""
        return self.short_title or self.title

    def question(self, question_id: str) -> Question:
        return self._by_id[question_id]

    def has(self, question_id: str) -> bool:
        return question_id in self._by_id

    def position(self, question_id: str) -> int:
        """Where the question stands in the questionnaire, counting from 0."""
        return self._position[question_id]

    def rests_on(self, question_id: str) -> frozenset[str]:
        """The answered questions the question's show-if rests on: a calculated value rests on those its
        calculation names. Worked out once per question (the engine asks at every message)."""
        found = self._rests_on.get(question_id)
        if found is None:
            show_if = self.question(question_id).show_if
            found = frozenset(self._answered_from(show_if.referenced())) if show_if is not None else frozenset()
            self._rests_on[question_id] = found
        return found

    def _answered_from(self, refs: Iterable[str]) -> Iterator[str]:
        for ref in refs:
            calculation = self.question(ref).expression(Where.CALCULATION)
            if calculation is None:
                yield ref
            else:
                yield from self._answered_from(calculation.refs)

    def group(self, code: str) -> Group:
        return next(g for g in self.groups if g.code == code)

    @property
    def max_points(self) -> float:
        return sum(g.max_points or 0.0 for g in self.groups)

    @property
    def scored(self) -> bool:
        return any(g.max_points for g in self.groups)


_EXPRESSION_FIELDS = {
    Where.CONSTRAINT: "constraint",
    Where.CALCULATION: "calculation",
    Where.CHOICE_FILTER: "choice_filter",
}


def _reference_problems(
    q: Question, field: str, named: str, refs: Iterable[str], earlier: set[str], qn: Questionnaire
) -> Iterator[DefinitionProblem]:
    """Each reference of a question's field to a question that is not an earlier one with an answer."""
    for ref in refs:
        if ref not in earlier:
            code, said = DefinitionCode.REFERENCE_NOT_EARLIER, "không phải một câu đứng trước"
        elif not qn.question(ref).has_value:
            code, said = DefinitionCode.REFERENCE_NO_VALUE, "là câu thông tin không có trả lời"
        else:
            continue
        yield DefinitionProblem(code, f"{named} nhắc tới '{ref}', {said}", field, q.id)


def _expression_problems(q: Question, earlier: set[str], qn: Questionnaire) -> Iterator[DefinitionProblem]:
    """The problems with a question's XLSForm expressions (constraint, calculation, choice_filter)."""

    def problem(code: DefinitionCode, message: str, field: str) -> DefinitionProblem:
        return DefinitionProblem(code, message, field, q.id)

    if q.kind.calculated != (q.calculation is not None):
        said = "câu 'calculate' cần 'calculation' (biểu thức tính), và chỉ câu 'calculate' mới có nó"
        yield problem(DefinitionCode.CALCULATION_MISMATCH, said, "calculation")
    if q.constraint is not None and (not q.answerable or q.kind.files):
        yield problem(
            DefinitionCode.FIELD_NOT_ALLOWED, f"loại câu '{q.type}' không có ràng buộc 'constraint'", "constraint"
        )
    if q.choice_filter is not None and (not q.kind.choices or q.kind.yes_no):
        said = "'choice_filter' chỉ dùng cho câu chọn một hoặc chọn nhiều phương án"
        yield problem(DefinitionCode.FIELD_NOT_ALLOWED, said, "choice_filter")
    for where, name in _EXPRESSION_FIELDS.items():
        try:
            expression = q.expression(where)
        except ExpressionError as error:
            yield problem(DefinitionCode.EXPRESSION_INVALID, f"'{name}': {error}", name)
            continue
        if expression is None:
            continue
        refs = [ref for ref in expression.refs if not (ref == q.id and where is Where.CONSTRAINT)]
        yield from _reference_problems(q, name, f"'{name}'", refs, earlier, qn)
        offered = {"name"} | {key for c in q.choices for key in c.attributes}
        unknown = [c for c in expression.columns if c not in offered]
        if unknown:
            said = f"'{name}' nhắc tới cột '{unknown[0]}', không có ở các phương án của câu"
            yield problem(DefinitionCode.REFERENCE_UNKNOWN_COLUMN, said, name)


def _type_problems(q: Question) -> Iterator[tuple[DefinitionCode, str, str]]:
    """(code, message, field) for each field that does not fit the question's type or the other fields."""
    kind = q.kind
    if kind.choices and not kind.yes_no:
        if len(q.choices) < 2:
            yield DefinitionCode.CHOICES_TOO_FEW, "câu lựa chọn cần ít nhất 2 phương án", "choices"
        values = [c.value for c in q.choices]
        if len(set(values)) != len(values):
            yield DefinitionCode.CHOICES_DUPLICATE, "hai phương án trùng mã 'value'", "choices"
        if not kind.multiple and any(c.exclusive for c in q.choices):
            said = "'exclusive' (chọn riêng) chỉ dùng cho phương án của câu chọn nhiều phương án"
            yield DefinitionCode.FIELD_NOT_ALLOWED, said, "choices"
    elif q.choices:
        yield DefinitionCode.CHOICES_NOT_ALLOWED, f"loại câu '{q.type}' không có phương án 'choices'", "choices"
    if q.bands and not kind.banded:
        said = "chỉ câu số, tỉ lệ hoặc câu tính ('calculate') mới có khoảng điểm 'bands'"
        yield DefinitionCode.FIELD_NOT_ALLOWED, said, "bands"
    if q.accept != "any" and not kind.files:
        yield DefinitionCode.FIELD_NOT_ALLOWED, "'accept' chỉ dùng cho câu minh chứng", "accept"
    if (q.points_yes is not None or q.points_no is not None) and not kind.yes_no:
        field = "points_yes" if q.points_yes is not None else "points_no"
        yield DefinitionCode.FIELD_NOT_ALLOWED, "'points_yes'/'points_no' chỉ dùng cho câu có/không", field
    if q.consent and not kind.yes_no:
        yield DefinitionCode.FIELD_NOT_ALLOWED, "câu đồng ý tham gia ('consent') phải là câu có/không", "consent"
    if q.measured_by is not None and (not kind.percentage or not q.bands):
        said = "'measured_by' chỉ dùng cho câu tỉ lệ phần trăm có khoảng điểm 'bands'"
        yield DefinitionCode.FIELD_NOT_ALLOWED, said, "measured_by"
    if kind.percentage and ((q.min or 0) < 0 or (q.max if q.max is not None else 100) > 100):
        field = "min" if (q.min or 0) < 0 else "max"
        yield DefinitionCode.PERCENTAGE_RANGE, "tỉ lệ phần trăm phải nằm trong 0–100", field
    if q.min is not None and q.max is not None and q.min > q.max:
        yield DefinitionCode.MIN_ABOVE_MAX, "'min' lớn hơn 'max'", "min"
    if kind.text and (q.max_length is None or q.max_length < 1):
        yield DefinitionCode.MAX_LENGTH_MISSING, "câu trả lời chữ cần 'max_length' (số ký tự tối đa)", "max_length"


def _question_problems(q: Question, earlier: set[str], qn: Questionnaire) -> Iterator[DefinitionProblem]:
    """Every problem with one question."""
    for code, message, field in _type_problems(q):
        yield DefinitionProblem(code, message, field, q.id)
    if q.show_if is not None:
        named = "điều kiện hiển thị"
        yield from _reference_problems(q, "show_if", named, q.show_if.referenced(), earlier, qn)
        for ref, value in q.show_if.compared_values():
            target = qn.question(ref) if ref in earlier else None
            if target is not None and target.options and value not in {c.value for c in target.options}:
                said = f"{named} so với '{value}', không phải mã phương án của câu '{ref}'"
                yield DefinitionProblem(DefinitionCode.REFERENCE_UNKNOWN_CHOICE, said, "show_if", q.id)
    yield from _expression_problems(q, earlier, qn)


def definition_problems(qn: Questionnaire) -> list[DefinitionProblem]:
    """Every problem the model's own checks leave to a questionnaire as a whole, in the order of the questions."""
    found: list[DefinitionProblem] = []
    codes = [g.code for g in qn.groups]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        said = "hai nhóm trùng mã 'code'"
        found.append(DefinitionProblem(DefinitionCode.GROUP_DUPLICATE, said, "code", group=code))
    seen: set[str] = set()
    for q in qn.questions:
        if q.id in seen:
            found.append(DefinitionProblem(DefinitionCode.QUESTION_DUPLICATE, "mã câu hỏi bị trùng", "id", q.id))
            continue
        found += _question_problems(q, seen, qn)
        seen.add(q.id)
    for g in qn.groups:
        total = sum(q.max_points for q in g.questions)
        if g.max_points is not None and total > g.max_points + 1e-9:
            said = f"nhóm '{g.code}': tổng điểm tối đa các câu ({total:g}) vượt điểm nhóm ({g.max_points:g})"
            found.append(DefinitionProblem(DefinitionCode.GROUP_POINTS_EXCEEDED, said, "max_points", group=g.code))
        if g.max_points is None and total:
            said = f"nhóm '{g.code}' có câu chấm điểm nhưng thiếu 'max_points'"
            found.append(DefinitionProblem(DefinitionCode.GROUP_POINTS_MISSING, said, "max_points", group=g.code))
    if qn.classification:
        mins = [level.min_points for level in qn.classification]
        if mins != sorted(mins, reverse=True):
            said = "các mức xếp loại phải xếp từ ngưỡng cao xuống thấp"
            found.append(DefinitionProblem(DefinitionCode.CLASSIFICATION_ORDER, said, "classification"))
    return found


def validate(qn: Questionnaire, source: str) -> Questionnaire:
    """The questionnaire, or DefinitionError naming the first problem and holding all."""
    problems = definition_problems(qn)
    if problems:
        raise DefinitionError.of(source, problems)
    return qn


DEFINITION_SCHEMA = 1
"""The shape of a stored definition (the model's JSON). Renaming or reshaping a field raises it, with an upgrade."""
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
"""{schema n: how a stored definition of schema n becomes one of schema n + 1}."""


def upgrade_definition(data: dict[str, Any], schema: int) -> dict[str, Any]:
    """A definition stored in an older schema, brought to the current one."""
    for older in range(schema, DEFINITION_SCHEMA):
        data = UPGRADES[older](data)
    return data


def parse_questionnaire(data: Any, source: str) -> Questionnaire:
    try:
        qn = Questionnaire.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = first["loc"]
        question_id = _question_id_at(data, location)
        path = ".".join(str(p) for p in location)
        raise DefinitionError(source, f"{path}: {first['msg']}", question_id) from exc
    return validate(qn, source)


def _question_id_at(data: Any, location: tuple[int | str, ...]) -> str | None:
    """The id of the question an error location points into, for the message."""
    if len(location) >= 4 and location[0] == "groups" and location[2] == "questions":
        try:
            qid = data["groups"][location[1]]["questions"][location[3]].get("id")
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        return str(qid) if qid is not None else None
    return None


def load_questionnaire(path: Path) -> Questionnaire:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(str(path), f"không đọc được tệp: {exc}") from exc
    return parse_questionnaire(data, str(path))


def _measure_problem(measure: SurveyMeasure, found: Mapping[str, Questionnaire]) -> str | None:
    """What is wrong with a criterion's reference to the surveys that measure it, or None."""
    return next(filter(None, (_survey_problem(measure, code, found) for code in measure.surveys)), None)


def _survey_problem(measure: SurveyMeasure, code: str, found: Mapping[str, Questionnaire]) -> str | None:
    survey = found.get(code)
    if survey is None or survey.kind != "citizen_survey":
        return f"'measured_by' nhắc tới khảo sát '{code}', không có bảng hỏi khảo sát ẩn danh mã này"
    if measure.group is not None:
        if measure.group not in {g.code for g in survey.groups} or not survey.group(measure.group).max_points:
            return f"'measured_by' nhắc tới nhóm '{measure.group}', không phải nhóm có chấm điểm của '{survey.id}'"
        return None
    assert measure.question is not None
    if not survey.has(measure.question) or not survey.question(measure.question).kind.choices:
        return f"'measured_by' nhắc tới '{measure.question}', không phải câu lựa chọn của '{survey.id}'"
    offered = {c.value for c in survey.question(measure.question).options}
    unknown = [v for v in measure.values if v not in offered]
    if unknown:
        return f"'measured_by' tính phương án '{unknown[0]}', không có ở câu '{measure.question}'"
    return None


def load_directory(directory: Path) -> dict[str, Questionnaire]:
    found: dict[str, Questionnaire] = {}
    sources: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        qn = load_questionnaire(path)
        if qn.id in found:
            raise DefinitionError(str(path), f"mã bảng hỏi '{qn.id}' đã có ở tệp khác")
        found[qn.id], sources[qn.id] = qn, str(path)
    for qn_id, problem in measure_problems(found):
        raise DefinitionError.of(sources[qn_id], [problem])
    return found


def of_kind(questionnaires: Mapping[str, Questionnaire], kind: str) -> Questionnaire | None:
    """The questionnaire of a kind ("self_assessment", "citizen_survey"): the first by id when there are several."""
    return next((q for _, q in sorted(questionnaires.items()) if q.kind == kind), None)


def question_label(q: Question) -> str:
    """How exports and reviews name a question: its short export label, or its text."""
    return q.export_label or q.text


def answer_line(label: str, shown: str) -> str:
    """A question and its answer on one line ("Giới tính của bạn?: Nữ"), without a second stop after a label that
    ends with a colon or a full stop ("… thì: Không biết", not "… thì:: Không biết")."""
    return f"{label.rstrip(':.').rstrip()}: {shown}"


def question_header(qn: Questionnaire, question_id: str) -> str:
    """A question's label behind its criterion code when it has one ("N1.2 Kế hoạch …")."""
    q = qn.question(question_id)
    return f"{q.code} {question_label(q)}" if q.code else question_label(q)


def supporting(qn: Questionnaire) -> dict[str, str]:
    """Unscored questions that back a criterion (its date, amount, name or evidence files): question → the
    first scored question their show-if names."""
    found = {}
    for q in qn.questions:
        if q.scored or q.show_if is None:
            continue
        target = next((ref for ref in q.show_if.referenced() if qn.question(ref).scored), None)
        if target is not None:
            found[q.id] = target
    return found


def measure_problems(found: Mapping[str, Questionnaire]) -> Iterator[tuple[str, DefinitionProblem]]:
    """(questionnaire id, problem) for each criterion whose `measured_by` does not fit the citizen survey among
    `found`."""
    for qn in found.values():
        for q in qn.questions:
            said = _measure_problem(q.measured_by, found) if q.measured_by is not None else None
            if said:
                yield qn.id, DefinitionProblem(DefinitionCode.MEASURE_REFERENCE, said, "measured_by", q.id, q.group)
