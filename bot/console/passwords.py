"""Console passwords: the rules a new one must meet, and Argon2id hashing (argon2-cffi)."""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
# Letters and digits that cannot be mistaken for one another when read aloud or copied from the screen.
GENERATED_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GENERATED_GROUPS = 4

# argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()


class WeakPassword(ValueError):
    """A new password that the console refuses; the text says how to choose a better one."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords refused whatever their length."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_new_password(name: str, password: str) -> None:
    """Raise WeakPassword when the password is too short, too long, common, or the account's name."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"パスワードは{MIN_LENGTH}文字以上にしてください。")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"パスワードは{MAX_LENGTH}文字以下にしてください。")
    folded = password.strip().lower()
    if folded in common_passwords() or folded == name.strip().lower() or len(set(folded)) < 4:
        raise WeakPassword("よく使われるパスワードは使えません。ほかの言葉を組み合わせてください。")


def generate_password() -> str:
    """A random password for an admin's reset, like `k7mq-x3vt-p9wa-h2rc` (about 80 bits), shown to them once."""
    groups = ("".join(secrets.choice(GENERATED_ALPHABET) for _ in range(4)) for _ in range(GENERATED_GROUPS))
    return "-".join(groups)


def hash_password(password: str) -> str:
    """An Argon2id hash with its own salt and parameters, for the accounts table."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether the password matches the stored hash; a damaged hash never matches."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


@cache
def dummy_hash() -> str:
    """Verified against when the account does not exist, so that a wrong name costs as long as a wrong password."""
    return _hasher.hash("not-an-account-password")
