"""Every sentence the engine says, in Vietnamese. Channels add their own few lines in bot/texts.py."""

from __future__ import annotations

BACK = "Quay lại"
SKIP = "Bỏ qua"
KEEP = "Giữ nguyên"
DONE = "Xong"
SUBMIT = "Nộp phiếu"
CLEAR_FILES = "Xóa tệp đã gửi"
EDIT = "Sửa một câu"
USE_SURVEY = "Dùng số liệu khảo sát"

PROGRESS = "Câu {index}/{total}"
CURRENT_ANSWER = "Trả lời hiện tại: {answer}"
OPTIONAL = "(không bắt buộc)"

HINT_SINGLE = "Gõ số thứ tự của câu trả lời, ví dụ: 1."
HINT_SINGLE_NUMBERED = "Bấm nút, hoặc gõ đúng số ghi trên câu trả lời bạn chọn."
HINT_MULTIPLE = "Chọn một hoặc nhiều phương án: gõ các số, cách nhau bằng dấu phẩy, ví dụ: 1, 3."
HINT_INTEGER = "Gõ một số nguyên{bounds}."
HINT_DECIMAL = "Gõ một số{bounds}, ví dụ 12,5."
HINT_PERCENTAGE = "Gõ tỉ lệ phần trăm từ {low} đến {high}, ví dụ 85 hoặc 85,5."
HINT_TEXT = "Gõ câu trả lời, tối đa {limit} ký tự."
HINT_DATE = "Gõ ngày theo dạng ngày/tháng/năm, ví dụ 15/3/2025."
HINT_EVIDENCE = "Gửi ảnh hoặc tệp minh chứng, gửi được nhiều tệp; gửi đủ thì gõ “xong”."
HINT_IMAGE = "Gửi ảnh chụp, gửi được nhiều ảnh; gửi đủ thì gõ “xong”."
BOUNDS_BETWEEN = " từ {low} đến {high}"
BOUNDS_AT_LEAST = " từ {low} trở lên"
BOUNDS_AT_MOST = " không quá {high}"

ERR_CHOICE = "Chưa rõ bạn chọn phương án nào. Hãy gõ số từ 1 đến {count}."
ERR_CHOICE_NUMBERED = "Chưa rõ bạn chọn phương án nào. Hãy bấm nút, hoặc gõ đúng số ghi trên câu trả lời."
ERR_CHOICE_AMBIGUOUS = (
    "“{text}” có thể là “{first}” hoặc “{second}”. Hãy bấm nút, hoặc gõ đầy đủ và đúng dấu câu trả lời bạn chọn."
)
ERR_EXCLUSIVE = (
    "“{label}” không chọn cùng phương án khác. Hãy chỉ chọn “{label}”, hoặc bỏ nó để chọn các phương án còn lại."
)
ERR_MULTIPLE_EMPTY = "Hãy chọn ít nhất một phương án (ví dụ gõ: 1, 3)."
ERR_INTEGER = "Cần một số nguyên{bounds}. Ví dụ: 12."
ERR_NUMBER = "Cần một số{bounds}. Ví dụ: 12 hoặc 12,5."
ERR_PERCENTAGE = "Cần một tỉ lệ phần trăm từ {low} đến {high}. Ví dụ: 85 hoặc 85,5."
ERR_TEXT_EMPTY = "Câu trả lời đang trống. Hãy gõ nội dung."
ERR_TEXT_LONG = "Câu trả lời dài {length} ký tự, quá giới hạn {limit} ký tự. Hãy viết ngắn lại."
ERR_DATE = "Chưa đọc được ngày. Hãy gõ theo dạng ngày/tháng/năm, ví dụ 15/3/2025."
ERR_DATE_FUTURE = "Ngày này ở tương lai. Hãy kiểm tra lại."
ERR_DATE_RANGE = "Ngày cần nằm trong khoảng {low} – {high}."
ERR_EVIDENCE_TEXT = "Câu này cần ảnh hoặc tệp minh chứng. Hãy gửi tệp; gửi đủ thì gõ “xong”."
ERR_EVIDENCE_EMPTY = "Câu này cần ít nhất một ảnh hoặc tệp minh chứng."
ERR_EVIDENCE_TOO_MANY = "Câu này nhận tối đa {limit} tệp. Tệp vừa gửi chưa được lưu."
ERR_IMAGE_ONLY = "Câu này cần ảnh chụp. Tệp vừa gửi chưa được lưu; hãy gửi ảnh."
ERR_CONSTRAINT = "Câu trả lời chưa đúng yêu cầu của câu hỏi. Hãy kiểm tra và trả lời lại."
ERR_FILE_NOT_EXPECTED = "Câu này không cần tệp. Tệp vừa gửi chưa được lưu; hãy trả lời câu hỏi bên dưới."
ERR_UNSUPPORTED = "Mình chưa đọc được loại tin này. Hãy trả lời bằng chữ hoặc số."
ERR_REQUIRED = "Câu này bắt buộc, không bỏ qua được."
ERR_FIRST_QUESTION = "Đây đã là câu đầu tiên."
ERR_STALE_BUTTON = "Nút đó thuộc một câu hỏi cũ nên không được tính. Câu đang hỏi là:"
ERR_LOCKED = "Phiếu này đã nộp và được khóa, không sửa được nữa."
ERR_REVIEW_INPUT = "Gõ “nộp” để nộp phiếu, hoặc “sửa” kèm số câu muốn sửa (ví dụ: sửa 3)."
ERR_REVIEW_NUMBER = "Không có câu số {number}. Hãy gõ số từ 1 đến {count}."
ERR_REVIEW_WORD = (
    "“{text}” là lệnh của màn hình xem lại nên không được lưu làm câu trả lời. Hãy trả lời câu hỏi bên dưới; "
    "trả lời xong các câu, phiếu sẽ hiện màn hình xem lại để sửa hoặc nộp."
)

