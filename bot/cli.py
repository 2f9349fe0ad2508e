"""The `pbgdpl` command."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from storage.db import DatabaseUnreachable

MICRODATA_WRITTEN = (
    "Đây là DỮ LIỆU GỐC (mỗi người trả lời một dòng): không gửi, không chuyển tiếp; số liệu để gửi đi là "
    "pbgdpl export khaosat."
)


async def _export(settings: Settings, args: argparse.Namespace) -> None:
    from bot.app import open_service
    from bot.progress import assigned_units, period_questionnaires
    from exports.jobs import ExportError, ExportRequest, run_export
    from storage.queries import get_period

    code = args.period or settings.period
    async with open_service(settings) as service:
        async with service.db.read() as db:
            period = await get_period(db, code)
            questionnaires = await period_questionnaires(service, db, period) if period is not None else []
            units = await assigned_units(service, db, period, questionnaires) if period is not None else {}
        request = ExportRequest(
            kind=args.kind,
            period=code,
            unit=args.unit,
            version=args.version,
            fmt=args.format,
            sheet=args.sheet,
            suppress_below=settings.suppress_below,
            breakdowns=settings.survey_breakdowns,
            questionnaires=tuple(qn.id for qn in questionnaires),
            units=units,
            evidence_dir=str(settings.evidence_dir),
        )
        try:
            made = await asyncio.to_thread(run_export, service.db.url, service.questionnaires, request, service.clock())
        except ExportError as problem:
            raise SystemExit(str(problem)) from problem
    args.output.write_bytes(made.content)
    print(f"Đã ghi {args.output} ({len(made.content)} byte)")
    if args.kind == "dulieu":
        print(MICRODATA_WRITTEN)


async def _questionnaire_export(settings: Settings, args: argparse.Namespace) -> None:
    from bot.app import open_service
    from conversations.xlsform import write_xlsform

    async with open_service(settings) as service:
        if args.version:
            async with service.db.read() as db:
                qn = await service.definition(db, args.id, args.version)
        else:
            qn = service.questionnaires.get(args.id)
        ids = ", ".join(sorted(service.questionnaires))
    if qn is None:
        version = f" phiên bản {args.version}" if args.version else ""
        raise SystemExit(f"Không có bảng hỏi “{args.id}”{version}. Các mã: {ids}")
    args.output.write_bytes(write_xlsform(qn))
    print(f"Đã ghi {args.output}: «{qn.title}», phiên bản {qn.version}")


def _questionnaire_check(settings: Settings, path: Path) -> None:
    """Check an XLSForm workbook against the questionnaires in PBGDPL_QUESTIONNAIRES_DIR; nothing is installed."""
    from conversations.definition import load_directory
    from conversations.versions import changes, summary
    from conversations.xlsform import FormError, read_xlsform

    installed = load_directory(settings.questionnaires_dir)
    try:
        reading = read_xlsform(path.read_bytes(), path.name, installed)
    except FormError as error:
        print(f"{path.name}: chưa dùng được.")
        print("\n".join(f"• {problem}" for problem in error.problems))
        raise SystemExit(1) from None
    except OSError as error:
        raise SystemExit(f"Không đọc được {path}: {error.strerror}") from None
    qn = reading.questionnaire
    print(f"{path.name}: dùng được.")
    print("\n".join(summary(qn)))
    if reading.notices:
        print(reading.noticed)
    if qn.id in installed:
        changed = changes(installed[qn.id], qn)
        print(f"Thay đổi so với {settings.questionnaires_dir}/ (phiên bản {installed[qn.id].version}):")
        print("\n".join(f"• {line}" for line in changed) if changed else "• không có")


async def _units_import(settings: Settings, path: Path, agreed: bool) -> None:
    from bot.app import open_service
    from bot.units import UnitFileError, changes_of, describe, import_units, parse_units
    from storage import repo
    from storage.models import AuditEntry

    try:
        records = parse_units(path.name, path.read_bytes())
    except UnitFileError as problem:
        raise SystemExit(str(problem)) from None
    async with open_service(settings) as service, service.db.write() as db:
        changes = await changes_of(db, records)
        if changes and not agreed:
            raise SystemExit(describe(path.name, records, changes) + "\nChạy lại với --yes để áp dụng.")
        added, updated = await import_units(db, records, service.clock())
        detail = {"file": path.name, "added": added, "updated": updated}
        entry = AuditEntry(at=service.clock(), actor="pbgdpl units import", action="units_upload", target=path.name)
        entry.detail = detail
        await repo.add_audit(db, entry)
    print(f"Đã nhập {len(records)} đơn vị từ {path}: {added} mới, {updated} cập nhật.")


async def _posters(settings: Settings, args: argparse.Namespace) -> None:
    from bot import posters
    from bot.app import open_service
    from bot.channels.telegram import TelegramLinks
    from storage import queries, repo

    bot = args.bot or settings.telegram_bot_username
    if not bot:
        raise SystemExit("Cần tên bot Telegram: --bot <tên> hoặc PBGDPL_TELEGRAM_BOT_USERNAME.")
    async with open_service(settings) as service, service.db.read() as db:
        period = await repo.current_period(db)
        if period is None:
            raise SystemExit("Chưa có kỳ đánh giá nào đang mở, nên chưa có khảo sát để làm áp phích.")
        if args.all:
            units = await repo.units_in_force(db, service.clock().date())
        else:
            found = await repo.get_unit(db, args.unit or "")
            if found is None:
                raise SystemExit(f"Không tìm thấy đơn vị có mã “{args.unit}”; hoặc dùng --all.")
            units = [found]
        planned = [
            posters.of_unit(unit, qn)
            for unit in units
            for qn in await posters.unit_surveys(db, service.questionnaires, period.code, unit)
        ]
        by_code = {unit.code: unit for unit in units}
        for event in await queries.events(db, period.code):
            qn = service.questionnaires.get(event.questionnaire_id)
            if event.unit_code in by_code and qn is not None:
                planned.append(posters.of_event(event, by_code[event.unit_code], qn))
    args.output.mkdir(parents=True, exist_ok=True)
    links = TelegramLinks(bot)
    for each in planned:
        made = await posters.draw(each, links, settings)
        assert made is not None  # the bot's name is known
        (args.output / f"{each.stem}.png").write_bytes(made.png)
        (args.output / f"{each.stem}.pdf").write_bytes(made.pdf)
    print(f"Đã ghi {len(planned)} áp phích (PNG và PDF) vào {args.output}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pbgdpl", description="Bot đánh giá công tác PBGDPL")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="chạy bot (dòng lệnh khi chưa có token Telegram)")
    commands.add_parser("migrate", help="tạo hoặc nâng cấp cơ sở dữ liệu")
    export = commands.add_parser(
        "export",
        help="xuất kết quả: danhgia (Excel tự đánh giá), khaosat (Excel khảo sát, chỉ số liệu tổng hợp), dulieu (dữ "
        "liệu gốc khảo sát, mỗi người một dòng: không chuyển tiếp), baocao (dự thảo báo cáo Word), minhchung (tệp zip "
        "minh chứng kèm danh sách); không ghi gì: tệp Excel kết quả chung",
    )
    kinds = ["danhgia", "khaosat", "dulieu", "baocao", "nhatky", "minhchung", "tonghop"]
    export.add_argument("kind", nargs="?", default="tonghop", choices=kinds)
    export.add_argument("--period", help="mã kỳ đánh giá (mặc định: PBGDPL_PERIOD)")
    export.add_argument("--unit", help="chỉ một đơn vị, theo mã")
    export.add_argument("--version", help="chỉ các phiếu làm theo phiên bản bảng hỏi này")
    formats = ["xlsx", "csv", "docx", "zip"]
    export.add_argument("--format", choices=formats, help="mặc định: xlsx, baocao: docx, minhchung: zip")
    export.add_argument(
        "--sheet", help="với csv: tên bảng cần xuất (mặc định: khaosat: Tổng hợp; dulieu: câu trả lời dạng dài)"
    )
    export.add_argument("-o", "--output", type=Path, required=True)
    questionnaire = commands.add_parser("questionnaire", help="bảng hỏi dạng XLSForm (Excel)")
    actions = questionnaire.add_subparsers(dest="action", required=True)
    to_xlsx = actions.add_parser("export", help="ghi một bảng hỏi (phiên bản đang dùng) ra tệp XLSForm .xlsx")
    to_xlsx.add_argument("id", help="mã bảng hỏi, ví dụ tu-danh-gia")
    to_xlsx.add_argument("--version", help="một phiên bản khác đã lưu")
    to_xlsx.add_argument("-o", "--output", type=Path, required=True)
    check = actions.add_parser("check", help="kiểm tra một tệp XLSForm mà không cài đặt")
    check.add_argument("file", type=Path)
    units = commands.add_parser("units", help="đơn vị: nhập danh sách từ tệp CSV hoặc .xlsx (code, name, kind, parent)")
    units.add_argument("action", choices=["import"])
    units.add_argument("file", type=Path)
    units.add_argument("--yes", action="store_true", help="áp dụng cả khi tệp thay đổi đơn vị đang có")
    qr = commands.add_parser(
        "qr",
        help="áp phích (PNG và PDF, khổ A4) có mã QR cho từng khảo sát giao cho đơn vị và từng sự kiện của đơn vị "
        "trong kỳ đang mở",
    )
    qr.add_argument("unit", nargs="?", help="mã đơn vị")
    qr.add_argument("--all", action="store_true", help="mọi đơn vị đang áp dụng")
    qr.add_argument("--bot", help="tên bot Telegram (mặc định: PBGDPL_TELEGRAM_BOT_USERNAME)")
    qr.add_argument("-o", "--output", type=Path, required=True, help="thư mục ghi áp phích")
    backup = commands.add_parser("backup", help="sao lưu cơ sở dữ liệu SQLite đang chạy")
    backup.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        _command(args, load_settings())
    except ConfigError as problem:
        raise SystemExit(f"Cấu hình chưa đúng: {problem}") from None
    except DatabaseUnreachable as problem:
        raise SystemExit(
            f"Không kết nối được cơ sở dữ liệu ({problem}). Kiểm tra PBGDPL_DATABASE_URL và máy chủ PostgreSQL."
        ) from None


def _command(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "run":
        from bot.app import main_run

        main_run(settings)
    elif args.command == "migrate":
        from conversations.definition import load_directory
        from storage.migrate import migrate

        shipped = {qid: qn.kind for qid, qn in load_directory(settings.questionnaires_dir).items()}
        asyncio.run(migrate(settings.effective_database_url, questionnaires=shipped))
        print("Cơ sở dữ liệu đã sẵn sàng.")
    elif args.command == "export":
        asyncio.run(_export(settings, args))
    elif args.command == "questionnaire" and args.action == "export":
        asyncio.run(_questionnaire_export(settings, args))
    elif args.command == "questionnaire":
        _questionnaire_check(settings, args.file)
    elif args.command == "units":
        asyncio.run(_units_import(settings, args.file, args.yes))
    elif args.command == "qr":
        asyncio.run(_posters(settings, args))
    elif args.command == "backup":
        from storage.backup import backup_sqlite

        pages = backup_sqlite(settings.effective_database_url, args.output)
        print(f"Đã sao lưu {pages} trang vào {args.output}")


if __name__ == "__main__":
    main()
