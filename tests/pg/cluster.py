"""A throw-away PostgreSQL cluster for the tests and the benchmark.

    python -m tests.pg.cluster run [--durable] -- COMMAND [ARG ...]

finds the PostgreSQL server binaries (installing the ``postgresql`` system package when there are none and
the machine allows it: root or password-less sudo, apt-get), creates a cluster in a new temporary folder
owned by an unprivileged user (``initdb`` refuses root), starts it on a free loopback port with trust
authentication, runs COMMAND with ``OPENTURK_TEST_DB_URL`` (a superuser URL of the ``postgres`` database)
and ``OPENTURK_TEST_PG_STATE`` (a JSON file describing the cluster, so a test can restart it) in its
environment, then stops the cluster and removes the folder, also when COMMAND fails or is interrupted.
Its exit status is COMMAND's.  With ``--optional`` (the benchmark) a machine where PostgreSQL cannot
be had runs COMMAND without ``OPENTURK_TEST_DB_URL`` instead of failing.

Without ``--durable`` the cluster runs with ``fsync=off``: an acknowledged commit still survives a crash
or an immediate shutdown of PostgreSQL (its WAL is in the kernel), only not a power cut, which no test
makes.  The benchmark passes ``--durable`` to compare with SQLite's ``synchronous=FULL`` fairly.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType

URL_ENV = "OPENTURK_TEST_DB_URL"
STATE_ENV = "OPENTURK_TEST_PG_STATE"
BIN_ENV = "OPENTURK_PG_BIN"  # where initdb, pg_ctl and postgres are, to override the search
UNPRIVILEGED_USER = "nobody"
HOST = "127.0.0.1"
SUPERUSER = "postgres"

_FAST = ("fsync=off", "full_page_writes=off")
_COMMON = (
    "max_connections=400",
    "shared_buffers=128MB",
    "listen_addresses='127.0.0.1'",
    "log_min_messages=warning",
    "log_checkpoints=off",
)


class ClusterError(RuntimeError):
    """PostgreSQL could not be found, installed or started; the message says what to do."""


@dataclass(frozen=True)
class Cluster:
    bin_dir: str
    data_dir: str
    port: int
    user: str | None  # the OS user that owns and runs the cluster; None: the current user
    log_file: str

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/postgres"

    def pg_ctl(
        self, *args: str, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(Path(self.bin_dir) / "pg_ctl"), "-D", self.data_dir, *args]
        return _run_as(self.user, argv, check=check, timeout=timeout)

    def start(self) -> None:
        # A new session: a Ctrl-C in the terminal reaches the test run, not the postmaster.
        self.pg_ctl("start", "-w", "-t", "60", "-l", self.log_file)

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-w", "-t", "60", "-m", mode, check=False)

    def restart(self, mode: str = "fast") -> None:
        """``immediate`` is a crash as far as clients can tell: no checkpoint, WAL recovery on start."""
        self.pg_ctl("restart", "-w", "-t", "60", "-m", mode, "-l", self.log_file)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: str | Path) -> Cluster:
        return cls(**json.loads(Path(path).read_text()))


def find_bin_dir(env: dict[str, str] | None = None) -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: $OPENTURK_PG_BIN, then PATH, then Debian's layout."""
    env = dict(os.environ) if env is None else env
    candidates: list[Path] = []
    if env.get(BIN_ENV):
        candidates.append(Path(env[BIN_ENV]))
    on_path = shutil.which("initdb", path=env.get("PATH"))
    if on_path:
        candidates.append(Path(on_path).parent)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _version_key(p.parent.name), reverse=True
    )
    candidates.extend(debian)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in name.split("."))


def install_commands(is_root: bool, have_sudo: bool) -> list[list[str]]:
    """The apt-get steps that install the server without starting a system cluster of its own."""
    if is_root:
        prefix: list[str] = []
    elif have_sudo:
        prefix = ["sudo", "-n"]
    else:
        raise ClusterError(
            "PostgreSQL server binaries (initdb) were not found and installing them needs root or "
            "password-less sudo: install the 'postgresql' package, or set OPENTURK_PG_BIN to its bin folder"
        )
    env = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive"]
    apt = [*env, "apt-get", "-y", "-q", "-o", "Dpkg::Options::=--force-confold"]
    conf = "/etc/postgresql-common/createcluster.conf"
    return [
        [*env, "apt-get", "update", "-q"],
        [*apt, "install", "--no-install-recommends", "postgresql-common"],
        # We make our own clusters; the package's default cluster would be a server left running.
        [*prefix, "sed", "-i", r"s/^#\?\s*create_main_cluster\s*=.*/create_main_cluster = false/", conf],
        [*apt, "install", "--no-install-recommends", "postgresql"],
    ]


