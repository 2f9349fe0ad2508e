"""Units, for admins: upload a list (a .csv sent as it is, or /nhapdonvi then a .csv or .xlsx), rename, end, merge.

/nhapdonvi                                then send the file: columns code, name, kind, parent
/doiten <mã> <tên mới>                    rename (the old name is kept with its dates)
/ngungdonvi <mã> [dd/mm/yyyy]             the unit no longer applies from that day (default: today)
/gopdonvi <mã cũ…> vao <mã mới> <tên>     a new unit formed from the old ones from today; their officers move to it
"""

from __future__ import annotations

from typing import Any

from bot import audit, confirm, waits
from bot.messages import Reply
from bot.table import Call
from bot.units import UnitFileError, changes_of, describe, end_on, import_units, merge, parse_units
from bot.waits import UnitsUpload
from bot.worker import WorkerError, in_worker
from conversations.engine import Outgoing
from conversations.localtime import day_text, local_date, parse_day
from conversations.text import clean_input, fold
from storage import repo
from storage.models import ADMIN_UNITS

SEND_FILE = (
    "Gửi tệp danh sách đơn vị (.csv UTF-8 hoặc .xlsx). Dòng đầu là tên cột: code, name, kind, parent "
    "(hoặc: mã, tên, loại, cấp trên); kind là commune (xã) hoặc department. Gõ /huy để thôi."
)
NO_FETCH = (
    "Kênh này chưa nhận được tệp tải lên. Hãy gửi tệp qua Telegram hoặc Zalo OA, hoặc dùng lệnh "
    "“pbgdpl units import <tệp>”."
)
IMPORTED = "Đã nhập {count} đơn vị từ {name}: {added} mới, {updated} cập nhật. Gõ /donvi để xem."
UNIT_NOT_FOUND = "Không tìm thấy đơn vị có mã “{code}”. Gõ /donvi để xem mã các đơn vị."
RENAME_USAGE = "Gõ /doiten <mã đơn vị> <tên mới>, ví dụ: /doiten 16012 Xã Hậu Lộc."
RENAMED = "Đã đổi tên đơn vị {code}: {old} → {new}."
END_USAGE = "Gõ /ngungdonvi <mã đơn vị> [từ ngày dd/mm/yyyy], ví dụ: /ngungdonvi hl23-my-loc 01/07/2025."
ENDED = "{name} ({code}) không còn áp dụng từ {day}. Kết quả các kỳ trước vẫn xuất theo đơn vị này."
MERGE_USAGE = "Gõ /gopdonvi <mã cũ…> vao <mã mới> <tên mới>, ví dụ: /gopdonvi hl23-a hl23-b vao 16099 Xã Mới."
CODE_TAKEN = "Mã “{code}” đã có. Chọn mã khác cho đơn vị mới."
MERGE_FIRST = (
    "Gộp {old} thành {name} ({code}) từ {day}? Các đơn vị cũ ngừng áp dụng từ hôm đó và cán bộ của chúng chuyển "
    "sang đơn vị mới; việc gộp không hoàn tác được."
)
MERGED = (
    "Đã gộp {old} thành {name} ({code}) từ {day}; {moved} cán bộ chuyển sang đơn vị mới. Kết quả các kỳ trước vẫn "
    "xuất theo đơn vị cũ."
)


async def _upload(call: Call) -> list[Reply]:
    inbound = call.inbound
    assert inbound is not None and inbound.files
    ref = inbound.files[0]
    content = await call.service.fetch_file(call.sender, ref)
    if content is None:
        return [Outgoing(NO_FETCH)]
    name = ref.name or "tệp"
    try:
        records = await in_worker(parse_units, name, content)
    except (UnitFileError, WorkerError) as problem:
        return [Outgoing(str(problem))]
    changes = await changes_of(call.db, records)
    if changes:  # nothing is overwritten before the admin has seen what changes
        question = describe(name, records, changes)
        return await confirm.ask(call, "nhapdonvi", question, {"file": name, "records": records})
    return [Outgoing(await _import(call, name, records))]


