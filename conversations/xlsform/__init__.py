"""Questionnaires as XLSForm workbooks (sheets `survey`, `choices`, `settings`), so staff write and change them
in Excel or LibreOffice.

Reading: pyxform, the reference XLSForm library, must accept the workbook (its refusals are translated to the
row); then the rows are mapped onto the same data the YAML files hold and go through the same model and checks
(conversations.definition), so the engine does not care where a questionnaire came from. `relevant` is turned
into the structured show-if when it says exactly what one says, and kept as an XLSForm expression otherwise.
Every problem names the sheet, the row and the column.

Writing: any questionnaire, as a workbook pyxform accepts and this module reads back to the same definition.
The project's own fields (points, bands, group maxima…) are extra columns; the README lists them.
"""

from conversations.xlsform.problems import FormCode, FormError, Problem, Reading
from conversations.xlsform.reader import read_xlsform
from conversations.xlsform.relevant import relevant_condition, relevant_text
from conversations.xlsform.writer import write_xlsform

__all__ = [
    "FormCode",
    "FormError",
    "Problem",
    "Reading",
    "read_xlsform",
    "relevant_condition",
    "relevant_text",
    "write_xlsform",
]
