"""An image's program run in the image's own files, as its container runs it, without a container
runtime: for the tests and benchmarks that start a program many times, where what they time or
check is the program, not the runtime around it.

`image_program(ref)` mounts the image's files (a working container of buildah's, removed at the
end) and reads its config. `ImageProgram.command(...)` is a command line that enters a mount
namespace of its own (private: nothing mounted there reaches the machine), mounts /proc (the
program reads its own memory figures there, as in a Pod) and the folders bound in, then `chroot`s
into the image's files as the image's user and runs its entry point with the environment given
(the image's `env` and the run's own). Each step execs the next, so the process started is the
program's from start to end: a signal sent to it reaches the program. It shares the machine's
network: the servers the tests start listen on loopback. Needs root.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from local_cluster.image_build import build_images, image_config, mounted_root

# Run by the machine's sh inside the new mount namespace: $1 the image's files, $2 the user, then
# pairs of (folder, path in the image) up to "--", then the program and its arguments.
_ENTER = """
root=$1 user=$2
shift 2
mount -t proc proc "$root/proc"
while [ "$1" != -- ]; do mkdir -p "$root$2"; mount --bind "$1" "$root$2"; shift 2; done
shift
exec chroot --userspec="$user" "$root" "$@"
"""


@dataclass(frozen=True)
class ImageProgram:
    """An image's files, mounted, and what its config says to run there."""

    root: Path
    user: str  # the image's USER, "uid:gid"
    env: dict[str, str]  # the image's ENV
    entrypoint: list[str]

    def command(
        self, args: Sequence[str] = (), binds: Sequence[tuple[Path, str]] = ()
    ) -> list[str]:
        """The entry point with `args`; `binds` shows folders of the machine in the image's files
        (the folder, and its absolute path in the image)."""
        bound = [part for folder, inside in binds for part in (str(folder), inside)]
        return [
            "unshare", "--mount", "--propagation", "private", "sh", "-ec", _ENTER, "sh",
            str(self.root), self.user, *bound, "--", *self.entrypoint, *args,
        ]  # fmt: skip


@contextmanager
def image_program(ref: str) -> Iterator[ImageProgram]:
    """The image's program, its files mounted for the duration."""
    config = image_config(ref)
    env = dict(item.split("=", 1) for item in _strings(config.get("Env")))
    with mounted_root(ref) as root:
        yield ImageProgram(root, str(config["User"]), env, _strings(config.get("Entrypoint")))


@contextmanager
def shipped_program(
    repo_root: Path, name: str, log: Callable[[str], None]
) -> Iterator[ImageProgram]:
    """The program of our image `name` ("company-exports" or "company-exports-exporter"),
    built from `repo_root`'s Dockerfile or found by its content hash."""
    (image,) = (each for each in build_images(repo_root, log) if each.name == name)
    with image_program(image.local_ref) as program:
        yield program


def _strings(value: object) -> list[str]:
    if value is None:  # no ENTRYPOINT: the command names the program
        return []
    if not isinstance(value, list):
        raise TypeError(f"expected a list in the image's config, got {value!r}")
    return [str(item) for item in value]
