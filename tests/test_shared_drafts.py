"""Officers of a unit share one self-assessment, each from their own place in it (both databases): an answer is
stored only on the question its sender was shown; a submission locks the draft for the others and tells them."""

from __future__ import annotations

import asyncio
import random
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.identity import actor_key
from bot.service import BotService, Sender
from conversations import engine
from conversations.definition import QuestionType
from conversations.engine import Outgoing
from storage.models import OutboxMessage, Response
from tests.client import Chat, running_service
from tests.test_service import invite_code
from tests.test_shared_draft_engine import Seen, check_changes, last_seen

UNIT = "16078"
TYPED = {
    QuestionType.YES_NO: "có",
    QuestionType.SINGLE_CHOICE: "1",
    QuestionType.MULTIPLE_CHOICE: "1",
    QuestionType.INTEGER: "2",
    QuestionType.DECIMAL: "1",
    QuestionType.PERCENTAGE: "80",
    QuestionType.DATE: "1/3/2026",
    QuestionType.TEXT: "ghi chú",
    QuestionType.EVIDENCE: "bỏ qua",
}


async def officers(service: BotService, *names: str) -> list[Chat]:
    admin, chats = Chat(service, "admin"), []
    for number, name in enumerate(names, start=701):
        chat = Chat(service, str(number))
        chat.sender = Sender("test", str(number), name)
        await chat.send(f"/start dk_{invite_code(await admin.send(f'/moi {UNIT}'))}")
        chats.append(chat)
    return chats


async def draft(service: BotService) -> Response:
    async with service.db.read() as db:
        return (await db.scalars(select(Response).where(Response.unit_code == UNIT))).one()


async def asked(service: BotService, chat: Chat) -> str | None:
    """The question this officer is being asked now, as stored."""
    response = await draft(service)
    qn = service.questionnaires[response.questionnaire_id]
    who = engine.Participant(actor_key(service.secret, chat.sender.channel, chat.sender.user_id))
    q = engine.current_question(qn, response.state, who)
    return q.id if q else None


async def answer_until(service: BotService, chat: Chat, code: str | None) -> None:
    """Answer plainly until the question with this code is asked (None: until the review screen)."""
    qn = service.questionnaires["tu-danh-gia"]
    for _ in range(60):
        current = await asked(service, chat)
        if current is None or (qn.question(current).code == code and code is not None):
            return
        await chat.send(TYPED[qn.question(current).type])
    raise AssertionError(f"never reached {code}")


