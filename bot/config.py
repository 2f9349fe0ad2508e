"""Configuration from PBGDPL_* environment variables (and a .env file)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

REPO_ROOT = Path(__file__).resolve().parents[1]
DRIVERS = ("postgresql+asyncpg", "sqlite+aiosqlite")
"""The databases the bot runs on, as PBGDPL_DATABASE_URL names them."""


class ConfigError(Exception):
    """The configuration cannot work; the message says what to set."""


def load_settings() -> Settings:
    """The settings, or ConfigError naming each variable that is wrong (one line, no traceback)."""
    try:
        return Settings()
    except ValidationError as problem:
        wrong = [
            (f"PBGDPL_{'_'.join(str(part) for part in e['loc']).upper()}: " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ")
            for e in problem.errors()
        ]
        raise ConfigError("; ".join(wrong)) from None


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
    reminder_days: Annotated[tuple[int, ...], NoDecode] = (7, 3, 1)
    """Days before the deadline on which officers of units that have not submitted are reminded."""
    reminder_hour: int = Field(default=8, ge=0, le=23)
    """Local hour (Vietnam) of the reminders and of the admins' morning digest."""
    digest_days: int = Field(default=7, ge=0)
    """The admins' morning digest runs on this many last days up to the deadline (0: never)."""
    survey_target: int = Field(default=30, ge=1)
    """Citizens' responses wanted per unit, for progress."""
    outbox_per_second: float = Field(default=25.0, gt=0)
    outbox_per_chat_seconds: float = Field(default=1.0, ge=0)
    outbox_max_attempts: int = Field(default=5, ge=1)
    suppress_below: int = Field(default=5, ge=1)
    evidence_max_mb: float = Field(default=10, gt=0, le=20)
    """Largest evidence file kept, in MB (a Telegram bot cannot download more than 20 MB, nor does the Zalo fetcher)."""
    survey_breakdowns: Annotated[tuple[str, ...], NoDecode] = ("tuoi", "gioi_tinh", "nghe_nghiep")
    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_base_file_url: str | None = None
    telegram_bot_username: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_url: str | None = None
    download_ttl_minutes: int = 60 * 24
    web_dashboard: bool = True
    """The Justice Office's pages (/web): served by the web app, also when only the console runs."""
    web_link_minutes: int = Field(default=10, ge=1, le=60)
    """How long a sign-in link sent by /web works (once)."""
    web_session_hours: int = Field(default=12, ge=1, le=24 * 30)
    web_public_results: bool = True
    """The public results pages (/ketqua): every commune's and the area's survey figures, without sign-in."""
    zalo_oa_app_id: str | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_oa_app_secret: SecretStr | None = None
    zalo_oa_refresh_token: SecretStr | None = None
    zalo_oa_base_url: str = "https://openapi.zalo.me"
    zalo_oa_oauth_url: str = "https://oauth.zaloapp.com/v4/oa/access_token"
    zalo_oa_buttons: bool = False
    zalo_oa_replay_window_seconds: int = 600
    zalo_oa_name: str | None = None
    """The Official Account's name as people find it on Zalo, printed on the posters beside its QR code."""
    zalo_oa_id: str | None = None
    """The Official Account's id (digits): the posters' second QR code opens https://zalo.me/<id>."""
    zalo_bot_token: SecretStr | None = None
    zalo_bot_base_url: str = "https://bot-api.zaloplatforms.com"
    zalo_bot_webhook_secret: SecretStr | None = None
    console: bool | None = None
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            url = None
        if url is None or url.drivername not in DRIVERS:
            raise ValueError(
                "không đọc được địa chỉ cơ sở dữ liệu; dùng dạng postgresql+asyncpg://người_dùng@máy/tên_csdl "
                "hoặc sqlite+aiosqlite:///đường/dẫn/tệp.sqlite3"
            )
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(sorted({int(part) for part in value.split(",") if part.strip()}, reverse=True))
        return value

    @field_validator("survey_breakdowns", mode="before")
    @classmethod
    def _split_breakdowns(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("zalo_oa_id")
    @classmethod
    def _zalo_oa_id(cls, value: str | None) -> str | None:
        if value is not None and not value.strip().isdigit():
            raise ValueError("mã Official Account Zalo chỉ gồm chữ số (xem ở trang quản lý OA)")
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _zalo_oa_poster(self) -> Settings:
        if (self.zalo_oa_name is None) != (self.zalo_oa_id is None):
            raise ValueError("áp phích cần cả PBGDPL_ZALO_OA_NAME và PBGDPL_ZALO_OA_ID (hoặc bỏ trống cả hai)")
        return self

    @property
    def base_url(self) -> str:
        """Where people reach the web app: PBGDPL_PUBLIC_URL, else the address it listens on."""
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'pbgdpl.sqlite3'}"

    @property
    def evidence_dir(self) -> Path:
        """Where evidence files are kept, named by their SHA-256 (bot.evidence, storage.files)."""
        return self.data_dir / "evidence"

    @property
    def deadline(self) -> date:
        if self.period_deadline is not None:
            return self.period_deadline
        year = int(self.period) if self.period.isdigit() else date.today().year
        return date(year, 12, 31)

    @property
    def platforms_configured(self) -> bool:
        return any(v is not None for v in (self.telegram_token, self.zalo_oa_app_id, self.zalo_bot_token))

    @property
    def run_console(self) -> bool:
        return self.console if self.console is not None else not self.platforms_configured
