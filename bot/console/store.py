"""The console's own SQLite store: accounts, server-side sessions and the audit log (`var/console.db`).

Kept apart from the hub's file: nothing here is a resident's, and residents' data never lands here. The audit
log records who did what to which ticket or account, and when; never a message text or a password.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, TypeVar, cast, get_args

from sqlite_utils import Database, Migrations
from sqlite_utils.db import NotFoundError

from bot.console.passwords import (
    WeakPassword,
    check_new_password,
    dummy_hash,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)

BUSY_TIMEOUT_MS = 5000

Role = Literal["admin", "staff", "volunteer"]
ROLES: tuple[Role, ...] = get_args(Role)
T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _session_hash(session_id: str) -> str:
    # Only a hash of the cookie's value is stored: a copy of the file does not give anyone a session.
    return hashlib.sha256(session_id.encode()).hexdigest()


class AccountExists(ValueError):
    """An account with this name is already there."""


class AccountNotFound(LookupError):
    """No account has this name."""


class LogInRefused(PermissionError):
    """Wrong name or password, or a locked or disabled account; the text never says which."""


class WrongPassword(PermissionError):
    """The current password given to change it is wrong (or the account is locked for a while)."""


@dataclass(frozen=True)
class Account:
    """A person who works in the console, and what their role lets them see."""

    name: str
    role: Role
    disabled: bool
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class Session:
    """A browser's session: anonymous until log-in (it carries the log-in form's CSRF token), then an account's."""

    id: str
    account: Account | None
    csrf_token: str


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which target, and when."""

    at: datetime
    actor: str
    action: str
    target: str


account_migrations = Migrations("console.accounts")
session_migrations = Migrations("console.sessions")
audit_migrations = Migrations("console.audit")
MIGRATION_SETS = (account_migrations, session_migrations, audit_migrations)


@account_migrations()
def m001_accounts(db: Database) -> None:
    db.table("accounts").create(
        {
            "name": str,
            "role": str,
            "password_hash": str,
            "failed_logins": int,
            "locked_until": str,
            "disabled": int,
            "created_at": str,
        },
        pk="name",
        not_null={"role", "password_hash", "failed_logins", "disabled", "created_at"},
        defaults={"failed_logins": 0, "disabled": 0},
    )


@session_migrations()
def m001_sessions(db: Database) -> None:
    db.table("sessions").create(
        {"id_hash": str, "account": str, "csrf_token": str, "created_at": str, "last_seen_at": str},
        pk="id_hash",
        not_null={"csrf_token", "created_at", "last_seen_at"},
    )
    db.table("sessions").create_index(["account"])


@audit_migrations()
def m001_audit(db: Database) -> None:
    db.table("audit").create(
        {"id": int, "at": str, "actor": str, "action": str, "target": str},
        pk="id",
        not_null={"at", "actor", "action", "target"},
    )


class ConsoleStore:
    """Accounts, sessions and audit log in one SQLite file (blocking calls: use ConsoleStoreThread)."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = _now) -> None:
        self._db = db
        self._clock = clock

    @classmethod
    def open(cls, path: Path, clock: Callable[[], datetime] = _now) -> ConsoleStore:
        """Open (or create) the file with WAL and a busy timeout, and apply the console's migrations."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        db = Database(conn)
        try:
            db.enable_wal()
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            for migrations in MIGRATION_SETS:
                migrations.apply(db)
        except BaseException:
            db.close()
            raise
        return cls(db, clock)

    def close(self) -> None:
        """Close the database file."""
        self._db.close()

    # Accounts

    def create_account(self, name: str, role: Role, password: str, *, actor: str) -> Account:
        """Add an account after checking the password's strength; raise AccountExists or WeakPassword."""
        name = name.strip()
        if not name or len(name) > 64 or not name.isprintable():
            raise ValueError("アカウント名は1文字から64文字にしてください。")
        if role not in ROLES:
            raise ValueError(f"役割は {', '.join(ROLES)} のどれかにしてください。")
        check_new_password(name, password)
        if self._account_row(name) is not None:
            raise AccountExists(f"{name} というアカウントはもうあります。")
        now = _stamp(self._clock())
        self._db.table("accounts").insert(
            {"name": name, "role": role, "password_hash": hash_password(password), "created_at": now}
        )
        self.audit(actor, "account.create", f"account:{name}")
        return self.account(name)

    def account(self, name: str) -> Account:
        """The account with this name; raise AccountNotFound."""
        row = self._account_row(name)
        if row is None:
            raise AccountNotFound(f"no account {name!r}")
        return _account(row)

    def accounts(self) -> list[Account]:
        """Every account, by name."""
        return [_account(row) for row in self._db.table("accounts").rows_where(order_by="name")]

    def count_accounts(self) -> int:
        """How many accounts there are (none on a fresh install)."""
        return self._db.table("accounts").count

    def set_disabled(self, name: str, disabled: bool, *, actor: str) -> Account:
        """Disable or re-enable an account; disabling also ends its sessions."""
        self.account(name)
        self._db.table("accounts").update(name, {"disabled": int(disabled), "failed_logins": 0, "locked_until": None})
        if disabled:
            self._db.execute("DELETE FROM sessions WHERE account = ?", [name])
        self.audit(actor, "account.disable" if disabled else "account.enable", f"account:{name}")
        return self.account(name)

    def change_password(
        self, name: str, current: str, new: str, repeat: str, *, lockout_after: int, lockout_for: timedelta
    ) -> Session:
        """The account's own change: check the current password, the new one typed twice and its strength, end
        every session of the account and return a new one (a new id) for the browser that asked; raise
        WrongPassword or WeakPassword. Wrong current passwords count towards the lock-out like wrong log-ins."""
        row = self._account_row(name)
        if row is None:
            raise AccountNotFound(f"no account {name!r}")
        locked_until = _account(row).locked_until
        if locked_until is not None and locked_until > self._clock():
            raise WrongPassword("しばらくしてから、もう一度ためしてください。")
        if not verify_password(row["password_hash"], current):
            if self._count_failure(row, "password.change_failed", lockout_after, lockout_for):
                # Someone guessing through a live session: the lock ends that session too.
                self._db.execute("DELETE FROM sessions WHERE account = ?", [name])
            raise WrongPassword("いまのパスワードがちがいます。")
        if new != repeat:
            raise WeakPassword("確認のために入れたパスワードが、新しいパスワードとちがいます。")
        check_new_password(name, new)
        if new == current:
            raise WeakPassword("いまと同じパスワードは使えません。")
        self._set_password(name, new)
        self.audit(name, "password.change", f"account:{name}")
        return self._insert_session(name)

    def reset_password(self, name: str, new: str | None, *, actor: str) -> str:
        """An admin sets another account's password (a generated one when `new` is None) and ends its sessions;
        returns the password, for the admin to pass on. The audit log records the reset, never the password."""
        self.account(name)
        if new is None:
            new = generate_password()
        else:
            check_new_password(name, new)
        self._set_password(name, new)
        self.audit(actor, "password.reset", f"account:{name}")
        return new

    # Sessions

    def start_anonymous_session(self) -> Session:
        """A session for the log-in form: it has a CSRF token and no account."""
        return self._insert_session(None)

    def log_in(
        self, name: str, password: str, *, previous_session: str | None, lockout_after: int, lockout_for: timedelta
    ) -> Session:
        """Check the password and start a new session with a new id; raise LogInRefused.

        The previous (anonymous) session is ended whatever happens, so its id never becomes a logged-in one.
        """
        if previous_session:
            self.end_session(previous_session)
        now = self._clock()
        row = self._account_row(name.strip())
        if row is None:
            verify_password(dummy_hash(), password)
            # What was typed as a name may be a password typed into the wrong box: it is not recorded.
            self.audit("-", "login.unknown_account", "-")
            raise LogInRefused("名前かパスワードがちがいます。")
        account = _account(row)
        if account.locked_until is not None and account.locked_until > now:
            self.audit(account.name, "login.locked", f"account:{account.name}")
            raise LogInRefused("名前かパスワードがちがいます。しばらくしてから、もう一度ためしてください。")
        if not verify_password(row["password_hash"], password) or account.disabled:
            self._count_failure(row, "login.failed", lockout_after, lockout_for)
            raise LogInRefused("名前かパスワードがちがいます。")
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
        if needs_rehash(row["password_hash"]):
            values["password_hash"] = hash_password(password)
        self._db.table("accounts").update(account.name, values)
        self.audit(account.name, "login", f"account:{account.name}")
        return self._insert_session(account.name)

    def session(self, session_id: str, idle_timeout: timedelta) -> Session | None:
        """The live session with this id, touched now; None (and the row gone) when unknown or idle too long."""
        key = _session_hash(session_id)
        row = self._session_row(key)
        if row is None:
            return None
        now = self._clock()
        if now - datetime.fromisoformat(row["last_seen_at"]) > idle_timeout:
            self._db.table("sessions").delete(key)
            if row["account"]:
                self.audit(row["account"], "session.expired", f"account:{row['account']}")
            return None
        account: Account | None = None
        if row["account"]:
            account_row = self._account_row(row["account"])
            if account_row is None or account_row["disabled"]:
                self._db.table("sessions").delete(key)
                return None
            account = _account(account_row)
        self._db.table("sessions").update(key, {"last_seen_at": _stamp(now)})
        return Session(id=session_id, account=account, csrf_token=row["csrf_token"])

    def end_session(self, session_id: str) -> None:
        """Log out: the session's row is deleted, so its cookie is worth nothing from now on."""
        key = _session_hash(session_id)
        row = self._session_row(key)
        if row is None:
            return
        self._db.table("sessions").delete(key)
        if row["account"]:
            self.audit(row["account"], "logout", f"account:{row['account']}")

    def purge_sessions(self, idle_timeout: timedelta) -> int:
        """Delete sessions idle past the timeout; returns how many."""
        cutoff = _stamp(self._clock() - idle_timeout)
        cursor = self._db.execute("DELETE FROM sessions WHERE last_seen_at < ?", [cutoff])
        return cursor.rowcount

    # Audit log

    def audit(self, actor: str, action: str, target: str) -> None:
        """Record who did what to which target (a ticket or account id, never a text)."""
        self._db.table("audit").insert(
            {"at": _stamp(self._clock()), "actor": actor, "action": action, "target": target}
        )

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        """The newest entries first."""
        rows = self._db.table("audit").rows_where(order_by="id desc", limit=limit)
        return [AuditEntry(datetime.fromisoformat(r["at"]), r["actor"], r["action"], r["target"]) for r in rows]

    def _set_password(self, name: str, password: str) -> None:
        """A new hash, the failure count and lock cleared, and every session of the account ended."""
        values = {"password_hash": hash_password(password), "failed_logins": 0, "locked_until": None}
        self._db.table("accounts").update(name, values)
        self._db.execute("DELETE FROM sessions WHERE account = ?", [name])

    def _count_failure(self, row: dict[str, Any], action: str, lockout_after: int, lockout_for: timedelta) -> bool:
        """Count a wrong password against the account; lock it after `lockout_after` in a row. True when locked."""
        name = row["name"]
        failures = row["failed_logins"] + 1
        values: dict[str, Any] = {"failed_logins": failures}
        locked = failures >= lockout_after
        if locked:
            values = {"failed_logins": 0, "locked_until": _stamp(self._clock() + lockout_for)}
            self.audit(name, "account.lock", f"account:{name}")
        self._db.table("accounts").update(name, values)
        self.audit(name, action, f"account:{name}")
        return locked

    def _insert_session(self, account: str | None) -> Session:
        session_id = secrets.token_urlsafe(32)
        now = _stamp(self._clock())
        csrf_token = secrets.token_urlsafe(32)
        self._db.table("sessions").insert(
            {
                "id_hash": _session_hash(session_id),
                "account": account,
                "csrf_token": csrf_token,
                "created_at": now,
                "last_seen_at": now,
            }
        )
        return Session(id=session_id, account=self.account(account) if account else None, csrf_token=csrf_token)

    def _account_row(self, name: str) -> dict[str, Any] | None:
        try:
            return cast(dict[str, Any], self._db.table("accounts").get(name))
        except NotFoundError:
            return None

    def _session_row(self, key: str) -> dict[str, Any] | None:
        try:
            return cast(dict[str, Any], self._db.table("sessions").get(key))
        except NotFoundError:
            return None


class ConsoleStoreThread:
    """Runs the store's blocking calls (SQLite, Argon2) on one thread of their own, off the event loop."""

    def __init__(self, store: ConsoleStore) -> None:
        self._store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-store")
        self._closed = False

    @classmethod
    async def open(cls, path: Path, clock: Callable[[], datetime] = _now) -> ConsoleStoreThread:
        """Open the store on a worker thread."""
        store = await asyncio.get_running_loop().run_in_executor(None, ConsoleStore.open, path, clock)
        return cls(store)

    async def __call__(self, work: Callable[[ConsoleStore], T]) -> T:
        """Run one piece of work against the store, for example `await db(lambda s: s.accounts())`."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, self._store)

    async def close(self) -> None:
        """Let queued work finish, then close the file."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._executor, self._store.close)
        self._executor.shutdown(wait=True)


def _account(row: dict[str, Any]) -> Account:
    role = row["role"] if row["role"] in ROLES else "volunteer"
    return Account(
        name=row["name"],
        role=cast(Role, role),
        disabled=bool(row["disabled"]),
        locked_until=datetime.fromisoformat(row["locked_until"]) if row["locked_until"] else None,
        created_at=datetime.fromisoformat(row["created_at"]),
    )
