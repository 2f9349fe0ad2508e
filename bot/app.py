"""Putting it together: settings → database → service → channels."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from aiohttp.web import Application
from pydantic import SecretStr

from bot import confirm, jobs
from bot.channels import zalo_bot
from bot.channels.base import Channel
from bot.channels.console import ConsoleChat
from bot.channels.registry import is_poster_code
from bot.channels.telegram import TelegramChannel, TelegramLinks
from bot.channels.zalo_bot import ZaloBotChannel
from bot.channels.zalo_oa import ZaloOaChannel
from bot.commands import (
    assign,
    conversation,
    events,
    export,
    invites,
    periods,
    posters,
    progress,
    questionnaires,
    reminders,
    review,
    unit_changes,
    units,
    verification,
    web,
)
from bot.config import ConfigError, Settings
from bot.identity import load_or_create_secret
from bot.links import RESULTS, DownloadLinks
from bot.logs import setup_logging
from bot.outbox import Notifier, Outbox
from bot.presets import load_period_preset, load_unit_presets
from bot.scheduler import Scheduler
from bot.service import BotService
from bot.table import Command, CommandTable, FileHandler, JobKind, Permission, Wait
from bot.web import WebServer
from bot.worker import warm
from conversations.definition import load_directory
from dashboard.office import Office
from dashboard.public import Public
from dashboard.site import Site
from storage.db import Database
from storage.migrate import migrate

log = logging.getLogger(__name__)

ANYONE, OFFICER, STAFF, ADMIN = Permission.ANYONE, Permission.OFFICER, Permission.STAFF, Permission.ADMIN


def command_table() -> CommandTable:
    """Everything people can ask the bot for, who may, and what it is: the menu and the help come from here."""
    c = conversation
    return CommandTable(
        [
            Command(("start",), c.start, ANYONE, "Bắt đầu", words=("bat dau", "chao", "xin chao"), listed=False),
            Command(
                ("danhgia",),
                c.assess,
                OFFICER,
                "làm hoặc tiếp tục các phiếu của đơn vị và của riêng mình (chọn khi có nhiều phiếu)",
                "[số thứ tự hoặc tên phiếu]",
                words=("danh gia", "tu danh gia"),
            ),
            Command(
                ("tiendo",),
                progress.progress,
                STAFF,
                "tiến độ từng bảng hỏi của kỳ và tổng cộng; kèm mã bảng hỏi để xem một bảng hỏi, mã kỳ: kỳ đã đóng",
                "[mã kỳ] [mã bảng hỏi]",
                words=("tien do",),
            ),
            Command(
                ("xem",),
                review.show,
                STAFF,
                "xem phiếu tự đánh giá của đơn vị",
                "[mã đơn vị] [mã bảng hỏi]",
                words=("xem phieu",),
            ),
            Command(
                ("khaosat",),
                c.survey,
                ANYONE,
                "trả lời khảo sát người dân",
                words=("khao sat",),
                shown_to=Permission.CITIZEN,
                link=is_poster_code,
            ),
            Command(
                ("huy",),
                c.pause,
                ANYONE,
                "tạm dừng (câu trả lời đã lưu, gõ lại lệnh để tiếp tục)",
                words=("huy", "tam dung", "dung lai"),
            ),
            Command(
                ("giaitrinh",),
                verification.explain,
                OFFICER,
                "giải trình một tiêu chí bị Phòng Tư pháp hạ điểm",
                "[mã bảng hỏi] <tiêu chí> <nội dung>",
                words=("giai trinh",),
            ),
            Command(("donvi",), units.units, ANYONE, "danh sách đơn vị và mã", words=("don vi", "danh sach don vi")),
            Command(
                ("toi",),
                c.whoami,
                ANYONE,
                "mã của bạn trên kênh này (để ghi vào PBGDPL_ADMINS)",
                words=("ma cua toi", "toi la ai"),
                listed=False,
            ),
            Command(
                ("trogiup", "help"), c.help_, ANYONE, "xem hướng dẫn này", words=("tro giup", "huong dan", "giup do")
            ),
            Command(
                ("moi",),
                invites.invite,
                ADMIN,
                "tạo mã mời cán bộ của đơn vị",
                "<mã đơn vị>",
                words=("moi can bo", "ma moi", "tao ma moi"),
            ),
            Command(
                ("xuat",),
                export.export,
                ADMIN,
                "các tệp xuất: /xuat danhgia, /xuat khaosat (Excel), /xuat baocao (Word), /xuat nhatky",
                words=("xuat", "xuat ket qua"),
            ),
            Command(("ky",), periods.periods, ADMIN, "kỳ đánh giá: tạo, mở, đổi hạn, đóng", words=("ky danh gia",)),
            Command(
                ("giao",),
                assign.assign,
                ADMIN,
                "bảng hỏi của kỳ đang mở: xem, giao cho mọi đơn vị, một loại đơn vị hoặc một đơn vị, bỏ",
                "[mã bảng hỏi tatca|xa|phong|mã đơn vị] | bo <số>",
                words=("giao bang hoi",),
            ),
            Command(
                ("duyet",),
                review.approve,
                ADMIN,
                "duyệt phiếu tự đánh giá",
                "<mã đơn vị> [mã bảng hỏi]",
                words=("duyet", "duyet phieu"),
            ),
            Command(
                ("minhchung",),
                review.send_evidence,
                ADMIN,
                "tệp minh chứng một đơn vị đã nộp",
                "<mã đơn vị> [mã bảng hỏi] [tiêu chí]",
                words=("xem minh chung",),
            ),
            Command(
                ("tralai",),
                review.send_back,
                ADMIN,
                "trả lại phiếu để sửa trên một số tiêu chí",
                "<mã đơn vị> [mã bảng hỏi] <tiêu chí…>",
                words=("tra lai",),
            ),
            Command(
                ("chamdiem",),
                verification.score,
                ADMIN,
                "thẩm định: chấm điểm một tiêu chí, hoặc đồng ý mọi điểm tự chấm còn lại",
                "<mã đơn vị> <tiêu chí> <điểm> [lý do] | <mã đơn vị> dongy",
                words=("cham diem", "tham dinh"),
            ),
            Command(
                ("chot",),
                verification.finalise,
                ADMIN,
                "chốt kết quả thẩm định (hoặc mở lại kèm lý do)",
                "<mã đơn vị> [mo lai <lý do>]",
                words=("chot ket qua",),
            ),
            Command(
                ("nhacnho",),
                reminders.remind,
                ADMIN,
                "nhắc các đơn vị chưa nộp",
                "[mã đơn vị]",
                words=("nhac nho", "nhac viec"),
            ),
            Command(
                ("qr",),
                posters.poster,
                ADMIN,
                "áp phích có mã QR cho từng khảo sát của đơn vị (Telegram, và Zalo khi đã khai báo OA)",
                "<mã đơn vị> [mã bảng hỏi]",
                words=("ma qr", "ap phich"),
            ),
            Command(
                ("sukien",),
                events.events_command,
                ADMIN,
                "sự kiện (buổi tuyên truyền, hội thảo): tạo kèm áp phích có mã QR riêng, xem, bỏ",
                "[tao <dd/mm/yyyy> <mã đơn vị> <mã bảng hỏi> <tên> | qr <mã> | bo <mã>]",
                words=("su kien",),
            ),
            Command(
                ("banghoi",),
                questionnaires.questionnaires,
                ADMIN,
                "bảng hỏi đang dùng; kèm mã để nhận tệp Excel (XLSForm) để sửa, rồi gửi lại tệp .xlsx",
                "[mã]",
                words=("bang hoi",),
            ),
            Command(
                ("xemthu",),
                questionnaires.preview,
                ADMIN,
                "làm thử phiên bản bảng hỏi vừa gửi",
                "[mã]",
                words=("xem thu",),
            ),
            Command(
                ("kichhoat",),
                questionnaires.activate,
                ADMIN,
                "áp dụng phiên bản bảng hỏi vừa gửi cho kỳ hiện tại",
                "[mã]",
                words=("kich hoat",),
            ),
            Command(
                ("web",),
                web.web,
                ADMIN,
                "đường dẫn đăng nhập trang quản trị trên web (dùng một lần)",
                words=("trang web", "dang nhap web"),
            ),
            Command(
                ("nhapdonvi",),
                unit_changes.upload_units,
                ADMIN,
                "nhập danh sách đơn vị từ tệp .csv hoặc .xlsx",
                words=("nhap don vi",),
            ),
            Command(
                ("doiten",), unit_changes.rename, ADMIN, "đổi tên đơn vị", "<mã> <tên mới>", words=("doi ten don vi",)
            ),
            Command(
                ("ngungdonvi",),
                unit_changes.end,
                ADMIN,
                "đơn vị không còn áp dụng từ một ngày",
                "<mã> [dd/mm/yyyy]",
                words=("ngung don vi",),
            ),
            Command(
                ("gopdonvi",),
                unit_changes.merge_units,
                ADMIN,
                "gộp đơn vị",
                "<mã cũ…> vao <mã mới> <tên>",
                words=("gop don vi",),
            ),
        ],
        files=[
            FileHandler(".csv", unit_changes.csv_sent, ADMIN, "danh sách đơn vị"),
            FileHandler(".xlsx", questionnaires.upload, ADMIN, "bảng hỏi dạng XLSForm, kiểm tra rồi lưu chờ áp dụng"),
        ],
        waits=[
            Wait("unit_pick", conversation.unit_picked, ANYONE, "đơn vị người dân chọn sau /khaosat"),
            Wait(
                "questionnaire_pick",
                conversation.questionnaire_picked,
                OFFICER,
                "phiếu cán bộ chọn sau /danhgia",
                answers_words_of="danhgia",
            ),
            Wait("units_upload", unit_changes.uploaded, ADMIN, "tệp danh sách đơn vị sau /nhapdonvi"),
            Wait(
                "preview",
                questionnaires.preview_step,
                ADMIN,
                "câu trả lời khi làm thử bảng hỏi",
                stopped=questionnaires.preview_stopped,
            ),
            Wait("confirm", confirm.answered, ADMIN, "“đồng ý” cho một việc không làm lại được"),
            Wait(
                "verify_pass",
                verification.guided,
                ADMIN,
                "nút hoặc điểm khi thẩm định từng tiêu chí",
                stopped=verification.pass_stopped,
            ),
            Wait(
                "explanation_file",
                verification.explanation_file,
                OFFICER,
                "tệp kèm giải trình sau /giaitrinh",
                stopped=verification.explanation_sent,
            ),
        ],
        jobs=[JobKind(export.JOB, export.make, export.finish, export.interrupted)],
    )


@asynccontextmanager
async def open_service(settings: Settings, *, console: bool = False) -> AsyncIterator[BotService]:
    """A migrated, seeded service; the database is closed on exit."""
    url = settings.effective_database_url
    questionnaires = load_directory(settings.questionnaires_dir)
    await migrate(url, questionnaires={qid: qn.kind for qid, qn in questionnaires.items()})
    secret = (
        settings.secret.get_secret_value().encode()
        if settings.secret
        else load_or_create_secret(settings.data_dir / "secret.key")
    )
    admins = settings.admins | ({"console:admin"} if console else frozenset())
    db = Database(url)
    service = BotService(
        db,
        questionnaires,
        secret,
        command_table(),
        admins=admins,
        invite_ttl=timedelta(hours=settings.invite_ttl_hours),
        settings=settings,
    )
    if settings.telegram_bot_username:  # deep links while the Telegram channel runs elsewhere (or not yet)
        service.channels.add_links(TelegramLinks(settings.telegram_bot_username))
    try:
        units_dir = settings.units_dir
        assigned = load_period_preset(units_dir)
        await service.seed(load_unit_presets(units_dir), settings.period, settings.deadline, assigned)
        await jobs.sweep(service)  # what a crash cut short: its requesters are told
        yield service
    finally:
        await service.detached.cancel()  # a job still running is cut short, and told, as after a crash
        await db.dispose()


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_channels(settings: Settings, service: BotService, links: DownloadLinks) -> list[Channel]:
    """The platform channels the settings ask for (the console runs apart, in the terminal)."""
    channels: list[Channel] = []
    if settings.telegram_token is not None:
        channels.append(
            TelegramChannel(
                service,
                settings.telegram_token.get_secret_value(),
                settings.telegram_base_url,
                settings.telegram_base_file_url,
                webhook_url=settings.telegram_webhook_url,
                webhook_secret=_secret(settings.telegram_webhook_secret),
            )
        )
    if settings.zalo_oa_app_id is not None:
        secret_key, app_secret = _secret(settings.zalo_oa_secret_key), _secret(settings.zalo_oa_app_secret)
        if secret_key is None or app_secret is None:
            raise ConfigError(
                "Zalo OA cần cả PBGDPL_ZALO_OA_SECRET_KEY (khóa bí mật của OA, trang Webhook) "
                "và PBGDPL_ZALO_OA_APP_SECRET (khóa bí mật của ứng dụng)."
            )
        channels.append(
            ZaloOaChannel(
                service,
                links,
                app_id=settings.zalo_oa_app_id,
                secret_key=secret_key,
                app_secret=app_secret,
                refresh_token=_secret(settings.zalo_oa_refresh_token),
                base_url=settings.zalo_oa_base_url,
                oauth_url=settings.zalo_oa_oauth_url,
                use_buttons=settings.zalo_oa_buttons,
                replay_window=timedelta(seconds=settings.zalo_oa_replay_window_seconds),
            )
        )
    if settings.zalo_bot_token is not None:
        webhook_secret = _secret(settings.zalo_bot_webhook_secret)
        channels.append(
            ZaloBotChannel(
                service,
                links,
                token=settings.zalo_bot_token.get_secret_value(),
                base_url=settings.zalo_bot_base_url,
                webhook_url=settings.base_url + zalo_bot.PATH if webhook_secret else None,
                webhook_secret=webhook_secret,
            )
        )
    return channels


@asynccontextmanager
async def notifications(
    settings: Settings, service: BotService, notifiers: Sequence[Notifier]
) -> AsyncIterator[Outbox]:
    """The outbox worker and the scheduler (reminders, digest), running while the channels do."""
    outbox = Outbox(
        service.db,
        notifiers,
        service.clock,
        per_second=settings.outbox_per_second,
        per_chat=settings.outbox_per_chat_seconds,
        max_attempts=settings.outbox_max_attempts,
    )
    scheduler = Scheduler(
        service, outbox, offsets=settings.reminder_days, hour=settings.reminder_hour, digest_days=settings.digest_days
    )
    await outbox.start()
    await scheduler.start()
    try:
        yield outbox
    finally:
        await scheduler.stop()
        await outbox.stop()


def mounted(service: BotService) -> list[tuple[str, Application]]:
    """The dashboard's apps the settings ask for, by the path each is served under."""
    settings = service.settings
    site = Site(service)
    apps = [("/web", Office(site).app())] if settings.web_dashboard else []
    return apps + ([(RESULTS, Public(site).app())] if settings.web_public_results else [])


