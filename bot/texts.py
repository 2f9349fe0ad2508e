"""What the bot itself says around the questionnaires (commands, roles, errors), in Vietnamese."""

from __future__ import annotations

WELCOME_CITIZEN = (
    "Xin chào! Đây là kênh lấy ý kiến người dân về công tác phổ biến, giáo dục pháp luật.\n"
    "Gõ /khaosat để trả lời khảo sát (ẩn danh, khoảng 3 phút)."
)
WELCOME_OFFICER = "Xin chào{name}! Bạn là cán bộ của {unit}.\nGõ /danhgia để làm hoặc tiếp tục phiếu tự đánh giá."
WELCOME_ADMIN = "Xin chào! Bạn là quản trị viên (Phòng Tư pháp)."

YOUR_ID = (
    "Mã của bạn trên kênh này: {id}\n"
    "Để làm quản trị viên (Phòng Tư pháp), người cài đặt bot ghi mã này vào PBGDPL_ADMINS "
    "(nhiều mã cách nhau bởi dấu phẩy) rồi khởi động lại bot."
)
YOUR_ID_ADMIN = "Bạn đang là quản trị viên."

HELP_TITLE = "Các lệnh:"
HELP_ADMIN_TITLE = "Lệnh quản trị:"
HELP_CITIZEN_TIP = (
    "Khi trả lời: bấm nút hoặc gõ số thứ tự; gõ “quay lại” để về câu trước, “bỏ qua” với câu không bắt buộc."
)
HELP_OFFICER_TIP = (
    "Khi trả lời: bấm nút hoặc gõ số thứ tự; “quay lại” để về câu trước; “bỏ qua” với câu không bắt buộc; "
    "với câu minh chứng, gửi ảnh hoặc tệp (ảnh, PDF, Word, Excel, PowerPoint) rồi bấm “Xong”; “xóa 2” xóa tệp số 2."
)

UNKNOWN_COMMAND = "Không có lệnh “{command}”. Gõ /trogiup để xem các lệnh."
NOT_IN_CONVERSATION = "Bạn chưa mở phiếu nào. Gõ /khaosat để trả lời khảo sát, hoặc /trogiup để xem hướng dẫn."
NOT_IN_CONVERSATION_OFFICER = (
    "Bạn chưa mở phiếu nào. Gõ /danhgia để làm hoặc tiếp tục phiếu tự đánh giá của đơn vị, hoặc /trogiup để xem "
    "hướng dẫn."
)
NOT_IN_CONVERSATION_ADMIN = "Không có việc nào đang chờ tin nhắn này. Gõ /trogiup để xem các lệnh quản trị."
NOTHING_CHANGED = "Đã thôi, không có gì thay đổi."
ADMIN_ONLY = "Lệnh này chỉ dành cho quản trị viên (Phòng Tư pháp)."
STAFF_ONLY = "Lệnh này dành cho quản trị viên (Phòng Tư pháp) và cán bộ các đơn vị."
CITIZEN_ONLY = "Lệnh này dành cho người dân."
OFFICER_ONLY_ADMIN = (
    "Phiếu tự đánh giá do cán bộ các đơn vị làm. Quản trị viên xem phiếu đã nộp bằng /xem <mã đơn vị> và tiến độ "
    "bằng /tiendo."
)
OFFICER_ONLY = (
    "Phiếu tự đánh giá chỉ dành cho cán bộ đã được gắn với đơn vị. "
    "Hãy xin Phòng Tư pháp mã mời, rồi gõ /start kèm mã (ví dụ: /start dk_ABCD2345)."
)
PAUSED = "Đã tạm dừng. Các câu trả lời đã được lưu; gõ {command} để làm tiếp."
NOTHING_TO_PAUSE = "Bạn không có phiếu nào đang mở."
ERROR_TRY_AGAIN = "Xin lỗi, hệ thống vừa gặp lỗi nên câu trả lời chưa được lưu. Bạn hãy gửi lại sau ít phút."
JOB_FAILED = "Xin lỗi, hệ thống vừa gặp lỗi nên chưa làm xong việc bạn yêu cầu. Bạn hãy thử lại sau ít phút."
NO_PERIOD = "Hiện chưa có kỳ đánh giá nào đang mở. Hãy liên hệ Phòng Tư pháp."
NO_PERIOD_ADMIN = "Hiện chưa có kỳ đánh giá nào đang mở. Gõ /ky để xem các kỳ, /ky mo <mã kỳ> để mở một kỳ."
NO_QUESTIONNAIRE = "Chưa có bảng hỏi này trên hệ thống. Hãy liên hệ Phòng Tư pháp."
NO_QUESTIONNAIRE_ADMIN = "Chưa có bảng hỏi này trên hệ thống. Gõ /banghoi để xem các bảng hỏi đang dùng."