# Shared drafts: another officer changed what this one was looking at.
SOMEONE_ELSE = "Một cán bộ khác"
CONFLICT_ANSWERED = "{name} vừa trả lời câu này: {answer}. Câu trả lời của bạn chưa được lưu; hãy xem và trả lời lại."
CONFLICT_CLEARED = "{name} vừa bỏ trống câu này. Câu trả lời của bạn chưa được lưu; hãy xem và trả lời lại."
CONFLICT_CHOICES = (
    "Các phương án của câu này vừa thay đổi theo một câu trả lời khác. Câu trả lời của bạn chưa được lưu; hãy chọn lại."
)
CONFLICT_GONE = (
    "Câu bạn đang trả lời không còn áp dụng, vì một câu trả lời khác vừa được sửa. Câu trả lời của bạn chưa được lưu."
)
CONFLICT_REVIEW = "Trong lúc bạn xem lại, {names} đã sửa câu {items}. Phiếu chưa được nộp; hãy xem lại lần nữa."
CONFLICT_REVIEW_HIDDEN = "không còn áp dụng"

EVIDENCE_RECEIVED = "Đã lưu {count} tệp cho câu này. Gửi thêm, hoặc gõ “xong” để sang câu tiếp."
FILES_CLEARED = "Đã xóa các tệp đã gửi cho câu này."
FILES_SENT = (
    "Tệp đã gửi:\n{lines}\nGõ “xóa” kèm số để xóa một tệp (ví dụ: xóa 2); “bỏ qua” hoặc “giữ nguyên” giữ các tệp này."
)
FILE_PHOTO = "Ảnh"
FILE_UNNAMED = "Tệp không tên"
FILE_REMOVED = "Đã xóa tệp {number} ({name}). Còn {count} tệp cho câu này."
ERR_FILE_NUMBER = "Không có tệp số {number}. Câu này đang có {count} tệp."
SELECTED = "Đã chọn: {labels}"

