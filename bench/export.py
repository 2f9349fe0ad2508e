"""Export benchmark (`make bench-export`): how long the survey workbook (aggregated), its microdata (the raw rows,
`/xuat dulieu`), the self-assessment workbook and the draft report take, and their peak memory, on 100,000 citizen
responses × 20 questions over 22 units plus one self-assessment per unit, against the floor of writing the same raw
rows with plain pandas `to_excel`.

Seeding goes straight into SQLite with executemany. Every measurement runs in its own process, so each peak
RSS (resource.getrusage) is that export's alone, imports included.

    python -m bench.export [--responses 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "presets"
PERIOD = "2025"
EXTRA_QUESTIONS = 6  # the suggested survey has 14 answerable questions; the benchmark asks 20
SUGGESTIONS = [
    "Cần thêm loa truyền thanh ở thôn",
    "Nên tuyên truyền qua Zalo nhóm thôn",
    "Tổ chức hội nghị vào buổi tối",
    "Tờ rơi nên ngắn gọn, dễ hiểu",
    "=1+1",
    "Cần tư vấn pháp luật miễn phí cho người già",
]
TARGETS = {"ratio": 2.0, "peak_mb": 500.0, "report_seconds": 30.0}


# ---------------------------------------------------------------- seeding


# Loaded only because the self-assessment names it; nothing is seeded for it and no export covers it.
STAFF_SURVEY = "khao-sat-phong-ban"


def bench_questionnaires(directory: Path) -> None:
    """The shipped self-assessment and staff survey, and the suggested citizen survey with six more questions."""
    directory.mkdir(parents=True, exist_ok=True)
    survey = yaml.safe_load((PRESETS / "questionnaires" / "khao-sat-nguoi-dan.yaml").read_text(encoding="utf-8"))
    scale = [{"value": f"muc_{n}", "label": label} for n, label in enumerate(["Rất tốt", "Tốt", "Trung bình", "Kém"])]
    survey["groups"].append(
        {
            "code": "bo_sung",
            "title": "Câu hỏi bổ sung (chỉ dùng để đo hiệu năng)",
            "questions": [
                {"id": f"bo_sung_{n}", "type": "single_choice", "text": f"Câu bổ sung {n}?", "choices": scale}
                for n in range(1, EXTRA_QUESTIONS + 1)
            ],
        }
    )
    (directory / "khao-sat-nguoi-dan.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), encoding="utf-8")
    # The self-assessment's survey-measured criteria name the staff survey too: it must load beside it.
    for name in ("tu-danh-gia.yaml", f"{STAFF_SURVEY}.yaml"):
        (directory / name).write_text((PRESETS / "questionnaires" / name).read_text(encoding="utf-8"), encoding="utf-8")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _value(q: Any, rng: random.Random) -> Any:
    """A plausible answer of the question's type."""
    from conversations.definition import QuestionType

    options = [c.value for c in q.options]
    if q.type in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO):
        return rng.choice(options)
    if q.type is QuestionType.MULTIPLE_CHOICE:
        return sorted(rng.sample(options, rng.randint(1, min(3, len(options)))), key=options.index)
    if q.type is QuestionType.PERCENTAGE:
        return rng.choice([55, 72.5, 80, 90, 100])
    if q.type in (QuestionType.INTEGER, QuestionType.DECIMAL):
        return rng.randint(int(q.min or 0), min(int(q.max or 20), 20))
    if q.type is QuestionType.DATE:
        return "2025-01-15"
    if q.type is QuestionType.EVIDENCE:
        return [
            {
                "file_id": f"bench-{rng.getrandbits(48):x}",
                "kind": "photo",
                "name": "anh.jpg",
                "mime": "image/jpeg",
                "size": 150_000,
                "sha256": hashlib.sha256(str(rng.random()).encode()).hexdigest(),
            }
            for _ in range(rng.randint(1, 3))
        ]
    if q.type is QuestionType.TEXT:
        return rng.choice(SUGGESTIONS)
    raise ValueError(q.type)


def answers_of(qn: Any, rng: random.Random, skip_text: float) -> dict[str, Any]:
    """Answers to the questions a respondent is shown (show-if followed), some optional text skipped."""
    from conversations.conditions import effective_answers
    from conversations.definition import QuestionType

    answers: dict[str, Any] = {}
    for q in qn.questions:
        if not q.answerable or (q.show_if is not None and not q.show_if.test(answers)):
            continue
        if q.type is QuestionType.TEXT and rng.random() < skip_text:
            continue
        answers[q.id] = "co" if q.id == "dong_y" and rng.random() < 0.97 else _value(q, rng)
    return effective_answers(qn, answers)


