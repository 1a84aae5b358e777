"""Fixtures of the image tests: the two images built from the root Dockerfile, and a containerd
of this session that runs them.

- `images`: `build_images` (buildah; cached by content hash, so a second session takes seconds).
- `containerd`: Debian's containerd with its own config, root, state and socket in a temporary
  folder, the images imported into its namespace. It runs in a mount namespace of its own with a
  tmpfs on /run: containerd 1.6 puts its shims' sockets and runc's state under /run/containerd
  whatever its config says, and nothing of this session may touch the machine's. The CRI plugin
  is off (no TCP listener at all); `ctr` reaches containerd on the unix socket only. At the end
  its containers are removed, containerd stops, and with the last process of the namespace every
  mount it made is gone; the cgroups `ctr run` created are removed.
"""

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from local_cluster.image_build import BUILDAH, BuiltImage, build_images
from local_cluster.process import pids_in_mount_namespace

ROOT = Path(__file__).parents[2]
NAMESPACE = "company-exports-image-tests"
log = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def images(figures: list[str]) -> dict[str, BuiltImage]:
    started = time.monotonic()
    built = build_images(ROOT, log.info)
    figures.append(f"images built or found in {time.monotonic() - started:.1f} s")
    for image in built:
        figures.append(f"{image.local_ref}: {image.size_bytes / 2**20:.1f} MiB")
    return {image.name: image for image in built}


@pytest.fixture(scope="session")
def app_image(images: dict[str, BuiltImage]) -> BuiltImage:
    return images["company-exports"]


@pytest.fixture(scope="session")
def exporter_image(images: dict[str, BuiltImage]) -> BuiltImage:
    return images["company-exports-exporter"]


def buildah(*args: str) -> str:
    return subprocess.run(
        [*BUILDAH, *args], check=True, capture_output=True, text=True, timeout=120
    ).stdout


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Containerd:
    folder: Path
    socket: Path
    process: "subprocess.Popen[bytes]"
    mount_namespace: str

    def ctr(self, *args: str, timeout: float = 120) -> str:
        return subprocess.run(
            self.ctr_command(*args), check=True, capture_output=True, text=True, timeout=timeout
        ).stdout

    def ctr_command(self, *args: str) -> list[str]:
        return ["ctr", "--address", str(self.socket), "--namespace", NAMESPACE, *args]

    def import_image(self, image: BuiltImage) -> None:
        archive = self.folder / f"{image.name}.tar"
        buildah("push", image.local_ref, f"docker-archive:{archive}:{image.local_ref}")
        self.ctr("images", "import", str(archive), timeout=300)
        archive.unlink()

    def run_command(
        self,
        image: BuiltImage,
        command: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        mounts: Sequence[tuple[Path, str, str]] = (),  # (source, destination, "ro" or "rw")
    ) -> tuple[str, list[str]]:
        """`ctr run` as the chart runs a container: read-only root, the RuntimeDefault seccomp
        profile, host network. The user is the image's own USER (ctr 1.6 has no --user flag, and
        the image's is the one to test)."""
        container_id = f"test-{uuid.uuid4().hex[:12]}"
        flags = ["--rm", "--read-only", "--seccomp", "--net-host"]
        flags += ["--fifo-dir", str(self.folder / "fifo")]
        for name, value in (env or {}).items():
            flags += ["--env", f"{name}={value}"]
        for source, destination, mode in mounts:
            flags += ["--mount", f"type=bind,src={source},dst={destination},options=rbind:{mode}"]
        return container_id, self.ctr_command(
            "run", *flags, image.local_ref, container_id, *command
        )

    def run(
        self,
        image: BuiltImage,
        command: Sequence[str] = (),
        *,
        timeout: float = 120,
        **options: object,
    ) -> Run:
        """Runs a container to its end; its exit code and output."""
        _, argv = self.run_command(image, command, **options)  # type: ignore[arg-type]
        process = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return Run(process.returncode, process.stdout, process.stderr)

    def tcp_listeners(self) -> list[str]:
        """Addresses containerd listens on over TCP (IPv4 and IPv6), as hex from /proc/net."""
        inodes = set()
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            target = str(fd.readlink())
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        listening = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    listening.append(fields[1])
        return listening

    def stop(self) -> None:
        for task in self._list("tasks", "ls"):
            subprocess.run(self.ctr_command("tasks", "kill", "-s", "SIGKILL", task), check=False)
        deadline = time.monotonic() + 15
        while self._list("tasks", "ls") and time.monotonic() < deadline:
            for task in self._list("tasks", "ls"):
                subprocess.run(self.ctr_command("tasks", "delete", task), check=False)
            time.sleep(0.2)
        for container in self._list("containers", "ls"):
            subprocess.run(self.ctr_command("containers", "delete", container), check=False)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        # Shims left behind share containerd's mount namespace: nothing else of ours does.
        for pid in pids_in_mount_namespace(self.mount_namespace):
            os.kill(pid, signal.SIGKILL)
        _remove_cgroups(NAMESPACE)

    def _list(self, *args: str) -> list[str]:
        process = subprocess.run(
            self.ctr_command(*args, "-q"), capture_output=True, text=True, check=False
        )
        return process.stdout.split() if process.returncode == 0 else []


def _remove_cgroups(namespace: str) -> None:
    """`ctr run` puts each container under /<namespace>/<id> of every cgroup v1 hierarchy."""
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        folder = hierarchy / namespace
        if folder.is_dir():
            for child in sorted(folder.glob("*/"), reverse=True):
                with suppress(OSError):
                    child.rmdir()
            with suppress(OSError):
                folder.rmdir()


CONFIG = """version = 2
root = "{folder}/root"
state = "{folder}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{folder}/opt"
"""


@pytest.fixture(scope="session")
def containerd(app_image: BuiltImage, exporter_image: BuiltImage) -> Iterator[Containerd]:
    folder = Path(tempfile.mkdtemp(prefix="ctrd-"))  # short: a unix socket path has 108 bytes
    socket = folder / "containerd.sock"
    (folder / "fifo").mkdir()
    config = folder / "config.toml"
    config.write_text(CONFIG.format(folder=folder, socket=socket))
    with (folder / "containerd.log").open("wb") as log_file:
        process = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
             'mount -t tmpfs -o mode=0711 containerd-run /run && exec containerd --config "$0"',
             str(config)],
            stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    daemon = None
    try:
        deadline = time.monotonic() + 30
        while not socket.exists():
            assert process.poll() is None, (folder / "containerd.log").read_text()
            assert time.monotonic() < deadline, "containerd did not open its socket in 30 s"
            time.sleep(0.1)
        namespace = str(Path(f"/proc/{process.pid}/ns/mnt").readlink())
        assert namespace != str(Path("/proc/self/ns/mnt").readlink())
        daemon = Containerd(folder, socket, process, namespace)
        daemon.ctr("version")
        for image in (app_image, exporter_image):
            daemon.import_image(image)
        yield daemon
    finally:
        if daemon is not None:
            daemon.stop()
        elif process.poll() is None:
            process.kill()
            process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
