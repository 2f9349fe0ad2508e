"""The `pbgdpl` command."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.config import Settings


async def _export(settings: Settings, args: argparse.Namespace) -> None:
    from bot.app import open_service
    from exports.jobs import ExportError, ExportRequest, run_export

    request = ExportRequest(
        kind=args.kind,
        period=args.period or settings.period,
        unit=args.unit,
        version=args.version,
        fmt=args.format,
        sheet=args.sheet,
        suppress_below=settings.suppress_below,
        breakdowns=settings.survey_breakdowns,
    )
    async with open_service(settings) as service:
        try:
            made = await asyncio.to_thread(run_export, service.db.url, service.questionnaires, request, service.clock())
        except ExportError as problem:
            raise SystemExit(str(problem)) from problem
    args.output.write_bytes(made.content)
    print(f"Đã ghi {args.output} ({len(made.content)} byte)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pbgdpl", description="Bot đánh giá công tác PBGDPL")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="chạy bot (dòng lệnh khi chưa có token Telegram)")
    commands.add_parser("migrate", help="tạo hoặc nâng cấp cơ sở dữ liệu")
    export = commands.add_parser(
        "export",
        help="xuất kết quả: danhgia (Excel tự đánh giá), khaosat (Excel khảo sát), baocao (dự thảo báo cáo Word); "
        "không ghi gì: tệp Excel kết quả chung",
    )
    export.add_argument("kind", nargs="?", default="tonghop", choices=["danhgia", "khaosat", "baocao", "tonghop"])
    export.add_argument("--period", help="mã kỳ đánh giá (mặc định: PBGDPL_PERIOD)")
    export.add_argument("--unit", help="chỉ một đơn vị, theo mã")
    export.add_argument("--version", help="chỉ các phiếu làm theo phiên bản bảng hỏi này")
    export.add_argument("--format", choices=["xlsx", "csv", "docx"], help="mặc định: xlsx, baocao: docx")
    export.add_argument("--sheet", help="với csv: tên bảng cần xuất (mặc định: câu trả lời dạng dài)")
    export.add_argument("-o", "--output", type=Path, required=True)
    backup = commands.add_parser("backup", help="sao lưu cơ sở dữ liệu SQLite đang chạy")
    backup.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "run":
        from bot.app import main_run

        main_run(settings)
    elif args.command == "migrate":
        from storage.migrate import migrate

        asyncio.run(migrate(settings.effective_database_url))
        print("Cơ sở dữ liệu đã sẵn sàng.")
    elif args.command == "export":
        asyncio.run(_export(settings, args))
    elif args.command == "backup":
        from storage.backup import backup_sqlite

        pages = backup_sqlite(settings.effective_database_url, args.output)
        print(f"Đã sao lưu {pages} trang vào {args.output}")


if __name__ == "__main__":
    main()