@asynccontextmanager
async def serve(settings: Settings, service: BotService) -> AsyncIterator[WebServer | None]:
    """The web app and the configured platform channels, running; None when neither a platform nor the dashboard is
    configured."""
    links = DownloadLinks(
        settings.data_dir / "downloads",
        service.secret,
        settings.base_url,
        timedelta(minutes=settings.download_ttl_minutes),
    )
    channels = build_channels(settings, service, links)
    for channel in channels:
        service.channels.add(channel)
    if not channels and not settings.web_dashboard:
        yield None
        return
    server = WebServer(
        settings.http_host, settings.http_port, channels, links, ready=service.db.ping, mounted=mounted(service)
    )
    await server.start()
    started: list[Channel] = []
    try:
        for channel in channels:
            started.append(channel)  # stopped even if it fails half-way through starting
            await channel.start()
            log.info("%s channel started", channel.name)
        if not channels:  # the dashboard beside the console, which runs the notifications itself
            yield server
        else:
            async with notifications(settings, service, channels):
                yield server
    finally:
        await service.detached.cancel()  # before the channels it would send its file through stop
        for channel in reversed(started):
            await channel.stop()
        await server.stop()


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run(settings: Settings) -> None:
    console = settings.run_console
    threading.Thread(target=warm, name="upload-worker-warm", daemon=True).start()  # the first upload need not wait
    async with open_service(settings, console=console) as service, serve(settings, service):
        if console:
            chat = ConsoleChat(service, settings.data_dir / "exports")
            service.channels.add(chat)
            async with notifications(settings, service, [chat]):
                await chat.run()
        else:
            await _until_signalled()


def main_run(settings: Settings) -> None:
    setup_logging(settings.log_level, quiet=settings.run_console, json_lines=settings.log_format == "json")
    try:
        asyncio.run(run(settings))  # a ConfigError or an unreachable database: one line from bot.cli
    except KeyboardInterrupt:  # Ctrl-C while starting, before the chat or the channels handle it
        raise SystemExit(130) from None
