"""A throwaway PostgreSQL server: initdb into a folder, start on a free port, one database."""

import getpass
import os
import pwd
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg

from local_cluster.process import Launcher, Server, ServerStartError, free_port, log_tail

DATABASE = "exports"
USER = "exports"


@dataclass
class Postgres:
    server: Server
    port: int
    password: str
    host: str = "127.0.0.1"
    clients: str = "127.0.0.1/32"

    @property
    def url(self) -> str:
        """A libpq URL of the database, for the product and for psql."""
        return f"postgresql://{USER}:{self.password}@{self.host}:{self.port}/{DATABASE}"

    def stop(self) -> None:
        self.server.stop()


def postgres_bin_dir() -> Path:
    """Debian puts the server binaries in a versioned folder; take the newest one."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_major_version)
    if candidates:
        return candidates[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise RuntimeError(
        "PostgreSQL's server binaries are missing: run `make system-deps` as root "
        "(or `apt-get install postgresql`)"
    )


def start_postgres(
    launcher: Launcher,
    data_dir: Path,
    port: int | None = None,
    host: str = "127.0.0.1",
    clients: str = "127.0.0.1/32",
) -> Postgres:
    """Initialises `data_dir` (once) and starts the server; returns when it accepts connections.

    It listens on 127.0.0.1 and on `host` (the address the cluster's Pods reach), nowhere else,
    and takes password logins from 127.0.0.1 and the `clients` network only.
    """
    bin_dir = postgres_bin_dir()
    run_as = _unprivileged_user()
    password_file = data_dir.parent / f"{data_dir.name}.password"
    if not (data_dir / "PG_VERSION").exists():
        _initdb(launcher, bin_dir, data_dir, password_file, run_as)
    password = password_file.read_text().strip()
    port = port or free_port()
    hba_file = data_dir.parent / f"{data_dir.name}.hba.conf"
    hba_file.write_text(
        "local all all trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
        f"host all all {clients} scram-sha-256\n"
    )
    server = launcher.start(
        "postgres",
        [bin_dir / "postgres", "-D", data_dir, "-p", str(port),
         "-c", f"listen_addresses={_listen_addresses(host)}", "-c", f"hba_file={hba_file}",
         "-c", f"unix_socket_directories={data_dir}", "-c", "fsync=off",
         "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200",
         *_KEEPALIVES],
        user=run_as,
    )  # fmt: skip
    postgres = Postgres(server=server, port=port, password=password, host=host, clients=clients)
    server.wait_until(lambda: _accepts_connections(postgres), timeout=30)
    return postgres


def _initdb(
    launcher: Launcher, bin_dir: Path, data_dir: Path, password_file: Path, run_as: str | None
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    password_file.write_text(secrets.token_urlsafe(24))
    password_file.chmod(0o600)
    if run_as:
        # initdb refuses to run as root; the server's files belong to an unprivileged account.
        owner = pwd.getpwnam(run_as)
        os.chown(data_dir, owner.pw_uid, owner.pw_gid)
        os.chown(password_file, owner.pw_uid, owner.pw_gid)
    initdb = launcher.start(
        "initdb",
        [bin_dir / "initdb", "-D", data_dir, "-U", USER, f"--pwfile={password_file}",
         "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8"],
        user=run_as,
    )  # fmt: skip
    assert initdb.popen is not None
    if initdb.popen.wait(timeout=120) != 0:
        raise ServerStartError(
            f"initdb failed (the data folder must be reachable by the '{run_as}' account); "
            f"its log is {initdb.log_path}:\n{log_tail(initdb.log_path)}"
        )
    launcher.servers.remove(initdb)


def _accepts_connections(postgres: Postgres) -> bool:
    """Connects to the maintenance database and creates ours if initdb just made the server."""
    admin_url = postgres.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, connect_timeout=2, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
    return True


# A Pod removed with its network namespace may never close its connections: without keepalives
# its backend (and its transaction's locks, such as an exporter's snapshot holding spaces) would
# wait for the kernel's two hours. With these, such a backend ends within about 25 s.
_KEEPALIVES = (
    "-c", "tcp_keepalives_idle=10",
    "-c", "tcp_keepalives_interval=5",
    "-c", "tcp_keepalives_count=3",
)  # fmt: skip


def _listen_addresses(host: str) -> str:
    return "127.0.0.1" if host == "127.0.0.1" else f"127.0.0.1,{host}"


def _unprivileged_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for candidate in ("postgres", "nobody"):
        try:
            pwd.getpwnam(candidate)
        except KeyError:
            continue
        return candidate
    raise RuntimeError(f"running as {getpass.getuser()} needs a 'postgres' account for initdb")


def _major_version(initdb: Path) -> int:
    try:
        return int(initdb.parent.parent.name)
    except ValueError:
        return 0
