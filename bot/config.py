"""Configuration from PBGDPL_* environment variables (and a .env file)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PBGDPL_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None
    secret: SecretStr | None = None
    admins: Annotated[frozenset[str], NoDecode] = frozenset()
    questionnaires_dir: Path = REPO_ROOT / "presets" / "questionnaires"
    units_dir: Path = REPO_ROOT / "presets" / "units"
    period: str = Field(default_factory=lambda: str(date.today().year))
    period_deadline: date | None = None
    invite_ttl_hours: int = 72
    suppress_below: int = Field(default=5, ge=1)
    survey_breakdowns: Annotated[tuple[str, ...], NoDecode] = ("tuoi", "gioi_tinh", "nghe_nghiep")
    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_base_file_url: str | None = None
    telegram_bot_username: str | None = None
    console: bool | None = None
    log_level: str = "INFO"

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("survey_breakdowns", mode="before")
    @classmethod
    def _split_breakdowns(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'pbgdpl.sqlite3'}"

    @property
    def deadline(self) -> date:
        if self.period_deadline is not None:
            return self.period_deadline
        year = int(self.period) if self.period.isdigit() else date.today().year
        return date(year, 12, 31)

    @property
    def run_console(self) -> bool:
        return self.console if self.console is not None else self.telegram_token is None
