"""Builds the product's two images from the root Dockerfile, without a Docker engine.

`build_images(repo_root, log)` returns `company-exports` (target `app`) and
`company-exports-exporter` (target `exporter`) as references in buildah's local storage. The
choices, and why:

- **buildah, not Docker.** Our machines have no Docker engine and reach no public image registry;
  buildah builds a Dockerfile as a plain process. The same Dockerfile builds with `docker build`
  wherever Docker exists, so what we test is what users build.
- **A base made from Debian's packages.** The Dockerfile's default base (`python:...-slim`) lives
  on a registry we cannot reach, so `mmdebstrap --variant=minbase` makes a root filesystem with
  `python3`, `python3-venv` (the Dockerfile runs `python3 -m venv`) and `ca-certificates` (pip in
  the build talks TLS), from the host's own apt sources file: no mirror is named in our code.
  Documentation, manual pages and translations are left out (copyright files stay). buildah
  imports the tar as `localhost/company-exports-base:<hash of the recipe>`; a changed recipe or
  sources file makes a new base, an unchanged one is reused.
- **`--storage-driver overlay`**: half the disk of `vfs`, and the driver every caller must agree
  on, so it is named on every buildah command rather than left to a configuration file.
- **`--isolation chroot`**: `RUN` steps share the host's network (pip reaches the package index)
  and nothing is set up on the machine; `--isolation oci` would create podman's CNI bridge and
  switch `ip_forward` on for the whole machine.
- **`--pull-never`**: the base is local; a build must never try a registry.
- **The host's certificate bundle as a build secret** (`ca-certificates`): pip in the build
  trusts what pip on this machine trusts (`PIP_CERT`, `SSL_CERT_FILE` or the system bundle), so a
  network whose TLS proxy has its own authority works; a secret is mounted for a `RUN` step only
  and never lands in a layer.
- **`--layers`**: the wheel stage is shared by both targets, so the second target reuses it;
  **`--force-rm`**: a failed step leaves no working container behind.
- **Tags are content hashes** (`<version>-<12 hex>`) of what goes into an image: the Dockerfile,
  `pyproject.toml`, `README.md` (the wheel's description), every file of the package folders the
  `.dockerignore` lets through, the target and the base's image id. When buildah's storage holds
  that tag already, nothing is built: a second run costs a second or two.
- **A lock** (`flock` on `images.lock` in the cache folder, `$COMPANY_EXPORTS_CACHE` or
  `~/.cache/company-exports`) serialises builds, so two test sessions never build into the same
  storage at once; the second one then finds the first one's images.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUILDAH = ("buildah", "--storage-driver", "overlay")
BASE_REPOSITORY = "localhost/company-exports-base"
SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# Left out of the base: documentation, manual pages, translations (licences stay).
BASE_DPKG_OPTIONS = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/info/*",
)
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Where a Debian host keeps its apt sources, newest format first.
APT_SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
# The image name and the Dockerfile target that builds it.
IMAGES = (("company-exports", "app"), ("company-exports-exporter", "exporter"))
# The Pod sandbox image the node's containerd runs for every Pod.
PAUSE_IMAGE = "company-exports-pause"
# The files of the build context besides the package folders (see .dockerignore).
CONTEXT_FILES = ("Dockerfile", "pyproject.toml", "README.md", ".dockerignore")


@dataclass(frozen=True)
class BuiltImage:
    """One image in buildah's storage."""

    name: str  # "company-exports" or "company-exports-exporter"
    tag: str  # version + content hash of the image's inputs, e.g. "0.1.0-3f9a1c2b7d4e"
    local_ref: str  # e.g. "localhost/company-exports:0.1.0-3f9a1c2b7d4e"
    size_bytes: int


class ImageBuildError(RuntimeError):
    """A build step failed; the message holds the command and the end of its output."""


