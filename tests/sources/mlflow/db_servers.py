"""Real PostgreSQL and MariaDB servers for the tests and benchmarks: Debian's packages, on 127.0.0.1.

Each server lives in its own temporary directory (data, socket, log) on a free port and is stopped and removed
afterwards. As root (CI), the server runs as the package's own unprivileged user (``postgres``, ``mysql``): PostgreSQL
refuses to run as root and MariaDB should not. Nothing is read from the machine's configuration (``--no-defaults``,
an own data directory), so a system-wide server, running or not, is never touched.

scripts/test.sh installs the packages (``postgresql-15``, ``mariadb-server``) when they are missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

USER, PASSWORD = "ci_carbon", "s3cret/p@ss:w%rd"  # a password that needs quoting in a URI, as real ones do
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _account(*names: str) -> pwd.struct_passwd:
    for name in names:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"none of the accounts {names} exists; install the Debian package that creates it")


def _binary(name: str, *patterns: str) -> str:
    """A server binary: on PATH, else where Debian puts it (postgresql-15 keeps its own out of PATH)."""
    found = shutil.which(name)
    if found:
        return found
    for pattern in patterns:
        matches = sorted(glob.glob(pattern))
        if matches:
            return matches[-1]
    raise RuntimeError(f"{name} not found: run scripts/test.sh, which installs it (Debian package)")


def _wait(ready, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)


class DatabaseServer:
    """One running server; :meth:`uri` spells a URI for one of its databases, :meth:`admin` runs SQL as admin."""

    kind = ""  # postgresql | mysql
    version = ""

    def __init__(self) -> None:
        self.port = free_port()
        self.account = _account(*self._accounts) if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix=f"ci-carbon-{self.kind}-"))
        if self.account is not None:
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        self.log = self.root / "server.log"
        self.process: subprocess.Popen | None = None

    _accounts: tuple[str, ...] = ()

    def _as_user(self) -> dict:
        """Popen arguments that run a command as the server's account (nothing to add when not root)."""
        if self.account is None:
            return {}
        return {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": [],
                "env": {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root), "LANG": "C.UTF-8"}}

    def uri(self, database: str, scheme: str | None = None) -> str:
        return (f"{scheme or self.kind}://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}@127.0.0.1:{self.port}/"
                f"{database}")

    def create_database(self, name: str) -> None:
        raise NotImplementedError

    def tables(self, database: str) -> list[str]:
        raise NotImplementedError

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(self._stop_signal)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    _stop_signal = signal.SIGTERM

    def __enter__(self) -> DatabaseServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Postgres(DatabaseServer):
    """PostgreSQL (Debian's postgresql-15): initdb with a password for TCP, fsync off (a test's data)."""

    kind = "postgresql"
    _accounts = ("postgres", "nobody")
    _stop_signal = signal.SIGINT  # "fast" shutdown: the MLflow server's open connections are closed, not awaited

    def __init__(self) -> None:
        super().__init__()
        bin_glob = "/usr/lib/postgresql/*/bin/"
        initdb = _binary("initdb", bin_glob + "initdb")
        postgres = str(Path(initdb).with_name("postgres"))
        data = self.root / "data"
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.account is not None:
            os.chown(pwfile, self.account.pw_uid, self.account.pw_gid)
        subprocess.run([initdb, "-D", str(data), "-U", USER, f"--pwfile={pwfile}", "--auth-host=scram-sha-256",
                        "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
                       check=True, capture_output=True, cwd=self.root, **self._as_user())
        said = subprocess.run([postgres, "--version"], capture_output=True, text=True).stdout
        self.version = "PostgreSQL " + said.split(")", 1)[-1].split()[0]  # postgres (PostgreSQL) 15.18 (Debian …)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [postgres, "-D", str(data), "-p", str(self.port), "-h", "127.0.0.1", "-k", str(self.root),
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.root, **self._as_user())
        _wait(self._ready, self.process, self.log, "PostgreSQL")

    def _connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, dbname=database,
                               autocommit=True, connect_timeout=5)

    def _ready(self) -> bool:
        try:
            self._connect().close()
        except Exception:
            return False
        return True

    def create_database(self, name: str) -> None:
        with self._connect() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def tables(self, database: str) -> list[str]:
        with self._connect(database) as connection:
            rows = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        return sorted(row[0] for row in rows)


class MariaDB(DatabaseServer):
    """MariaDB (Debian's mariadb-server): mariadb-install-db into the directory, a user for TCP with a password."""

    kind = "mysql"
    _accounts = ("mysql", "nobody")

    def __init__(self) -> None:
        super().__init__()
        install = _binary("mariadb-install-db", "/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db")
        server = _binary("mariadbd", "/usr/sbin/mariadbd", "/usr/sbin/mysqld")
        data = self.root / "data"
        self.socket = self.root / "mysqld.sock"
        user = [f"--user={self.account.pw_name}"] if self.account is not None else []
        subprocess.run([install, "--no-defaults", f"--datadir={data}", *user, "--skip-test-db", "--skip-name-resolve",
                        "--auth-root-authentication-method=normal"], check=True, capture_output=True, cwd=self.root)
        said = subprocess.run([server, "--version"], capture_output=True, text=True).stdout
        self.version = "MariaDB " + said.split(" Ver ", 1)[-1].split("-")[0]  # … Ver 10.11.19-MariaDB-0+deb12u1 …
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [server, "--no-defaults", f"--datadir={data}", f"--port={self.port}", "--bind-address=127.0.0.1",
                 f"--socket={self.socket}", f"--pid-file={self.root / 'mysqld.pid'}", *user, "--skip-name-resolve",
                 "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
                 "--innodb-buffer-pool-size=128M", f"--log-error={self.log}"],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        _wait(self._ready, self.process, self.log, "MariaDB")
        with self._root() as connection, connection.cursor() as cursor:
            cursor.execute("CREATE USER %s@'127.0.0.1' IDENTIFIED BY %s", (USER, PASSWORD))
            cursor.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1'")

    def _root(self):
        import pymysql

        return pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True, connect_timeout=5)

    def _connect(self, database: str | None = None):
        import pymysql

        return pymysql.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, database=database,
                               autocommit=True, connect_timeout=5)

    def _ready(self) -> bool:
        try:
            self._root().close()
        except Exception:
            return False
        return True

    def create_database(self, name: str) -> None:
        with self._connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")

    def tables(self, database: str) -> list[str]:
        with self._connect(database) as connection, connection.cursor() as cursor:
            cursor.execute("SHOW TABLES")
            return sorted(row[0] for row in cursor.fetchall())
