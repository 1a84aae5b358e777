"""A container's environment, resolved as a kubelet would, and its paths translated to the host's.

Resolution follows the kubelet: `envFrom` sources first, in order (each key with the source's
prefix), then `env`, in order, later names replacing earlier ones. A literal `value` expands
`$(NAME)` from the names defined before it (`$$` is a literal `$`; unknown references stay as they
are). `valueFrom` reads a Secret key, a ConfigMap key, a field of the Pod (`fieldRef`) or a
container resource (`resourceFieldRef`, unset limits falling back to the node's capacity).
A Secret, ConfigMap or key that does not exist and is not `optional` raises `ContainerConfigError`;
the agent shows it as `CreateContainerConfigError` and tries again later.

Path translation: a local process sees the host's filesystem, not the container's, so a value
that is the container's `terminationMessagePath`, or is (or lies under) a `volumeMount`'s
`mountPath` whose volume the agent backs with a folder, is rewritten to the host path behind it.
The rule applies to env values, `command`, `args` and `workingDir`; nothing else in a value changes.
"""

import base64
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Protocol

from kubernetes.utils.quantity import parse_quantity

from local_cluster.node_agent.manifest import Container, EnvVar, KeySelector, Pod

POD_IP = "127.0.0.1"
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_ANNOTATED_FIELD = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


class ContainerConfigError(Exception):
    """A Secret, ConfigMap, key or service account the container needs is missing."""


class ConfigSource(Protocol):
    """Reads Secrets and ConfigMaps; None when the object does not exist."""

    def secret(self, namespace: str, name: str) -> Mapping[str, str] | None: ...

    def config_map(self, namespace: str, name: str) -> Mapping[str, str] | None: ...


@dataclass(frozen=True)
class NodeCapacity:
    """What `resourceFieldRef` falls back to for limits the container does not set."""

    cpu: str
    memory: str
    ephemeral_storage: str


@dataclass(frozen=True)
class HostPaths:
    """Container paths the agent backs with host paths: mounted volumes and the termination file."""

    mounts: Mapping[str, Path]  # mountPath -> host folder
    termination_message_path: str
    termination_message_file: Path

    def translate(self, value: str) -> str:
        """`value` with a container path it starts with replaced by the host path behind it."""
        if value == self.termination_message_path:
            return str(self.termination_message_file)
        # Longest mount first, so a mount nested in another mount wins.
        for mount_path in sorted(self.mounts, key=len, reverse=True):
            prefix = mount_path.rstrip("/")
            if not prefix:
                continue  # a volume mounted at / would capture every absolute path
            if value in (prefix, mount_path):
                return str(self.mounts[mount_path])
            if value.startswith(prefix + "/"):
                return str(self.mounts[mount_path] / value[len(prefix) + 1 :])
        return value


def expand_references(value: str, defined: Mapping[str, str]) -> str:
    """Expands `$(NAME)` from `defined` and `$$` to `$`, as the kubelet does for env and args."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        return defined.get(name, match.group(0))

    return _REFERENCE.sub(replace, value)


def resolve_environment(
    pod: Pod, container: Container, source: ConfigSource, capacity: NodeCapacity
) -> dict[str, str]:
    """The container's environment variables, before path translation."""
    namespace = pod.metadata.namespace
    resolved: dict[str, str] = {}
    for env_from in container.env_from:
        if env_from.config_map_ref is not None:
            ref, kind = env_from.config_map_ref, "configmap"
            values = source.config_map(namespace, ref.name)
        elif env_from.secret_ref is not None:
            ref, kind = env_from.secret_ref, "secret"
            values = source.secret(namespace, ref.name)
        else:
            continue
        if values is None:
            if ref.optional:
                continue
            raise ContainerConfigError(f'{kind} "{ref.name}" not found')
        resolved.update((env_from.prefix + key, value) for key, value in values.items())
    for variable in container.env:
        value = _env_value(variable, pod, container, source, capacity, resolved)
        if value is not None:
            resolved[variable.name] = value
    return resolved