RESUME = "Tiếp tục phiếu đang làm dở."
REOPENED = (
    "Phiếu được mở lại để sửa {count} câu. Trả lời lại từng câu (gõ “giữ nguyên” nếu không cần đổi); "
    "các câu khác giữ nguyên. Cuối cùng xem lại và nộp lại phiếu."
)
REVIEWER_NOTE = "Ghi chú của Phòng Tư pháp: {note}"
REVIEW_TITLE = "Xem lại trước khi nộp"
REVIEW_SKIPPED = "(bỏ qua)"
REVIEW_FILES = "{count} tệp"
REVIEW_FOOTER = "Gõ “nộp” để nộp phiếu. Muốn sửa, gõ “sửa” kèm số câu (ví dụ: sửa 3)."
REVIEW_PICK = "Gõ số câu muốn sửa."
SCORE_TITLE = "Điểm tự chấm"
SCORE_GROUP = "{code}: {points}/{maximum}"
SCORE_TOTAL = "Tổng: {points}/{maximum} điểm"
LEVEL = "Xếp loại: {level}"
RANK = "Hạng {rank}/{of} theo điểm thẩm định (trong số các đơn vị đã chốt kết quả kỳ {period})"
LEVEL_UNSET = "Xếp loại: chưa có ngưỡng chính thức (Phòng Tư pháp nhập sau)"
SCORE_SURVEY = "Theo khảo sát người dân: {points}/{maximum} điểm"
SCORE_SURVEY_TOO_FEW = "Theo khảo sát người dân: chưa tính được (cần ít nhất {minimum} phiếu khảo sát)"
SURVEY_FIGURE = "Theo {base} phiếu khảo sát: {percent} %"
SURVEY_BASE = "theo {base} phiếu khảo sát"
SURVEY_FIGURE_ASK = (
    "Số liệu này bot lấy từ phiếu khảo sát người dân của đơn vị, bạn không cần gõ. Bấm “{use}”, hoặc gõ lời "
    "giải thích nếu muốn ghi thêm."
)
SURVEY_TOO_FEW = (
    "Khảo sát người dân của đơn vị mới có {base} phiếu, chưa đủ {minimum} phiếu để tính tỉ lệ này. "
    "Hãy gõ tỉ lệ theo số liệu của đơn vị."
)
SURVEY_HIDDEN = (
    "Tỉ lệ này theo khảo sát người dân đang được ẩn trong các báo cáo để không lộ câu trả lời của người dân ở "
    "đơn vị có ít phiếu, nên bot không dùng được. Hãy gõ tỉ lệ theo số liệu của đơn vị."
)
SCORE_SURVEY_HIDDEN = "Theo khảo sát người dân: chưa tính được (số liệu khảo sát của đơn vị đang được ẩn)"
SURVEY_EXPLANATION = "Giải thích: {text}"
ERR_EXPLANATION_LONG = "Lời giải thích dài {length} ký tự, quá giới hạn {limit} ký tự. Hãy viết ngắn lại."
SUBMITTED = "Đã nộp phiếu lúc {time}."
DECLINED = (
    "Cảm ơn bạn đã dành thời gian. Bạn đã chọn không tham gia nên khảo sát dừng ở đây; "
    "không có câu trả lời nào của bạn được tính vào kết quả."
)

# Typed equivalents of the buttons; compared after fold() so diacritics and case do not matter.
WORDS_BACK = frozenset({"quay lai", "ql", "lui", "tro lai", "back"})
WORDS_SKIP = frozenset({"bo qua", "bq", "skip", "khong tra loi"})
WORDS_KEEP = frozenset({"giu nguyen", "giu", "tiep", "tiep tuc"})
WORDS_DONE = frozenset({"xong", "da xong", "het", "done"})
WORDS_CLEAR = frozenset({"xoa tep", "xoa tep da gui", "xoa"})
WORDS_REMOVE_ONE = ("xoa tep", "xoa")
"""Followed by a file's number ("xoá 2", "xóa tệp 2"): that one file is removed."""
WORDS_SUBMIT = frozenset({"nop", "nop phieu", "gui", "gui phieu", "dong y nop"})
WORDS_EDIT = frozenset({"sua", "sua cau", "sua mot cau", "chinh sua"})
WORDS_USE_SURVEY = frozenset({"dung so lieu khao sat", "dung so lieu", "theo khao sat"})
