"""The node agent's settings: command-line flags, or NODE_AGENT_* environment variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AgentSettings(BaseSettings):
    """`--kubeconfig`, `--node-name` and `--work-dir` (or NODE_AGENT_KUBECONFIG, ...)."""

    model_config = SettingsConfigDict(
        env_prefix="NODE_AGENT_",
        cli_kebab_case=True,
        cli_implicit_flags=True,
        cli_prog_name="python -m local_cluster.node_agent",
        frozen=True,
    )

    kubeconfig: Path = Field(
        description="Admin kubeconfig: the agent registers the Node, binds and runs pods with it."
    )
    node_name: str = Field(
        default="local-node", min_length=1, description="Name of the Node the agent plays."
    )
    work_dir: Path = Field(
        description="Folder for pod folders: logs, emptyDir volumes, termination messages."
    )
    log_level: str = Field(
        default="INFO", description="Python logging level of the JSON log on stderr."
    )
