"""Gzip parts: sizes S3 accepts, one valid gzip file when joined, a hash of exactly those bytes."""

import gzip
import hashlib
import os

import pytest

from company_exporter.compression import GzipParts

pytestmark = pytest.mark.unit

PART = 64 * 1024


def compress_all(chunks: list[bytes], level: int = 2) -> tuple[list[bytes], GzipParts]:
    gzip_parts = GzipParts(level, PART)
    parts = [part for chunk in chunks for part in gzip_parts.add(chunk)]
    parts += gzip_parts.finish()
    return parts, gzip_parts


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_parts_join_into_the_input(level: int) -> None:
    # Random bytes do not compress: many parts; lines of text do: few.
    chunks = [os.urandom(50_000) for _ in range(10)] + [b'{"id": 1}\n' * 20_000]

    parts, gzip_parts = compress_all(chunks, level)

    whole = b"".join(parts)
    assert gzip.decompress(whole) == b"".join(chunks)
    assert all(len(part) == PART for part in parts[:-1])
    assert 0 < len(parts[-1]) <= PART
    assert gzip_parts.bytes_out == len(whole)
    assert gzip_parts.sha256 == hashlib.sha256(whole).hexdigest()


def test_no_input_is_a_valid_empty_gzip() -> None:
    parts, _ = compress_all([])

    assert len(parts) == 1
    assert gzip.decompress(parts[0]) == b""


def test_the_output_is_one_gzip_member_with_a_standard_header() -> None:
    parts, _ = compress_all([b"hello\n"])

    assert parts[0][:3] == b"\x1f\x8b\x08"  # gzip magic, deflate