PICK_UNIT = "Bạn đang sống hoặc tham gia hoạt động ở xã/phường nào? Trả lời bằng số thứ tự, ví dụ: 1."
STAFF_SURVEY_BY_LINK = (
    "Cán bộ, công chức, viên chức, người lao động của một cơ quan, đơn vị trả lời khảo sát của cơ quan mình qua "
    "đường dẫn hoặc mã QR của cơ quan đó."
)
UNIT_UNKNOWN = "Không tìm thấy đơn vị có mã “{code}”. Gõ /khaosat để chọn từ danh sách."
UNIT_UNKNOWN_STAFF = "Không tìm thấy đơn vị có mã “{code}”. Gõ /donvi để xem mã các đơn vị."
SURVEY_DONE = "Bạn đã trả lời khảo sát này cho {unit} trong kỳ {period}. Cảm ơn bạn!"
SURVEY_DECLINED = (
    "Bạn đã chọn không tham gia khảo sát này cho {unit} trong kỳ {period}; mỗi người chỉ có một lượt trả lời mỗi kỳ."
)
SURVEY_FOR = "Khảo sát cho {unit}."
SURVEY_AT = "Phiếu lấy ý kiến người tham dự: {event} ({unit})."
EVENT_UNKNOWN = "Không tìm thấy sự kiện “{code}”. Gõ /khaosat để trả lời khảo sát đang mở."
EVENT_OVER = "Sự kiện “{event}” thuộc kỳ {period} đã kết thúc, nên không nhận ý kiến nữa. Cảm ơn bạn!"
SURVEY_NOT_HERE = (
    "Khảo sát của đường dẫn này không mở cho {unit} trong kỳ {period}. Gõ /khaosat để trả lời khảo sát đang mở."
)
SURVEY_ELSEWHERE_DRAFT = (
    "Bạn đang trả lời dở khảo sát này cho {unit} trong kỳ {period}; mỗi người chỉ trả lời một lần mỗi kỳ. "
    "Gõ /khaosat để làm tiếp."
)
SURVEY_NOT_FOR_OFFICERS = (
    "Bạn là cán bộ của {unit} nên không trả lời khảo sát người dân của đơn vị mình: kết quả khảo sát dùng để "
    "chấm điểm chính đơn vị này."
)
SURVEY_NOT_FOR_ADMINS = (
    "Quản trị viên không trả lời khảo sát người dân, vì kết quả khảo sát dùng để chấm điểm các đơn vị."
)
ASSESSMENT_LOCKED = "Phiếu tự đánh giá kỳ {period} của {unit} đã nộp lúc {time} và được khóa. Tổng điểm: {points}."
ASSESSMENT_FOR = "Phiếu tự đánh giá kỳ {period} của {unit}."
ASSESSMENT_NAMED = "{title}: phiếu tự đánh giá kỳ {period} của {unit} (phiếu chung của đơn vị)."
OWN_FORM_FOR = "{title}: phiếu kỳ {period} của riêng anh/chị (cán bộ {unit})."
OWN_FORM_DONE = "Anh/chị đã nộp phiếu “{title}” kỳ {period} lúc {time}. Cảm ơn anh/chị!"
TASKS_TITLE = (
    "Kỳ {period}, {unit} có {count} phiếu. Bấm nút, gõ số thứ tự hoặc tên phiếu để làm; gõ /danhgia để quay lại "
    "danh sách này (phiếu đang làm dở được giữ nguyên):"
)
TASK_OWN = "phiếu của riêng anh/chị"
TASK_STARTED = "đang làm {answered}/{asked}"
SUBMITTED_BY_OTHER = (
    "{name} vừa nộp phiếu tự đánh giá{named} kỳ {period} của {unit} lúc {time}. Phiếu đã được khóa; "
    "những gì bạn đang trả lời dở không được lưu thêm."
)
ANOTHER_OFFICER = "Một cán bộ của đơn vị"

INVITE_USAGE = "Gõ /moi kèm mã đơn vị, ví dụ: /moi 16012. Gõ /donvi để xem mã các đơn vị."
INVITE_CREATED = (
    "Mã mời cho {unit}: {code}\n"
    "Hết hạn: {expires}. Chỉ dùng được một lần.\n"
    "Cán bộ của đơn vị nhắn cho bot (Telegram hoặc Zalo): /start dk_{code}"
)
INVITE_LINK = "Trên Telegram có thể bấm đường dẫn: {link}"
INVITE_INVALID = "Mã mời không đúng hoặc đã hết hạn. Hãy xin Phòng Tư pháp mã mới."
INVITE_TOO_MANY = "Bạn đã nhập sai mã mời nhiều lần. Hãy thử lại sau 15 phút."
INVITE_TOO_MANY_IN_TOTAL = (
    "Vừa có quá nhiều lần nhập sai mã mời nên bot tạm ngừng nhận mã mời. Hãy thử lại sau 15 phút."
)
INVITE_USED = "Mã mời này đã được dùng. Mỗi mã chỉ dùng một lần; hãy xin Phòng Tư pháp mã mới."
INVITE_ACCEPTED = "Bạn đã được gắn với {unit}. Gõ /danhgia để bắt đầu phiếu tự đánh giá."

UNITS_TITLE = "Các đơn vị đang áp dụng (mã – tên):"
PROGRESS_TITLE = "Tiến độ kỳ {period} (hạn {deadline})"
PROGRESS_LINE = "• {unit}: {status}"
STATUS_SUBMITTED = "đã nộp ({points} điểm)"
STATUS_MISSING = "chưa bắt đầu"
EXPORT_CAPTION = "Kết quả kỳ {period}: tự đánh giá và khảo sát người dân."