def ensure_binaries() -> Path:
    found = find_bin_dir()
    if found is not None:
        return found
    if shutil.which("apt-get") is None:
        raise ClusterError(
            "PostgreSQL server binaries (initdb) were not found and this machine has no apt-get: "
            "install PostgreSQL and set OPENTURK_PG_BIN to the folder holding initdb and pg_ctl"
        )
    is_root = os.geteuid() == 0
    have_sudo = not is_root and shutil.which("sudo") is not None and _sudo_works()
    print("cluster: PostgreSQL is not installed; installing it from the system packages", file=sys.stderr)
    for argv in install_commands(is_root, have_sudo):
        subprocess.run(argv, check=True, stdout=sys.stderr, timeout=900)
    found = find_bin_dir()
    if found is None:
        raise ClusterError("installed the 'postgresql' package but found no initdb under /usr/lib/postgresql")
    return found


def _sudo_works() -> bool:
    return subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0


def unprivileged_user() -> str | None:
    """None when we are not root (we run PostgreSQL ourselves), else a user initdb accepts."""
    if os.geteuid() != 0:
        return None
    pwd.getpwnam(UNPRIVILEGED_USER)  # KeyError if the system has no such user: a clear enough failure
    return UNPRIVILEGED_USER


def _run_as(
    user: str | None, argv: Sequence[str], *, check: bool = True, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    full = [*argv] if user is None else ["runuser", "-u", user, "--", *argv]
    result = subprocess.run(
        full,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        start_new_session=True,
        cwd="/",  # the unprivileged user may not be allowed into the current folder
    )
    if check and result.returncode != 0:
        raise ClusterError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def create(*, durable: bool = False, parent: str | None = None) -> Cluster:
    """initdb a new cluster in a temporary folder and start it; the caller must ``destroy`` it."""
    bin_dir = ensure_binaries()
    user = unprivileged_user()
    root = Path(tempfile.mkdtemp(prefix="openturk-pg-", dir=parent))
    data = root / "data"
    log = root / "postgres.log"
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    try:
        _run_as(
            user,
            [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
             "--locale=C", "--no-instructions", "--no-sync"],
            timeout=300,
        )  # fmt: skip
        settings = [*_COMMON, *(() if durable else _FAST), f"unix_socket_directories='{root}'"]
        with (data / "postgresql.auto.conf").open("a") as conf:
            conf.write("".join(f"{line}\n" for line in settings))
        last: ClusterError | None = None
        for _ in range(5):  # another process may take the free port between our probe and the bind
            cluster = Cluster(str(bin_dir), str(data), free_port(), user, str(log))
            _set_port(cluster)
            try:
                cluster.start()
                return cluster
            except ClusterError as error:
                last = error
        raise ClusterError(f"PostgreSQL did not start:\n{last}\n{_tail(log)}")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _set_port(cluster: Cluster) -> None:
    with (Path(cluster.data_dir) / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"port={cluster.port}\n")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def destroy(cluster: Cluster) -> None:
    cluster.stop("immediate")
    shutil.rmtree(Path(cluster.data_dir).parent, ignore_errors=True)


@contextmanager
def running(*, durable: bool = False) -> Iterator[Cluster]:
    cluster = create(durable=durable)
    try:
        yield cluster
    finally:
        destroy(cluster)


class _InterruptedError(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_on_signal(signum: int, frame: FrameType | None) -> None:
    raise _InterruptedError(signum)


def run(command: Sequence[str], *, durable: bool = False) -> int:
    """Run ``command`` against a fresh cluster; the cluster is gone when this returns."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_on_signal)
    child: subprocess.Popen[bytes] | None = None
    try:
        with running(durable=durable) as cluster:
            state = Path(cluster.data_dir).parent / "cluster.json"
            cluster.save(state)
            print(f"cluster: PostgreSQL on {HOST}:{cluster.port} ({cluster.data_dir})", file=sys.stderr)
            env = {**os.environ, URL_ENV: cluster.url, STATE_ENV: str(state)}
            child = subprocess.Popen(list(command), env=env)
            return child.wait()
    except KeyboardInterrupt:
        return _reap(child, signal.SIGINT)
    except _InterruptedError as interrupted:
        return _reap(child, interrupted.signum)


def _reap(child: subprocess.Popen[bytes] | None, signum: int) -> int:
    if child is not None and child.poll() is None:
        child.send_signal(signum)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return 128 + signum


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.pg.cluster", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="action", required=True)
    run_parser = commands.add_parser("run", help="run a command against a throw-away cluster")
    run_parser.add_argument("--durable", action="store_true", help="keep fsync on (for benchmarks)")
    run_parser.add_argument(
        "--optional",
        action="store_true",
        help="when no cluster can be made, say why and run the command without one",
    )
    run_parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG ...]")
    commands.add_parser("find", help="print the folder of initdb (installing PostgreSQL if needed)")
    args = parser.parse_args(argv)
    try:
        if args.action == "find":
            print(ensure_binaries())
            return 0
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            parser.error("run needs a command after --")
        if args.optional:
            try:
                ensure_binaries()
            except (ClusterError, subprocess.CalledProcessError) as error:
                print(f"cluster: no PostgreSQL ({error}); running without it", file=sys.stderr)
                return subprocess.run(command, check=False).returncode
        return run(command, durable=args.durable)
    except (ClusterError, subprocess.CalledProcessError) as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
