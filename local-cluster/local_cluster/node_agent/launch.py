"""From a container's spec to the command line, environment and files of its local process."""

import os
from dataclasses import dataclass
from pathlib import Path

from local_cluster.images import LocalImage, find_local_image, known_repositories
from local_cluster.node_agent.environment import (
    ConfigSource,
    ContainerConfigError,
    HostPaths,
    NodeCapacity,
    expand_references,
    host_paths,
    resolve_environment,
    temporary_folder,
)
from local_cluster.node_agent.manifest import Container, Pod

TERMINATION_MESSAGE_LIMIT = 4096  # bytes, as the kubelet
FALLBACK_LOG_LINES = 80  # FallbackToLogsOnError: the kubelet's tail of the log
FALLBACK_LOG_BYTES = 2048


class StartBlockedError(Exception):
    """The container cannot start yet; `reason` and the message become its Waiting state."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ContainerFiles:
    """Per container, in the pod's folder: output log, termination message, process record."""

    log: Path
    termination_message: Path
    process_record: Path

    @classmethod
    def of(cls, pod_folder: Path, container: str) -> "ContainerFiles":
        return cls(
            log=pod_folder / f"{container}.log",
            termination_message=pod_folder / f"{container}.termination-log",
            process_record=pod_folder / f"{container}.process.json",
        )


@dataclass(frozen=True)
class LaunchPlan:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    files: ContainerFiles
    termination_message_policy: str


def local_image(image: str) -> LocalImage:
    """The image table's entry, or StartBlockedError(ErrImagePull) naming what the table knows."""
    found = find_local_image(image)
    if found is None:
        raise StartBlockedError(
            "ErrImagePull",
            f'image "{image}" is not in the local image table (local_cluster/images.py; it knows '
            f"{', '.join(known_repositories())}): add a row there or use a known image",
        )
    return found


def plan_container(
    pod: Pod,
    container: Container,
    pod_folder: Path,
    volume_folders: dict[str, Path],
    source: ConfigSource,
    capacity: NodeCapacity,
    kubeconfig: Path | None,
) -> LaunchPlan:
    """Everything needed to start the container; StartBlockedError when it cannot start yet."""
    image = local_image(container.image)
    files = ContainerFiles.of(pod_folder, container.name)
    paths = host_paths(container, volume_folders, files.termination_message)
    try:
        resolved = resolve_environment(pod, container, source, capacity)
    except ContainerConfigError as error:
        raise StartBlockedError("CreateContainerConfigError", str(error)) from error
    env = {name: paths.translate(value) for name, value in resolved.items()}
    argv = command_line(container, image, env, paths)
    if not argv:
        raise StartBlockedError(
            "CreateContainerError",
            f'image "{container.image}" has no entry point in the local image table: '
            "set the container's command",
        )
    return LaunchPlan(
        argv=argv,
        env=process_environment(image, pod, env, kubeconfig, paths, pod_folder),
        cwd=working_directory(container, paths, pod_folder),
        files=files,
        termination_message_policy=container.termination_message_policy,
    )


def command_line(
    container: Container, image: LocalImage, env: dict[str, str], paths: HostPaths
) -> list[str]:
    """Docker's rules: `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD."""
    if container.command:
        words = [*container.command, *container.args]
    else:
        words = [*image.entrypoint, *(container.args or image.cmd)]
    return [paths.translate(expand_references(word, env)) for word in words]


def process_environment(
    image: LocalImage,
    pod: Pod,
    env: dict[str, str],
    kubeconfig: Path | None,
    paths: HostPaths,
    pod_folder: Path,
) -> dict[str, str]:
    """A clean environment (nothing of the agent's leaks in) plus what the image and pod set."""
    host_path = os.environ.get("PATH", os.defpath)
    base = {
        "PATH": os.pathsep.join([*(str(folder) for folder in image.path_first), host_path]),
        "HOME": str(pod_folder),
        "HOSTNAME": pod.metadata.name,
    }
    tmp = temporary_folder(paths)
    if tmp is not None:
        base["TMPDIR"] = str(tmp)
    if kubeconfig is not None:
        base["KUBECONFIG"] = str(kubeconfig)
    return {**base, **env}


def working_directory(container: Container, paths: HostPaths, pod_folder: Path) -> Path:
    """The translated workingDir when it exists on the host, else the pod's folder."""
    if container.working_dir:
        folder = Path(paths.translate(container.working_dir))
        if folder.is_dir():
            return folder
    return pod_folder


def termination_message(files: ContainerFiles, policy: str, exit_code: int) -> str | None:
    """The container's termination message: its file, else (if asked) the tail of its log."""
    try:
        with files.termination_message.open("rb") as file:
            message = file.read(TERMINATION_MESSAGE_LIMIT).decode("utf-8", errors="replace")
    except FileNotFoundError:
        message = ""
    if not message and policy == "FallbackToLogsOnError" and exit_code != 0:
        message = _log_tail(files.log)
    return message or None


def _log_tail(log: Path) -> str:
    try:
        with log.open("rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - FALLBACK_LOG_BYTES))
            tail = file.read()
    except FileNotFoundError:
        return ""
    lines = tail.decode("utf-8", errors="replace").splitlines()[-FALLBACK_LOG_LINES:]
    return "\n".join(lines)