def cache_dir() -> Path:
    """The cache folder shared with the binaries' build (`$COMPANY_EXPORTS_CACHE`)."""
    configured = os.environ.get("COMPANY_EXPORTS_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "company-exports"


def build_images(repo_root: Path, log: Callable[[str], None]) -> list[BuiltImage]:
    """Builds (or finds, by content hash) the base and both images; returns the images."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / "images.lock", log):
        base_ref = _ensure_base(cache, log)
        base_id = _image_id(base_ref)
        version = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["version"]
        inputs = _context_digest(repo_root)
        built = []
        for name, target in IMAGES:
            digest = hashlib.sha256(f"{inputs}\n{target}\n{base_id}".encode()).hexdigest()[:12]
            tag = f"{version}-{digest}"
            ref = f"localhost/{name}:{tag}"
            if _image_exists(ref):
                log(f"[images] {ref}: up to date")
            else:
                log(f"[images] building {ref} (target {target}) on {base_ref}")
                started = time.monotonic()
                _run(
                    [*BUILDAH, "bud", "--isolation", "chroot", "--pull-never", "--layers",
                     "--force-rm", "--build-arg", f"BASE_IMAGE={base_ref}", "--target", target,
                     "--secret", f"id=ca-certificates,src={_host_certificates()}",
                     "-f", str(repo_root / "Dockerfile"), "-t", ref, str(repo_root)],
                )  # fmt: skip
                log(f"[images] built {ref} in {time.monotonic() - started:.1f} s")
            image = BuiltImage(name, tag, ref, _image_size(ref))
            log(f"[images] {ref}: {image.size_bytes / 2**20:.1f} MiB")
            built.append(image)
        return built


def image_config(ref: str) -> dict[str, object]:
    """The image's OCI config (User, Env, Entrypoint, Cmd, WorkingDir, ...)."""
    config: dict[str, object] = _inspected(ref)["OCIv1"]["config"]
    return config


@contextmanager
def mounted_root(ref: str) -> Iterator[Path]:
    """The image's files, read from a working container of buildah's (removed afterwards)."""
    container = _run([*BUILDAH, "from", "--pull-never", ref]).strip()
    try:
        yield Path(_run([*BUILDAH, "mount", container]).strip())
    finally:
        _run([*BUILDAH, "rm", container])


def build_pause_image(pause: Path, log: Callable[[str], None]) -> BuiltImage:
    """The Pod sandbox image: Kubernetes' static pause program alone, run as nobody (65535).

    Tagged by the program's hash, so an unchanged program is found, not rebuilt.
    """
    tag = hashlib.sha256(pause.read_bytes()).hexdigest()[:12]
    ref = f"localhost/{PAUSE_IMAGE}:{tag}"
    with _locked(cache_dir() / "images.lock", log):
        if not _image_exists(ref):
            _commit_from_scratch(
                ref, ("copy", "--chmod", "0755"), pause, "/pause",
                ("--entrypoint", '["/pause"]', "--cmd", "", "--user", "65535:65535"),
            )  # fmt: skip
            log(f"[images] built {ref}")
    return BuiltImage(PAUSE_IMAGE, tag, ref, _image_size(ref))


def base_recipe() -> dict[str, object]:
    """What makes the base: its hash names the base image, so any change makes a new one."""
    sources = _apt_sources()
    return {
        "suite": SUITE,
        "variant": "minbase",
        "packages": list(BASE_PACKAGES),
        "dpkg_options": list(BASE_DPKG_OPTIONS),
        "path": BASE_PATH,
        "sources": sources.read_text(),
    }


def _ensure_base(cache: Path, log: Callable[[str], None]) -> str:
    recipe = base_recipe()
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    ref = f"{BASE_REPOSITORY}:{digest}"
    if _image_exists(ref):
        log(f"[images] base {ref}: up to date")
        return ref
    log(f"[images] building the base {ref} from Debian's packages (mmdebstrap, about a minute)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="base-", dir=cache) as scratch:
        rootfs = Path(scratch) / "rootfs.tar"
        _run(
            ["mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
             *(f"--dpkgopt={option}" for option in BASE_DPKG_OPTIONS),
             SUITE, str(rootfs), str(_apt_sources())],
        )  # fmt: skip
        _commit_from_scratch(
            ref, ("add",), rootfs, "/",
            ("--env", f"PATH={BASE_PATH}", "--env", "LANG=C.UTF-8", "--cmd", "python3",
             "--label", f"company-exports.base-recipe={digest}"),
        )  # fmt: skip
    log(f"[images] built the base {ref} in {time.monotonic() - started:.1f} s")
    return ref


def _commit_from_scratch(
    ref: str, put: tuple[str, ...], source: Path, destination: str, settings: tuple[str, ...]
) -> None:
    """An image of one layer: `source` put (`buildah add` or `copy` with options) at
    `destination` of an empty container, `buildah config` with `settings`, committed as `ref`.
    On any failure the working container is removed."""
    container = _run([*BUILDAH, "from", "scratch"]).strip()
    try:
        _run([*BUILDAH, *put, container, str(source), destination])
        _run([*BUILDAH, "config", *settings, container])
        _run([*BUILDAH, "commit", "--rm", container, ref])
    except BaseException:
        subprocess.run([*BUILDAH, "rm", container], capture_output=True, check=False)
        raise


def _host_certificates() -> Path:
    """The bundle this machine's pip trusts (PIP_CERT, SSL_CERT_FILE, or the system's)."""
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), SYSTEM_CA):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ImageBuildError(f"no certificate bundle for pip (PIP_CERT, SSL_CERT_FILE, {SYSTEM_CA})")