async def test_an_answer_meant_for_a_question_another_officer_answered_is_not_stored_on_the_next(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        a, b = await officers(service, "Chị An", "Anh Bình")
        await a.send("/danhgia")
        await answer_until(service, a, "N1.6")
        assert "N1.6" in await b.send("/danhgia")  # B joins at the first question nobody has answered
        assert "N2.1" in await b.send("có")
        reply = await a.send("không")  # A meant N1.6
        assert "Anh Bình vừa trả lời câu này: Có" in reply and "chưa được lưu" in reply and "N1.6" in reply
        answers = (await draft(service)).state["answers"]
        assert answers["n1_kiem_tra"] == "co" and "n2_truc_tiep" not in answers
        assert "N2.1" in await a.send("không")  # asked again and answered: now it is A's answer
        assert (await draft(service)).state["answers"]["n1_kiem_tra"] == "khong"


async def test_a_tapped_answer_is_held_to_the_question_its_sender_was_shown(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        a, b = await officers(service, "Chị An", "Anh Bình")
        await a.send("/danhgia")
        await answer_until(service, a, "N1.6")
        old = a.last  # N1.6 with its buttons
        await b.send("/danhgia")
        assert "N2.1" in await b.send("có")  # B answers N1.6 first
        reply = await a.tap("Không")  # on the N1.6 A was shown
        assert "Anh Bình vừa trả lời câu này: Có" in reply and "chưa được lưu" in reply and "N1.6" in reply
        answers = (await draft(service)).state["answers"]
        assert answers["n1_kiem_tra"] == "co" and "n2_truc_tiep" not in answers
        assert "N2.1" in await a.tap("Không")  # asked again and tapped: A's answer now
        a.last = old
        stale = await a.tap("Có")  # N1.6's button on the old message, while A is asked N2.1
        assert "thuộc một câu hỏi cũ" in stale and "N2.1" in stale
        assert (await draft(service)).state["answers"]["n1_kiem_tra"] == "khong"
        assert "n2_truc_tiep" not in (await draft(service)).state["answers"]


async def test_submit_on_the_review_while_another_edits_a_criterion_is_never_its_text(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        a, b = await officers(service, "Chị An", "Anh Bình")
        await a.send("/danhgia")
        await answer_until(service, a, None)
        review = await b.send("/danhgia")
        number = re.search(r"(\d+)\. Ý kiến, giải trình", review)
        assert number, review
        assert "Ý kiến, giải trình" in await b.send(f"sửa {number[1]}")
        submitted = await a.send("nộp")
        assert "Đã nộp phiếu" in submitted
        locked = await b.send("Đã tổ chức đủ các buổi")  # B's text for the criterion, after A submitted
        assert "đã nộp lúc" in locked and "được khóa" in locked
        response = await draft(service)
        assert response.state["answers"]["ghi_chu"] == "ghi chú" and response.status == "submitted"
        async with service.db.read() as db:
            told = (await db.scalars(select(OutboxMessage))).all()
        assert [(m.recipient, m.kind) for m in told] == [("702", "draft_submitted")]
        assert "Chị An vừa nộp phiếu tự đánh giá" in told[0].text
        assert "Bạn chưa mở phiếu nào" in await b.send("1")  # told once; then the session is closed


async def test_two_quick_conflicting_answers_store_one_and_name_it_to_the_other(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        a, b = await officers(service, "Chị An", "Anh Bình")
        await a.send("/danhgia")
        assert "N1.1" in await b.send("/danhgia")
        replies = await asyncio.gather(a.send("có"), b.send("không"))
        answers = (await draft(service)).state["answers"]
        stored = [r for r in replies if "chưa được lưu" not in r]
        refused = [r for r in replies if "chưa được lưu" in r]
        assert len(stored) == 1 and len(refused) == 1, replies
        winner = "Chị An" if answers["n1_ke_hoach"] == "co" else "Anh Bình"
        assert f"{winner} vừa trả lời câu này" in refused[0]


async def shown(service: BotService, chat: Chat) -> engine.Step:
    """The draft as it is after the chat's last message, with the messages that chat was sent."""
    response = await draft(service)
    said = [r for r in chat.last if isinstance(r, Outgoing)]
    return engine.Step(engine.load_state(response.state), said, response.status == "submitted")


async def test_random_interleavings_store_only_what_each_officer_was_shown(tmp_path: Path, database_url: str) -> None:
    words = ["có", "không", "1", "2", "3", "80", "1/3/2026", "ghi chú", "bỏ qua", "giữ nguyên", "quay lại", "nộp"]
    async with running_service(tmp_path, database_url=database_url) as service:
        chats = await officers(service, "Chị An", "Anh Bình", "Chị Cúc")
        qn = service.questionnaires["tu-danh-gia"]
        seen: dict[str, Seen | None] = {}
        rng = random.Random(20260302)
        for chat in chats:
            await chat.send("/danhgia")
            seen[chat.sender.user_id] = last_seen(qn, await shown(service, chat), None)
        conflicts = 0
        for _ in range(150):
            chat = rng.choice(chats)
            before: dict[str, Any] = dict((await draft(service)).state["answers"])
            await chat.send(rng.choice([*words, "sửa 2", "sửa 5"] if rng.random() < 0.1 else words))
            step = await shown(service, chat)
            conflicts += "chưa được lưu" in chat.text
            check_changes(qn, before, step, seen[chat.sender.user_id])
            if step.submitted:
                break
            seen[chat.sender.user_id] = last_seen(qn, step, seen[chat.sender.user_id])
        assert conflicts, "the officers never got in each other's way: nothing was tested"
