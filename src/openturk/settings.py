"""Everything an operator may tune, in one frozen value built from flags and the environment.

Fees are here and not in code because Amazon has changed them before; the defaults are MTurk's published
pricing (20% commission, +20% on the reward for HITs with 10 or more assignments, 0.01 minimum).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation

DEFAULT_DB_URL = "sqlite:///openturk.sqlite3"
# Where clients reach this server, when not where they say they do (behind a reverse proxy, say): the
# base of the URLs OpenTurk hands out (GetFileUploadURL, the task URLs of `openturk worker accept`).
PUBLIC_URL_ENV = "OPENTURK_PUBLIC_URL"
# "required" or "off": whether the worker pages act only for a signed-in worker (service.worker_sign_in).
# Unset, `openturk serve` requires it when it listens beyond loopback and not on 127.0.0.1 / ::1.
WORKER_SIGN_IN_ENV = "OPENTURK_WORKER_SIGN_IN"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def public_url(env: Mapping[str, str] | None = None) -> str | None:
    configured = (os.environ if env is None else env).get(PUBLIC_URL_ENV, "").strip()
    return configured.rstrip("/") or None


def normalize_db_url(url: str) -> str:
    """A bare path means SQLite; ``postgresql://`` means psycopg 3 (SQLAlchemy would pick psycopg2)."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@dataclass(frozen=True, slots=True)
class Fees:
    reward_rate: Decimal = Decimal("0.20")
    large_hit_rate: Decimal = Decimal("0.20")
    large_hit_threshold: int = 10
    bonus_rate: Decimal = Decimal("0.20")
    masters_rate: Decimal = Decimal("0.05")
    minimum_cents: int = 1


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    fees: Fees = field(default_factory=Fees)
    # How long a UniqueRequestToken is remembered (marketplace clock).
    token_lifetime: timedelta = timedelta(hours=24)
    # How far a SigV4 X-Amz-Date may be from the server's wall clock.
    signature_max_skew: timedelta = timedelta(minutes=5)
    # The legacy API's Timestamp window (unconfirmed on the real service; 15 minutes).
    legacy_timestamp_window: timedelta = timedelta(minutes=15)
    # What a requester created on an empty database starts with, as the sandbox shows.
    bootstrap_balance_cents: int = 1_000_000
    # Whether the worker pages require a signed-in worker (else a workerId in the address names one).
    worker_sign_in: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, db_url: str | None = None) -> Settings:
        env = os.environ if env is None else env
        default = Fees()
        fees = Fees(
            reward_rate=_rate(env, "OPENTURK_REWARD_FEE_RATE", default.reward_rate),
            large_hit_rate=_rate(env, "OPENTURK_LARGE_HIT_FEE_RATE", default.large_hit_rate),
            bonus_rate=_rate(env, "OPENTURK_BONUS_FEE_RATE", default.bonus_rate),
            masters_rate=_rate(env, "OPENTURK_MASTERS_FEE_RATE", default.masters_rate),
        )
        url = db_url or env.get("OPENTURK_DB") or DEFAULT_DB_URL
        return cls(db_url=normalize_db_url(url), fees=fees, worker_sign_in=_sign_in(env) or False)

    def serving_on(self, host: str, env: Mapping[str, str] | None = None) -> Settings:
        """These settings for a server listening on ``host``: unless the environment says otherwise,
        the worker pages require a sign-in when others can reach them."""
        chosen = _sign_in(os.environ if env is None else env)
        return replace(self, worker_sign_in=host not in LOOPBACK_HOSTS if chosen is None else chosen)

    def with_db(self, db_url: str) -> Settings:
        return replace(self, db_url=normalize_db_url(db_url))


def _sign_in(env: Mapping[str, str]) -> bool | None:
    raw = env.get(WORKER_SIGN_IN_ENV, "").strip().lower()
    if raw in ("", "auto"):
        return None
    if raw not in ("required", "off"):
        raise ValueError(f"{WORKER_SIGN_IN_ENV}={raw!r} must be required or off")
    return raw == "required"


def _rate(env: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        rate = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{name}={raw!r} is not a decimal rate such as 0.20") from None
    if not Decimal(0) <= rate <= Decimal(1):
        raise ValueError(f"{name}={raw!r} must be between 0 and 1")
    return rate
