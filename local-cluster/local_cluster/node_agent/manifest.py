"""The parts of a Pod the node agent reads, as typed models of the API's JSON (camelCase)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"


class _Model(BaseModel):
    # The API adds fields over time; the agent reads only what it needs and ignores the rest.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class KeySelector(_Model):
    name: str = ""
    key: str
    optional: bool = False


class ObjectFieldSelector(_Model):
    field_path: str


class ResourceFieldSelector(_Model):
    container_name: str | None = None
    resource: str
    divisor: str | int | None = None


class EnvVarSource(_Model):
    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None
    secret_key_ref: KeySelector | None = None
    config_map_key_ref: KeySelector | None = None


class EnvVar(_Model):
    name: str
    value: str | None = None
    value_from: EnvVarSource | None = None


class NameSelector(_Model):
    name: str = ""
    optional: bool = False


class EnvFromSource(_Model):
    prefix: str = ""
    config_map_ref: NameSelector | None = None
    secret_ref: NameSelector | None = None


class VolumeMount(_Model):
    name: str
    mount_path: str
    sub_path: str = ""
    read_only: bool = False


class Resources(_Model):
    limits: dict[str, str | int] = Field(default_factory=dict)
    requests: dict[str, str | int] = Field(default_factory=dict)


class ContainerPort(_Model):
    name: str = ""
    container_port: int


class HttpGetAction(_Model):
    path: str = "/"
    port: int | str
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"


class TcpSocketAction(_Model):
    port: int | str


class ExecAction(_Model):
    command: list[str] = Field(default_factory=list)


class Probe(_Model):
    http_get: HttpGetAction | None = None
    tcp_socket: TcpSocketAction | None = None
    exec: ExecAction | None = None
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3


class Container(_Model):
    name: str
    image: str = ""
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    working_dir: str = ""
    env: list[EnvVar] = Field(default_factory=list)
    env_from: list[EnvFromSource] = Field(default_factory=list)
    volume_mounts: list[VolumeMount] = Field(default_factory=list)
    resources: Resources = Field(default_factory=Resources)
    termination_message_path: str = DEFAULT_TERMINATION_MESSAGE_PATH
    termination_message_policy: Literal["File", "FallbackToLogsOnError"] = "File"
    ports: list[ContainerPort] = Field(default_factory=list)
    readiness_probe: Probe | None = None


class Volume(_Model):
    name: str
    empty_dir: dict[str, Any] | None = None


class PodSpec(_Model):
    node_name: str = ""
    scheduler_name: str = "default-scheduler"
    scheduling_gates: list[dict[str, Any]] = Field(default_factory=list)
    service_account_name: str = ""
    automount_service_account_token: bool | None = None
    restart_policy: Literal["Always", "OnFailure", "Never"] = "Always"
    termination_grace_period_seconds: int = 30
    active_deadline_seconds: int | None = None
    init_containers: list[Container] = Field(default_factory=list)
    containers: list[Container]
    volumes: list[Volume] = Field(default_factory=list)


class ObjectMeta(_Model):
    name: str
    namespace: str = "default"
    uid: str
    resource_version: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    deletion_timestamp: str | None = None
    deletion_grace_period_seconds: int | None = None


class ContainerStatusSeen(_Model):
    """What the API last recorded about a container; read when the agent restarts."""

    name: str
    state: dict[str, Any] = Field(default_factory=dict)
    restart_count: int = 0


class PodStatusSeen(_Model):
    phase: str = "Pending"
    start_time: str | None = None
    container_statuses: list[ContainerStatusSeen] = Field(default_factory=list)
    init_container_statuses: list[ContainerStatusSeen] = Field(default_factory=list)


class Pod(_Model):
    metadata: ObjectMeta
    spec: PodSpec
    status: PodStatusSeen = Field(default_factory=PodStatusSeen)

    @property
    def key(self) -> str:
        """`namespace/name`, for log lines and messages."""
        return f"{self.metadata.namespace}/{self.metadata.name}"

    @property
    def is_terminal(self) -> bool:
        return self.status.phase in ("Succeeded", "Failed")

    @property
    def is_deleting(self) -> bool:
        return self.metadata.deletion_timestamp is not None

    @property
    def service_account(self) -> str:
        return self.spec.service_account_name or "default"