async def _import(call: Call, name: str, records: list[dict[str, Any]]) -> str:
    added, updated = await import_units(call.db, records, call.service.clock())
    detail = {"file": name, "added": added, "updated": updated}
    await audit.record(call.db, call.sender, call.service.clock(), "units_upload", name, detail)
    return IMPORTED.format(count=len(records), name=name, added=added, updated=updated)


async def upload_units(call: Call) -> list[Reply]:
    if call.confirmed is not None:  # the changes the admin has seen and agreed to
        return [Outgoing(await _import(call, call.confirmed["file"], call.confirmed["records"]))]
    await waits.wait_for(call.db, call.actor, call.service.clock(), {"kind": "units_upload"})
    return [Outgoing(SEND_FILE)]


async def uploaded(call: Call, wait: UnitsUpload) -> list[Reply]:
    if call.inbound is None or not call.inbound.files:
        return [Outgoing(SEND_FILE)]
    await repo.save_session(call.db, call.actor, call.service.clock(), None, None)
    return await _upload(call)


async def csv_sent(call: Call) -> list[Reply]:
    return await _upload(call)


async def rename(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    if len(call.args) < 2:
        return [Outgoing(RENAME_USAGE)]
    unit = await repo.get_unit(db, call.args[0])
    if unit is None:
        return [Outgoing(UNIT_NOT_FOUND.format(code=call.args[0]))]
    old, new, now = unit.name, clean_input(" ".join(call.args[1:]))[:200], service.clock()
    await repo.rename_unit(db, unit, new, now, local_date(now))
    unit.unit_set = ADMIN_UNITS
    await audit.record(db, call.sender, service.clock(), "unit_rename", unit.code, {"old": old, "new": new})
    return [Outgoing(RENAMED.format(code=unit.code, old=old, new=new))]


async def end(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    if not call.args:
        return [Outgoing(END_USAGE)]
    unit = await repo.get_unit(db, call.args[0])
    if unit is None:
        return [Outgoing(UNIT_NOT_FOUND.format(code=call.args[0]))]
    day = parse_day(call.args[1]) if len(call.args) > 1 else local_date(service.clock())
    if day is None:
        return [Outgoing(END_USAGE)]
    old = unit.valid_to.isoformat() if unit.valid_to else None
    end_on(unit, day)
    detail = {"old_valid_to": old, "from": day.isoformat()}
    await audit.record(db, call.sender, service.clock(), "unit_deactivate", unit.code, detail)
    return [Outgoing(ENDED.format(name=unit.name, code=unit.code, day=day_text(day)))]


async def merge_units(call: Call) -> list[Reply]:
    service = call.service
    words = [fold(w) for w in call.args]
    if "vao" not in words or words.index("vao") == 0 or len(words) < words.index("vao") + 3:
        return [Outgoing(MERGE_USAGE)]
    split = words.index("vao")
    codes, code, name = call.args[:split], call.args[split + 1], clean_input(" ".join(call.args[split + 2 :]))
    db = call.db
    old = []
    for given in codes:
        unit = await repo.get_unit(db, given)
        if unit is None:
            return [Outgoing(UNIT_NOT_FOUND.format(code=given))]
        old.append(unit)
    if await repo.get_unit(db, code) is not None:
        return [Outgoing(CODE_TAKEN.format(code=code))]
    day = local_date(service.clock())
    if call.confirmed is None:
        names = ", ".join(f"{u.name} ({u.code})" for u in old)
        question = MERGE_FIRST.format(old=names, name=name, code=code, day=day_text(day))
        return await confirm.ask(call, "gopdonvi", question)
    new, moved = await merge(db, old, code, name[:200], day)
    detail = {"from": codes, "name": name, "officers_moved": moved, "valid_from": day.isoformat()}
    await audit.record(db, call.sender, service.clock(), "unit_merge", code, detail)
    names = ", ".join(u.name for u in old)
    return [Outgoing(MERGED.format(old=names, name=new.name, code=new.code, day=day_text(day), moved=moved))]
