"""The servers under test: this project's `server` in its four flag combinations,
nginx with a configuration written here, and the Hummingbird peer."""
import os
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HUMMINGBIRD_DIR = os.path.join(ROOT, "benchmarks", "peers", "hello-hummingbird")
HUMMINGBIRD_BINARY = os.path.join(HUMMINGBIRD_DIR, ".build", "release", "HelloHummingbird")
SERVER_BINARY = os.path.join(ROOT, ".build", "release", "server")

# What every nginx the harness runs has: workers, limits, its own pid and log files, in the foreground.
NGINX_PROCESS = """\
worker_processes {workers};
worker_rlimit_nofile {nofile};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log crit;
events {{ worker_connections {nofile}; }}
"""

NGINX_CONF = NGINX_PROCESS + """\
http {{
    access_log off;
    default_type text/plain;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096;
        location / {{ return 200 "pid 12345\\n"; }}
    }}
}}
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A server process tree started in its own session, so it can be stopped whole."""

    def __init__(self, name, make_command, kind, ready_path="/"):
        self.name = name
        # A path the server answers with 200 once it serves.
        self.ready_path = ready_path
        self.kind = kind  # "ours", "nginx" or "hummingbird"
        self.make_command = make_command
        self.process = None
        self.port = None
        self.command = None

    def start(self):
        self.port = free_port()
        self.command = self.make_command(self.port)
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at startup ({' '.join(self.command)})")
            if self.answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within 60 s")

    def answers(self):
        """Whether the server answers `ready_path` with 200 (plain HTTP; the TLS harness overrides it)."""
        return http_get_ok(self.port, self.ready_path)

    def stop(self):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
        self.process = None

    def pids(self):
        """The root process and every descendant (workers)."""
        children = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
                    children.setdefault(ppid, []).append(int(entry))
                except (OSError, IndexError, ValueError):
                    continue
        found, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            pending.extend(children.get(pid, []))
        return found

    def cpu_seconds(self):
        """User plus system CPU seconds of the whole tree so far: each live process's own
        time, plus the time of children it has already reaped (cutime, cstime), which
        have left the tree (proc(5), /proc/PID/stat fields 14-17)."""
        ticks = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                ticks += sum(int(field) for field in fields[11:15])
            except (OSError, IndexError, ValueError):
                continue
        return ticks / os.sysconf("SC_CLK_TCK")

    def proportional_bytes(self):
        """Total proportional set size (Pss) of the tree: pages shared by several processes
        (copy-on-write after fork) count once in total, not once per process as in VmRSS."""
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/smaps_rollup") as rollup:
                    for line in rollup:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total

    def resident_bytes(self):
        """Total resident memory (VmRSS) of the whole process tree."""
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total


def http_get_ok(port, path="/"):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
            return connection.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def ours(flags, workers, label=None, binary=SERVER_BINARY):
    """This project's server; `workers` None leaves --workers out (the models that have none refuse it).
    `binary` is another build of it, for a before-and-after comparison in one run."""
    label = label or "server " + (" ".join(flags) if flags else "(default)")
    worker_flags = [] if workers is None else ["--workers", str(workers)]
    return Server(label, lambda port: [binary, "--host", "127.0.0.1", "--port", str(port),
                                       *worker_flags, "--log-level", "error", *flags], "ours")


def nginx(workers, nofile):
    directory = tempfile.mkdtemp(prefix="bench-nginx-")

    def command(port):
        path = os.path.join(directory, "nginx.conf")
        with open(path, "w") as conf:
            conf.write(NGINX_CONF.format(workers=workers, nofile=nofile, dir=directory, port=port))
        return ["nginx", "-p", directory, "-c", path]
    return Server("nginx", command, "nginx")


def hummingbird():
    return Server("hummingbird", lambda port: [HUMMINGBIRD_BINARY, str(port)], "hummingbird")


def build_baseline(revision):
    """Builds the server of an earlier git revision, so one run can compare before and after.
    Its sources are exported with `git archive` into .build-baseline/REVISION (ignored by git)
    and built there in release mode; returns the binary's path."""
    commit = subprocess.run(["git", "rev-parse", "--short", revision], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    directory = os.path.join(ROOT, ".build-baseline", commit)
    if not os.path.exists(os.path.join(directory, "Package.swift")):
        os.makedirs(directory, exist_ok=True)
        archive = subprocess.Popen(["git", "archive", commit], cwd=ROOT, stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", directory], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise RuntimeError(f"git archive {commit} failed")
    subprocess.run(["swift", "build", "-c", "release", "--product", "server"], cwd=directory, check=True,
                   stdout=subprocess.DEVNULL)
    return commit, os.path.join(directory, ".build", "release", "server")


def build(with_hummingbird):
    subprocess.run(["swift", "build", "-c", "release", "--product", "server"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    if with_hummingbird:
        subprocess.run(["swift", "build", "-c", "release"], cwd=HUMMINGBIRD_DIR, check=True,
                       stdout=subprocess.DEVNULL)
