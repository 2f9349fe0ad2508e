"""The `pbgdpl` command."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.config import Settings


async def _export(settings: Settings, output: Path) -> None:
    from bot.app import open_service
    from bot.service import Document, Sender
    from conversations.engine import Inbound

    async with open_service(settings) as service:
        service.admins = service.admins | {"cli:admin"}
        replies = await service.handle(Sender("cli", "admin"), Inbound(text="/xuat"))
    for reply in replies:
        if isinstance(reply, Document):
            output.write_bytes(reply.content)
            print(f"Đã ghi {output}")
        else:
            print(reply.text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pbgdpl", description="Bot đánh giá công tác PBGDPL")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="chạy bot (dòng lệnh khi chưa có token Telegram)")
    commands.add_parser("migrate", help="tạo hoặc nâng cấp cơ sở dữ liệu")
    export = commands.add_parser("export", help="xuất tệp Excel kết quả kỳ hiện tại")
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
        asyncio.run(_export(settings, args.output))
    elif args.command == "backup":
        from storage.backup import backup_sqlite

        pages = backup_sqlite(settings.effective_database_url, args.output)
        print(f"Đã sao lưu {pages} trang vào {args.output}")


if __name__ == "__main__":
    main()
