"""Gzip parts: sizes S3 accepts, one valid gzip member when joined, a hash of exactly those bytes.

Slices are deflated apart and joined (as reader threads do); the result must read back whole
with every kind of gzip reader, including those that stop after the first member.
"""

import gzip
import hashlib
import os
import subprocess
import zlib

import pytest

from company_exporter.compression import (
    MIN_PART_BYTES,
    GzipParts,
    ShardParts,
    SliceDeflater,
    combined_crc32,
    gzip_ending,
)

pytestmark = pytest.mark.unit

PART = 64 * 1024


def deflated_into(
    parts_of: GzipParts | ShardParts, slices: list[list[bytes]], level: int = 2
) -> list[bytes]:
    """The parts of `slices` deflated apart (as reader threads do) and joined into `parts_of`."""
    parts = []
    for chunks in slices:
        deflater = SliceDeflater(level)
        for chunk in chunks:
            parts += parts_of.add(deflater.add(chunk))
        parts += parts_of.add(deflater.finish())
        parts_of.end_slice(deflater.crc32, deflater.length)
    return parts + parts_of.finish()


def compress_slices(slices: list[list[bytes]], level: int = 2) -> tuple[list[bytes], GzipParts]:
    gzip_parts = GzipParts(level, PART)
    return deflated_into(gzip_parts, slices, level), gzip_parts


def readers_agree(whole: bytes) -> bytes:
    """What gzip reads back, after checking zlib (one member only) and gzip -t read the same."""
    data = gzip.decompress(whole)
    assert zlib.decompress(whole, wbits=31) == data  # stops after the first member
    subprocess.run(["gzip", "-t"], input=whole, check=True)
    return data


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_slices_join_into_the_input(level: int) -> None:
    # Random bytes do not compress: many parts; lines of text do: few.
    slices = [
        [os.urandom(50_000) for _ in range(5)],
        [b'{"id": 1}\n' * 20_000],
        [],  # a slice without rows
        [os.urandom(50_000) for _ in range(5)] + [b'{"id": 2}\n' * 5_000],
    ]

    parts, gzip_parts = compress_slices(slices, level)

    whole = b"".join(parts)
    assert readers_agree(whole) == b"".join(chunk for chunks in slices for chunk in chunks)
    assert all(len(part) == PART for part in parts[:-1])
    assert 0 < len(parts[-1]) <= PART
    assert gzip_parts.bytes_out == len(whole)
    assert gzip_parts.sha256 == hashlib.sha256(whole).hexdigest()


def test_no_input_is_a_valid_empty_gzip() -> None:
    parts, _ = compress_slices([])

    assert len(parts) == 1
    assert readers_agree(parts[0]) == b""


def test_the_trailer_holds_the_crc_and_length_of_all_slices() -> None:
    slices = [[b"hello\n"], [b"world\n" * 1000], [b"again\n"]]
    data = b"".join(chunk for chunks in slices for chunk in chunks)

    whole = b"".join(compress_slices(slices)[0])

    assert whole[:3] == b"\x1f\x8b\x08"  # gzip magic, deflate
    assert int.from_bytes(whole[-8:-4], "little") == zlib.crc32(data)
    assert int.from_bytes(whole[-4:], "little") == len(data)


def test_an_ending_that_crosses_a_part_boundary_is_handed_out_whole() -> None:
    # Pending output a few bytes short of, at, and past a part when the ending (final block and
    # trailer, 10 bytes at level 2) is added: every byte must reach a part, in order.
    data = os.urandom(4096)
    deflater = SliceDeflater(2)
    deflated = deflater.add(data) + deflater.finish()
    before_ending = 10 + len(deflated)  # the gzip header, then the slice
    for part_bytes in range(before_ending - 12, before_ending + 3):
        gzip_parts = GzipParts(2, part_bytes)
        parts = gzip_parts.add(deflated)
        gzip_parts.end_slice(deflater.crc32, deflater.length)
        parts += gzip_parts.finish()
        assert all(len(part) == part_bytes for part in parts[:-1]), part_bytes
        assert readers_agree(b"".join(parts)) == data, part_bytes
        assert gzip_parts.bytes_out == len(b"".join(parts))


@pytest.mark.parametrize(
    "bytes_per_shard",
    [
        [12 * 2**20, 14 * 2**20, 100_000],  # past a part and the minimum: several parts, no padding
        [10, 0, 300_000, 3],  # short and empty shards: padded to the minimum, or no parts at all
    ],
)
def test_shards_join_into_one_gzip_file_with_every_part_but_the_last_big_enough(
    bytes_per_shard: list[int],
) -> None:
    # Hex of random bytes: about 2:1 in deflate, so shards' outputs keep their relative sizes.
    runs = [
        [[os.urandom(size // 4).hex().encode(), b"\n" * (size % 2)]] if size else []
        for size in bytes_per_shard
    ]
    all_parts: list[bytes] = []
    pieces = []
    for index, run in enumerate(runs):
        shard = ShardParts(PART, first=index == 0)
        parts = deflated_into(shard, run)
        all_parts += parts
        pieces.append(shard.crc32_and_length)
        # Parts of later shards and the ending follow: S3 takes no short part here.
        assert all(len(part) >= MIN_PART_BYTES for part in parts)
        assert (parts == []) == (index > 0 and not run)
        if shard.bytes_out > MIN_PART_BYTES + PART:
            assert len(parts) > 1
    ending = gzip_ending(2, *combined_crc32(pieces))
    whole = b"".join([*all_parts, ending])
    assert readers_agree(whole) == b"".join(b"".join(chunks) for run in runs for chunks in run)
