"""HTTPS against nginx (issue 16): the same throwaway certificate and key, the same
directory of files and the same worker count for this project's server
(`--listen 127.0.0.1:PORT,tls --tls-certificate C --tls-key K --root DIR`) and for
nginx (`listen ... ssl`, TLS 1.2 and 1.3, Mozilla's intermediate ciphers, session
tickets on, HTTP/1.1), once with an ECDSA P-256 key and once with an RSA 2048 key.

Scenarios: keep-alive 64 and 512, pipelined 16, a new TLS connection per request
(wrk, full handshakes), a 1 MiB file (bytes/s), handshakes per second full and
resumed (openssl s_time), memory per idle TLS keep-alive connection, and the
server's CPU per request in each. Servers alternate; the order rotates per repetition.

A server that cannot start with a TLS listener (this project's, before HTTPS is
built) is left out of the run with the one line it printed, and the report says so."""
import os
import re
import shutil
import subprocess
import tempfile
import time

from . import certificates, load, servers, tls_clients
from .machine import progress

SMALL_PATH = "/small.txt"
# Runs shorter than this mostly measure the handshakes of wrk's connections (512 of them, on a shared
# machine, can take longer than --quick's 2 s), so the tls run never goes below it.
MINIMUM_SECONDS = 5
LARGE_PATH = "/1m.bin"
# The shortest keep-alive run with 512 connections (see SCENARIOS).
KEEPALIVE512_SECONDS = 30
SMALL_BODY = b"hello, tls\n"

# Mozilla's intermediate profile (TLS 1.2 ciphers; TLS 1.3 keeps OpenSSL's suites), as issue 16 asks of both servers.
INTERMEDIATE_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                        "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305")

NGINX_CONF = servers.NGINX_PROCESS + """\
http {{
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    open_file_cache max=10000 inactive=60s;
    open_file_cache_valid 60s;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers {ciphers};
    ssl_prefer_server_ciphers off;
    ssl_session_tickets on;
    server {{
        listen 127.0.0.1:{port} ssl reuseport backlog=4096;
        ssl_certificate {certificate};
        ssl_certificate_key {key};
        root {root};
    }}
}}
"""


class TLSScenario(load.Scenario):
    """A wrk scenario over https:// (wrk speaks TLS itself; on a new connection it offers the
    session of its last one: SSL_shutdown, SSL_clear, SSL_connect on the same SSL object).
    `minimum_seconds`: the shortest run of this scenario, whatever --seconds says."""

    def __init__(self, *args, minimum_seconds=0, **keywords):
        super().__init__(*args, **keywords)
        self.minimum_seconds = minimum_seconds

    def command(self, port, seconds, script, wrk_timeout="5s", headers=()):
        command = super().command(port, seconds, script, wrk_timeout, headers)
        command[-1] = command[-1].replace("http://", "https://", 1)
        return command


SCENARIOS = [
    TLSScenario("tls_keepalive64", "HTTPS keep-alive, 64 connections", 64, path=SMALL_PATH),
    # At least 30 s: wrk's one thread first makes 512 TLS handshakes, and the requests it sends meanwhile wait
    # on it (for either server). In a 10 s run those are about 1% of the requests, so the p99 measured the start
    # (100-230 ms in 4 s runs, both servers) as much as keep-alive (scripts/tls-keepalive-tail); in 30 s runs
    # they are under 0.5%. The new-connection and handshake rows measure handshakes on their own.
    TLSScenario("tls_keepalive512", "HTTPS keep-alive, 512 connections", 512, path=SMALL_PATH,
                minimum_seconds=KEEPALIVE512_SECONDS),
    TLSScenario("tls_pipelined", "HTTPS pipelined 16 deep, 64 connections", 64, pipeline=16, path=SMALL_PATH),
    TLSScenario("tls_close", "new TLS connection per request (wrk resumes its last session), 64 connections", 64,
                close=True, path=SMALL_PATH),
    TLSScenario("tls_1m", "1 MiB file over TLS, keep-alive, 64 connections", 64, path=LARGE_PATH, throughput=True),
]

# (key, title, s_time resumes) of the handshake rows.
HANDSHAKES = [("full", "full handshakes", False), ("resumed", "resumed sessions", True)]


class TLSServer(servers.Server):
    """A server whose readiness is a 200 over TLS, verified against the run's CA."""

    def __init__(self, name, make_command, kind, ca):
        super().__init__(name, make_command, kind, ready_path=SMALL_PATH)
        self.ca = ca

    def answers(self):
        return tls_clients.https_get_ok(self.port, self.ready_path, self.ca)


def ours_flags(leaf, root, workers, port):
    return ["--listen", f"127.0.0.1:{port},tls", "--tls-certificate", leaf.certificate, "--tls-key", leaf.key,
            "--root", root, "--workers", str(workers), "--log-level", "error"]


def ours(leaf, root, workers):
    return TLSServer("server", lambda port: [servers.SERVER_BINARY, *ours_flags(leaf, root, workers, port)],
                     "ours", leaf.ca)


