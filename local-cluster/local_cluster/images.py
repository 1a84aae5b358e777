"""The image table: how the test node agent runs a container image as a local process.

The local cluster has no container runtime and no registry, so an image name only selects how a
container's command runs on this machine. The lookup key is the image's *repository*: the image
reference with its registry host (a first path part that holds a `.` or `:` or is `localhost`),
its Docker Hub `library/` namespace, its tag and its digest stripped, so `python`, `python:3.12`,
`docker.io/library/python:3.12-slim` and `python@sha256:...` all look up `python`.

| repository                   | PATH starts with | entry point (if the container has no `command`)|
|------------------------------|------------------|------------------------------------------------|
| `python`                     | virtualenv bin   | `python3` (the image's CMD)                    |
| `company-exports-exporter`   | virtualenv bin   | `python -m company_exporter` (its ENTRYPOINT)  |
| any other `company-exports*` | virtualenv bin   | none: the container must set `command`         |

"virtualenv bin" is the folder of the Python that runs the node agent (`sys.executable`), so
`python -c ...` in a `python` container and `python -m company_exporter` in an exporter container
use the project's interpreter and its installed packages. A `company-exports*` match is on the
repository's last path part (`registry.example/acme/company-exports-api` matches).

An image that is not in the table cannot be "pulled": the container stays Waiting with reason
`ErrImagePull`, then `ImagePullBackOff`, and the Pod stays Pending, as on a real node whose registry
does not have the image. To run another image locally, add a row here.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

_DOCKER_HUB_NAMESPACE = "library/"


@dataclass(frozen=True)
class LocalImage:
    """How one image runs locally: folders put first on PATH, and its ENTRYPOINT and CMD."""

    repository: str
    path_first: tuple[Path, ...]
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Row:
    repository: str
    name_prefix: bool  # True: matches any repository whose last path part starts with it
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()


# Exact rows before prefix rows: the first row that matches wins.
_TABLE = (
    _Row("python", name_prefix=False, cmd=("python3",)),
    _Row(
        "company-exports-exporter",
        name_prefix=False,
        entrypoint=("python", "-m", "company_exporter"),
    ),
    _Row("company-exports", name_prefix=True),
)


def repository_of(image: str) -> str:
    """The image's repository without registry host, `library/` namespace, tag or digest."""
    reference = image.split("@", 1)[0]
    parts = reference.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if ":" in parts[-1]:
        parts[-1] = parts[-1].split(":", 1)[0]
    repository = "/".join(parts)
    return repository.removeprefix(_DOCKER_HUB_NAMESPACE)


def find_local_image(image: str) -> LocalImage | None:
    """The table's entry for `image`, or None when the image cannot run locally."""
    repository = repository_of(image)
    name = repository.rsplit("/", 1)[-1]
    for row in _TABLE:
        matches = (
            name.startswith(row.repository) if row.name_prefix else repository == row.repository
        )
        if matches:
            return LocalImage(repository, (_virtualenv_bin(),), row.entrypoint, row.cmd)
    return None


def known_repositories() -> list[str]:
    """The table's keys, for error messages that say what would work."""
    return [row.repository + ("*" if row.name_prefix else "") for row in _TABLE]


def _virtualenv_bin() -> Path:
    # Not resolved: a virtualenv's python is a symlink to the base interpreter, and only the
    # virtualenv's own bin folder holds its scripts and makes its packages importable.
    return Path(sys.executable).parent