def _env_value(
    variable: EnvVar,
    pod: Pod,
    container: Container,
    source: ConfigSource,
    capacity: NodeCapacity,
    defined: Mapping[str, str],
) -> str | None:
    origin = variable.value_from
    if origin is None:
        return expand_references(variable.value or "", defined)
    namespace = pod.metadata.namespace
    if origin.secret_key_ref is not None:
        return _key_value("Secret", origin.secret_key_ref, namespace, source.secret)
    if origin.config_map_key_ref is not None:
        return _key_value("ConfigMap", origin.config_map_key_ref, namespace, source.config_map)
    if origin.field_ref is not None:
        return pod_field(pod, origin.field_ref.field_path)
    if origin.resource_field_ref is not None:
        ref = origin.resource_field_ref
        target = _container_named(pod, ref.container_name) if ref.container_name else container
        return container_resource(target, ref.resource, ref.divisor, capacity)
    return ""


class _Reader(Protocol):
    def __call__(self, namespace: str, name: str) -> Mapping[str, str] | None: ...


def _key_value(kind: str, ref: KeySelector, namespace: str, read: _Reader) -> str | None:
    values = read(namespace, ref.name)
    if values is None:
        if ref.optional:
            return None
        raise ContainerConfigError(f'{kind.lower()} "{ref.name}" not found')
    if ref.key not in values:
        if ref.optional:
            return None
        raise ContainerConfigError(f"couldn't find key {ref.key} in {kind} {namespace}/{ref.name}")
    return values[ref.key]


def pod_field(pod: Pod, field_path: str) -> str:
    """The value of a downward-API `fieldRef` path."""
    fields = {
        "metadata.name": pod.metadata.name,
        "metadata.namespace": pod.metadata.namespace,
        "metadata.uid": pod.metadata.uid,
        "spec.nodeName": pod.spec.node_name,
        "spec.serviceAccountName": pod.spec.service_account_name,
        "status.podIP": POD_IP,
        "status.podIPs": POD_IP,
        "status.hostIP": POD_IP,
        "status.hostIPs": POD_IP,
    }
    if field_path in fields:
        return fields[field_path]
    annotated = _ANNOTATED_FIELD.match(field_path)
    if annotated is not None:
        kind, key = annotated.groups()
        return (pod.metadata.labels if kind == "labels" else pod.metadata.annotations).get(key, "")
    raise ContainerConfigError(f"unsupported fieldRef fieldPath {field_path!r}")


def container_resource(
    container: Container, resource: str, divisor: str | int | None, capacity: NodeCapacity
) -> str:
    """A `resourceFieldRef` value: the quantity divided by `divisor`, rounded up, as the kubelet."""
    kind, _, name = resource.partition(".")
    values = container.resources.limits if kind == "limits" else container.resources.requests
    fallback = {"cpu": capacity.cpu, "memory": capacity.memory}.get(
        name, capacity.ephemeral_storage
    )
    quantity = values.get(name)
    if quantity is None:
        quantity = fallback if kind == "limits" else "0"
    amount: Decimal = parse_quantity(quantity) / parse_quantity(divisor or "1")
    return str(math.ceil(amount))


def _container_named(pod: Pod, name: str) -> Container:
    for container in [*pod.spec.init_containers, *pod.spec.containers]:
        if container.name == name:
            return container
    raise ContainerConfigError(f"resourceFieldRef names container {name!r}, which the pod lacks")


def decode_secret_data(data: Mapping[str, str] | None) -> dict[str, str]:
    """A Secret's `data` (base64) as text; bytes that are not UTF-8 are replaced."""
    return {
        key: base64.b64decode(value).decode("utf-8", errors="replace")
        for key, value in (data or {}).items()
    }


def host_paths(
    container: Container, volume_folders: Mapping[str, Path], termination_message_file: Path
) -> HostPaths:
    """The mounts of `container` whose volumes have host folders, plus its termination file."""
    mounts: dict[str, Path] = {}
    for mount in container.volume_mounts:
        folder = volume_folders.get(mount.name)
        if folder is not None:
            mounts[mount.mount_path] = folder / mount.sub_path if mount.sub_path else folder
    return HostPaths(mounts, container.termination_message_path, termination_message_file)


def temporary_folder(paths: HostPaths) -> Path | None:
    """The host folder behind a volume mounted at /tmp, the container's TMPDIR."""
    for mount_path, folder in paths.mounts.items():
        if PurePosixPath(mount_path) == PurePosixPath("/tmp"):  # noqa: S108 - a container path
            return folder
    return None


def translate_all(values: Sequence[str], paths: HostPaths) -> list[str]:
    return [paths.translate(value) for value in values]