def _apt_sources() -> Path:
    for path in APT_SOURCES:
        if path.is_file():
            return path
    raise ImageBuildError(f"no apt sources file ({', '.join(map(str, APT_SOURCES))})")


def _context_digest(repo_root: Path) -> str:
    """A hash of every file the build context admits (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(_context_files(repo_root)):
        digest.update(str(path.relative_to(repo_root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _context_files(repo_root: Path) -> Iterator[Path]:
    """The files .dockerignore lets through: its `!folder/` lines, without bytecode."""
    yield from (repo_root / name for name in CONTEXT_FILES)
    for line in (repo_root / ".dockerignore").read_text().splitlines():
        if not line.startswith("!") or not line.endswith("/"):
            continue
        for path in (repo_root / line[1:]).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield path


@contextmanager
def _locked(path: Path, log: Callable[[str], None]) -> Iterator[None]:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"[images] waiting for another build to finish (lock {path})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _image_exists(ref: str) -> bool:
    return (
        subprocess.run(
            [*BUILDAH, "inspect", "--type", "image", ref], capture_output=True, check=False
        ).returncode
        == 0
    )


def _image_id(ref: str) -> str:
    return str(_inspected(ref)["FromImageID"])


def _image_size(ref: str) -> int:
    """The sum of the image's layers, uncompressed (what a node unpacks), from its manifest."""
    manifest = json.loads(_inspected(ref)["Manifest"])
    return sum(int(layer["size"]) for layer in manifest["layers"])


def _inspected(ref: str) -> dict[str, Any]:
    """What `buildah inspect` says of the image."""
    inspected: dict[str, Any] = json.loads(_run([*BUILDAH, "inspect", "--type", "image", ref]))
    return inspected


def _run(command: list[str]) -> str:
    """Runs a build step; its output is returned, or shown (last 60 lines) when it fails."""
    if shutil.which(command[0]) is None:
        raise ImageBuildError(f"{command[0]} is missing: `make system-deps` installs it")
    process = subprocess.run(command, capture_output=True, text=True, check=False)
    if process.returncode != 0:
        tail = "\n".join((process.stdout + process.stderr).splitlines()[-60:])
        raise ImageBuildError(f"{' '.join(command)} failed ({process.returncode}):\n{tail}")
    return process.stdout