def why_ours_cannot(leaf, root, workers):
    """None if this project's server accepts the TLS flags (its own `--check-configuration`
    says so), else the one line it printed: the reason its rows are left out."""
    if not os.path.exists(servers.SERVER_BINARY):
        return f"{servers.SERVER_BINARY} is missing"
    result = subprocess.run([servers.SERVER_BINARY, "--check-configuration", *ours_flags(leaf, root, workers, 0)],
                            capture_output=True, text=True, timeout=60)
    if result.returncode == 0:
        return None
    lines = (result.stderr or result.stdout).strip().splitlines()
    return lines[0] if lines else f"exit status {result.returncode}"


def nginx(leaf, root, workers, nofile):
    directory = tempfile.mkdtemp(prefix="bench-nginx-tls-")

    def command(port):
        path = os.path.join(directory, "nginx.conf")
        with open(path, "w") as conf:
            conf.write(NGINX_CONF.format(workers=workers, nofile=nofile, dir=directory, port=port, root=root,
                                         certificate=leaf.certificate, key=leaf.key, ciphers=INTERMEDIATE_CIPHERS))
        return ["nginx", "-p", directory, "-c", path]
    return TLSServer("nginx", command, "nginx", leaf.ca)


def make_root(directory):
    """The served files: a short text answer and 1 MiB of random bytes."""
    with open(os.path.join(directory, SMALL_PATH.lstrip("/")), "wb") as out:
        out.write(SMALL_BODY)
    with open(os.path.join(directory, LARGE_PATH.lstrip("/")), "wb") as out:
        out.write(os.urandom(1024 * 1024))
    for name in os.listdir(directory):
        os.chmod(os.path.join(directory, name), 0o644)
    os.chmod(directory, 0o755)  # nginx's workers run as an unprivileged user


def run_load(lineup, repetitions, seconds, clients):
    """Every wrk scenario and both handshake kinds against every server, alternating."""
    samples = {scenario.key: {server.name: [] for server in lineup} for scenario in SCENARIOS}
    handshakes = {key: {server.name: [] for server in lineup} for key, _, _ in HANDSHAKES}
    commands = []
    for server in lineup:
        server.start()
    try:
        for server in lineup:  # warm caches and code paths
            load.run(SCENARIOS[0], server.port, 1, server=server)
        for repetition in range(repetitions):
            shift = repetition % len(lineup)
            order = lineup[shift:] + lineup[:shift]
            for scenario in SCENARIOS:
                for server in order:
                    progress(f"tls repetition {repetition + 1}: {scenario.title} against {server.name}")
                    result, command = load.run(scenario, server.port, max(seconds, scenario.minimum_seconds),
                                               server=server)
                    samples[scenario.key][server.name].append(result)
                    commands.append(command.replace(f":{server.port}/", ":PORT/"))
                    time.sleep(0.5)
            for key, title, resumed in HANDSHAKES:
                for server in order:
                    progress(f"tls repetition {repetition + 1}: {title} against {server.name}")
                    result, command = tls_clients.handshakes(server.port, seconds, resumed, clients, SMALL_PATH,
                                                             server=server)
                    handshakes[key][server.name].append(result)
                    commands.append(command)
                    time.sleep(0.5)
    finally:
        for server in lineup:
            server.stop()
    return samples, handshakes, commands


def measure_key(leaf, root, workers, nofile, arguments):
    """Everything for one key type; returns the section's figures."""
    lineup, skipped = [], {}
    reason = why_ours_cannot(leaf, root, workers)
    if reason is None:
        lineup.append(ours(leaf, root, workers))
    else:
        skipped["server"] = reason
        progress(f"tls: this project's server is left out: {reason}")
    lineup.append(nginx(leaf, root, workers, nofile))
    samples, handshakes, commands = run_load(lineup, arguments.repetitions, seconds(arguments),
                                             arguments.handshake_clients)
    memory = {}
    for server in lineup:
        progress(f"tls memory: {arguments.connections:,} idle TLS keep-alive connections to {server.name}")
        memory[server.name] = tls_clients.measure_memory(server, arguments.connections, leaf.ca)
    server_commands = [re.sub(re.escape(tempfile.gettempdir()) + r"/bench-nginx-tls-\w+", "$NGINX", " ".join(server.make_command(0)))
                       .replace(":0,", ":PORT,") for server in lineup]
    return {"leaf": leaf, "samples": samples, "handshakes": handshakes, "memory": memory, "skipped": skipped,
            "commands": sorted(set(commands)), "server_commands": server_commands}


def seconds(arguments):
    """Seconds per run: --seconds, but at least MINIMUM_SECONDS."""
    return max(arguments.seconds, MINIMUM_SECONDS)


def measure(workers, nofile, arguments):
    """Makes the certificates and the served files in a temporary directory, measures
    each key type, removes the directory. The paths in the commands read $TLS."""
    directory = tempfile.mkdtemp(prefix="bench-tls-")
    os.chmod(directory, 0o755)
    try:
        progress("tls: generating a throwaway CA and ECDSA P-256 and RSA 2048 certificates")
        leaves = certificates.generate(directory)
        root = os.path.join(directory, "root")
        os.mkdir(root)
        make_root(root)
        sections = []
        for kind in arguments.tls_keys:
            section = measure_key(leaves[kind], root, workers, nofile, arguments)
            section["commands"] = [command.replace(directory, "$TLS") for command in section["commands"]]
            section["server_commands"] = [command.replace(directory, "$TLS") for command in section["server_commands"]]
            sections.append(section)
        return sections
    finally:
        shutil.rmtree(directory, ignore_errors=True)
