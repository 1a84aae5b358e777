import hashlib

import pytest

from export_api.keys import generate_key, hash_secret, parse_key, secret_matches

pytestmark = pytest.mark.unit


def test_a_generated_key_parses_back_and_matches_its_hash() -> None:
    key = generate_key()
    assert key.token.startswith(f"cexp_{key.prefix}_")
    assert len(key.secret) >= 32
    parsed = parse_key(key.token)
    assert parsed == key
    assert secret_matches(parsed, hashlib.sha256(key.secret.encode()).digest())


def test_keys_are_random() -> None:
    assert len({generate_key().token for _ in range(50)}) == 50


def test_a_wrong_secret_or_a_missing_row_does_not_match() -> None:
    key = generate_key()
    other = generate_key()
    assert not secret_matches(key, hash_secret(other.secret))
    assert not secret_matches(key, None)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "cexp",
        "cexp__",
        "sk_live_abc",
        "cexp_ABCDEF12_" + "a" * 43,
        "cexp_abcdef12_" + "a" * 42,
        "cexp_abcdef12_" + "a" * 42 + "!",
        " cexp_abcdef12_" + "a" * 43,
    ],
)
def test_tokens_that_cannot_be_our_keys_are_refused(token: str) -> None:
    assert parse_key(token) is None