def answer_rows(qn: Any, response_id: int, answers: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The answers table's rows of a response: (response_id, question_id, value, value_text, points)."""
    from conversations.answers import display
    from conversations.scoring import question_points

    for qid, value in answers.items():
        q = qn.question(qid)
        points = question_points(q, value) if q.scored else None
        yield (response_id, qid, value, display(q, value), points)


def _answer_rows(qn: Any, response_id: int, answers: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(r, q, json.dumps(value), *rest) for r, q, value, *rest in answer_rows(qn, response_id, answers)]


def seed(db_path: Path, questionnaires: Path, responses: int, seed_value: int = 2025) -> dict[str, int]:
    """Units, the period, one submitted self-assessment per unit and `responses` citizen surveys."""
    from conversations.definition import load_directory
    from conversations.scoring import score
    from conversations.status import Status
    from storage.repo import response_key

    qns = load_directory(questionnaires)
    assessment, survey = qns["tu-danh-gia"], qns["khao-sat-nguoi-dan"]
    rng = random.Random(seed_value)
    units_file = yaml.safe_load((PRESETS / "units" / "hau-loc-2023.yaml").read_text(encoding="utf-8"))
    units = [u for u in units_file["units"] if u["kind"] == "commune"]
    now = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    with con:
        con.executemany(
            "INSERT INTO units (code, name, kind, unit_set, valid_from, valid_to, formed_from) VALUES (?,?,?,?,?,?,?)",
            [(u["code"], u["name"], u["kind"], units_file["id"], "2020-01-01", "2025-06-30", None) for u in units],
        )
        con.execute(
            "INSERT INTO periods (code, title, deadline, is_open, created_at) VALUES (?,?,?,?,?)",
            (PERIOD, f"Kỳ đánh giá {PERIOD}", f"{PERIOD}-12-31", 1, _stamp(now)),
        )
    response_sql = (
        "INSERT INTO responses (id, dedupe_key, questionnaire_id, questionnaire_version, period_code, unit_code, "
        "respondent, status, state, total_points, created_at, updated_at, submitted_at, submitted_by) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    answer_sql = "INSERT INTO answers (response_id, question_id, value, value_text, points) VALUES (?,?,?,?,?)"
    evidence_sql = (
        "INSERT INTO evidence (response_id, question_id, channel, file_id, kind, name, mime, size, sha256) "
        "VALUES (?,?,?,?,?,?,?,?,?)"
    )
    next_id, answer_count = 1, 0
    with con:
        for unit in units:
            answers = answers_of(assessment, rng, skip_text=0.5)
            state = {"phase": "submitted", "answers": answers}
            at = _stamp(now - timedelta(days=rng.randint(1, 60)))
            con.execute(
                response_sql,
                (
                    next_id,
                    response_key(assessment.id, PERIOD, unit["code"]),
                    assessment.id,
                    assessment.version,
                    PERIOD,
                    unit["code"],
                    None,
                    Status.SUBMITTED.value,
                    json.dumps(state),
                    score(assessment, answers).total,
                    at,
                    at,
                    at,
                    None,
                ),
            )
            rows = _answer_rows(assessment, next_id, answers)
            con.executemany(answer_sql, rows)
            answer_count += len(rows)
            files = [
                (next_id, qid, "telegram", f["file_id"], f["kind"], f["name"], f["mime"], f["size"], f["sha256"])
                for qid, value in answers.items()
                if assessment.question(qid).type == "evidence"
                for f in value
            ]
            con.executemany(evidence_sql, files)
            next_id += 1
    batch: list[tuple[Any, ...]] = []
    answer_batch: list[tuple[Any, ...]] = []
    for n in range(responses):
        unit = units[n % len(units)]
        respondent = hashlib.sha256(f"bench-{n}".encode()).hexdigest()
        answers = answers_of(survey, rng, skip_text=0.9)
        at = _stamp(now - timedelta(minutes=n))
        state = {"phase": "submitted", "answers": answers}
        batch.append(
            (
                next_id,
                response_key(survey.id, PERIOD, unit["code"], respondent),
                survey.id,
                survey.version,
                PERIOD,
                unit["code"],
                respondent,
                Status.SUBMITTED.value,
                json.dumps(state),
                None,
                at,
                at,
                at,
                None,
            )
        )
        answer_batch.extend(_answer_rows(survey, next_id, answers))
        next_id += 1
        if len(batch) == 5000 or n == responses - 1:
            with con:
                con.executemany(response_sql, batch)
                con.executemany(answer_sql, answer_batch)
            answer_count += len(answer_batch)
            batch, answer_batch = [], []
    con.execute("ANALYZE")
    con.close()
    return {"units": len(units), "responses": responses + len(units), "answers": answer_count}


# ---------------------------------------------------------------- measurements (each in its own process)


def _floor(db_path: Path, output: Path) -> dict[str, Any]:
    """The same raw rows (one per survey response, one column per question) written by plain pandas."""
    import pandas as pd

    started = time.perf_counter()
    with sqlite3.connect(db_path) as con:
        long = pd.read_sql_query(
            "SELECT r.id, r.unit_code, r.submitted_at, a.question_id, a.value_text FROM responses r "
            "JOIN answers a ON a.response_id = r.id WHERE r.questionnaire_id = 'khao-sat-nguoi-dan'",
            con,
        )
    wide = long.pivot(index=["id", "unit_code", "submitted_at"], columns="question_id", values="value_text")
    wide = wide.reset_index()
    loaded = time.perf_counter()
    wide.to_excel(output, index=False, engine="xlsxwriter")
    return {"seconds": time.perf_counter() - loaded, "load_seconds": loaded - started, "shape": list(wide.shape)}


def _export(kind: str, url: str, questionnaires: Path, output: Path) -> dict[str, Any]:
    from conversations.definition import load_directory
    from exports.jobs import ExportRequest, run_export

    qns = load_directory(questionnaires)
    request = ExportRequest(
        kind=kind,  # type: ignore[arg-type]
        period=PERIOD,
        suppress_below=5,
        breakdowns=("tuoi", "gioi_tinh", "nghe_nghiep"),
        questionnaires=tuple(sorted(set(qns) - {STAFF_SURVEY}, key=lambda i: qns[i].kind != "self_assessment")),
        evidence_dir=str(output.parent / "evidence"),
    )
    started = time.perf_counter()
    made = run_export(url, qns, request, datetime.now(UTC))
    seconds = time.perf_counter() - started
    output.write_bytes(made.content)
    return {"seconds": seconds}


def measure(what: str, db_path: Path, questionnaires: Path, output: Path) -> dict[str, Any]:
    if what == "floor":
        result = _floor(db_path, output)
    else:
        result = _export(what, f"sqlite+aiosqlite:///{db_path}", questionnaires, output)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["size_mb"] = output.stat().st_size / 1e6
    return result


def _child(what: str, db_path: Path, questionnaires: Path, output: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.export", "measure", what, str(db_path), str(questionnaires), str(output)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(responses: int, workdir: Path) -> dict[str, dict[str, Any]]:
    from storage.migrate import migrate

    db_path, questionnaires = workdir / "bench.sqlite3", workdir / "questionnaires"
    for old in workdir.glob("bench.sqlite3*"):
        old.unlink()
    bench_questionnaires(questionnaires)
    asyncio.run(migrate(f"sqlite+aiosqlite:///{db_path}"))
    started = time.perf_counter()
    counts = seed(db_path, questionnaires, responses)
    print(
        f"Seeded {counts['responses']:,} responses ({counts['units']} units) and {counts['answers']:,} answers "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    results = {}
    for what, filename in (
        ("floor", "floor.xlsx"),
        ("khaosat", "khao-sat.xlsx"),
        ("dulieu", "du-lieu-goc.xlsx"),
        ("danhgia", "tu-danh-gia.xlsx"),
        ("baocao", "bao-cao.docx"),
    ):
        results[what] = _child(what, db_path, questionnaires, workdir / filename)
        print(f"  {what}: {results[what]['seconds']:.1f} s", flush=True)
    return results


def report(results: dict[str, dict[str, Any]]) -> bool:
    floor = results["floor"]
    print()
    print(f"{'what':<58}{'seconds':>9}{'× floor':>9}{'peak MB':>9}{'file MB':>9}")
    labels = {
        "floor": f"floor: pandas to_excel of the raw rows ({floor['shape'][0]:,} × {floor['shape'][1]})",
        "khaosat": "survey workbook (aggregated, 5 sheets)",
        "dulieu": "survey microdata (4 sheets, raw rows streamed from SQL)",
        "danhgia": "self-assessment workbook (5 sheets)",
        "baocao": "draft report (docx, 3 charts)",
    }
    for what, label in labels.items():
        r = results[what]
        ratio = r["seconds"] / floor["seconds"]
        print(f"{label:<58}{r['seconds']:>9.1f}{ratio:>9.2f}{r['peak_mb']:>9.0f}{r['size_mb']:>9.1f}")
    print(f"(the floor also spent {floor['load_seconds']:.1f} s reading and pivoting the rows with pandas first)")
    survey = results["dulieu"]
    checks = [
        (
            f"survey microdata within {TARGETS['ratio']:g}× floor",
            survey["seconds"] <= TARGETS["ratio"] * floor["seconds"],
        ),
        (f"survey microdata under {TARGETS['peak_mb']:g} MB peak", survey["peak_mb"] < TARGETS["peak_mb"]),
        (f"report under {TARGETS['report_seconds']:g} s", results["baocao"]["seconds"] < TARGETS["report_seconds"]),
    ]
    print()
    for text, ok in checks:
        print(f"{'OK  ' if ok else 'MISS'} {text}")
    return all(ok for _, ok in checks)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["measure"]:
        what, db_path, questionnaires, output = args[1], Path(args[2]), Path(args[3]), Path(args[4])
        print(json.dumps(measure(what, db_path, questionnaires, output)))
        return
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, help="keep the database and files here (default: a temporary folder)")
    options = parser.parse_args(args)
    if options.workdir is not None:
        options.workdir.mkdir(parents=True, exist_ok=True)
        ok = report(run(options.responses, options.workdir))
    else:
        with tempfile.TemporaryDirectory(prefix="pbgdpl-bench-") as tmp:
            ok = report(run(options.responses, Path(tmp)))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
