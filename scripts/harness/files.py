"""Static files against nginx: the same directory served by this project's server
(`--root`) and by nginx configured as an operator would (sendfile, tcp_nopush, an
open-file cache, no access log), under the scenarios of issue 13: a small file in the
four connection patterns, larger files for bytes/s, one 1 GiB file over one
connection, a conditional GET answered 304, a single-range GET and a gzip on the fly."""
import os
import shutil
import socket
import tempfile
import time

from . import load, servers
from .machine import progress

BEGIN = "<!-- files:begin (written by scripts/bench; do not edit by hand) -->"
END = "<!-- files:end -->"

# A file both servers answer with 200 once they serve.
READY_PATH = "/1k.html"
# Compression level for both servers: nginx's default gzip_comp_level.
GZIP_LEVEL = 1

NGINX_CONF = servers.NGINX_PROCESS + """\
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    open_file_cache max=10000 inactive=60s;
    open_file_cache_valid 60s;
    gzip on;
    gzip_comp_level {gzip_level};
    gzip_types text/plain text/css application/javascript application/json image/svg+xml;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096;
        root {root};
    }}
}}
"""


def _validator_headers(kind):
    """Request headers that need what the server itself said about the file: its ETag."""
    def make(server_port, path):
        response = _head(server_port, path)
        etag = response.get("etag")
        if etag is None:
            raise RuntimeError(f"no ETag from port {server_port} for {path}")
        return [f"If-None-Match: {etag}"] if kind == "etag" else []
    return make


SCENARIOS = [
    load.Scenario("files_1k_keepalive64", "1 KiB file, keep-alive, 64 connections", 64, path="/1k.html"),
    load.Scenario("files_1k_keepalive512", "1 KiB file, keep-alive, 512 connections", 512, path="/1k.html"),
    load.Scenario("files_1k_pipelined", "1 KiB file, pipelined 16 deep, 64 connections", 64, pipeline=16,
                  path="/1k.html"),
    load.Scenario("files_1k_close", "1 KiB file, new connection per request, 64 connections", 64, close=True,
                  path="/1k.html"),
    load.Scenario("files_64k", "64 KiB file, keep-alive, 64 connections", 64, path="/64k.bin", throughput=True),
    load.Scenario("files_1m", "1 MiB file, keep-alive, 64 connections", 64, path="/1m.bin", throughput=True),
    load.Scenario("files_1g", "1 GiB file, one connection", 1, path="/1g.bin", throughput=True),
    load.Scenario("files_304", "conditional GET answered 304 (If-None-Match), keep-alive, 64 connections", 64,
                  path="/1k.html", headers=_validator_headers("etag")),
    load.Scenario("files_range", "single range of 1,000 bytes of the 64 KiB file, keep-alive, 64 connections", 64,
                  path="/64k.bin", headers=lambda port, path: ["Range: bytes=1000-1999"]),
    load.Scenario("files_gzip", "100 KiB HTML gzipped on the fly, keep-alive, 64 connections", 64,
                  path="/100k.html", headers=lambda port, path: ["Accept-Encoding: gzip"]),
]


def make_tree(directory):
    """The served files: random bytes for the binary ones (nothing to gain from
    compression or sparse holes), and HTML text that compresses as pages do."""
    sizes = {"1k.html": None, "64k.bin": 64 * 1024, "1m.bin": 1024 * 1024, "1g.bin": 1024 ** 3}
    for name, size in sizes.items():
        if size is None:
            continue
        with open(os.path.join(directory, name), "wb") as out:
            remaining = size
            while remaining:
                chunk = min(remaining, 8 * 1024 * 1024)
                out.write(os.urandom(chunk))
                remaining -= chunk
    with open(os.path.join(directory, "1k.html"), "w") as out:
        out.write(_html(1024))
    with open(os.path.join(directory, "100k.html"), "w") as out:
        out.write(_html(100 * 1024))


def _html(size):
    """An HTML page of exactly `size` bytes: rows of a table with varying numbers."""
    head = "<!doctype html>\n<html><head><title>bench</title></head><body><table>\n"
    tail = "</table></body></html>\n"
    rows, index = [], 0
    length = len(head) + len(tail)
    while True:
        row = f"<tr><td class=\"id\">{index}</td><td>item {index * 7919 % 10007}</td><td>{index ** 2 % 997}</td></tr>\n"
        if length + len(row) > size:
            break
        rows.append(row)
        length += len(row)
        index += 1
    body = head + "".join(rows) + tail
    return body + " " * (size - len(body))


def lineup(root, workers, nofile):
    flags = ["--root", root, "--gzip", "--gzip-level", str(GZIP_LEVEL)]
    chosen = [servers.ours(flags, workers, label="server --root"),
              servers.ours(flags + ["--reuseport", "--edge-triggered"], workers,
                           label="server --root --reuseport --edge-triggered")]
    for server in chosen:
        server.ready_path = READY_PATH
    return chosen + [nginx(root, workers, nofile)]


def nginx(root, workers, nofile):
    directory = tempfile.mkdtemp(prefix="bench-nginx-files-")

    def command(port):
        path = os.path.join(directory, "nginx.conf")
        with open(path, "w") as conf:
            conf.write(NGINX_CONF.format(workers=workers, nofile=nofile, dir=directory, port=port, root=root,
                                         gzip_level=GZIP_LEVEL))
        return ["nginx", "-p", directory, "-c", path]
    return servers.Server("nginx", command, "nginx", ready_path=READY_PATH)


def _head(port, path):
    """The header fields of a HEAD response, names lowercased."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"HEAD {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                break
            data += chunk
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 200"):
        raise RuntimeError(f"HEAD {path} on port {port}: {lines[0]}")
    return {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}


def run_load(contenders, repetitions, seconds):
    """Every scenario against every server, the servers alternating and the order
    rotating between repetitions, as in the main tables."""
    samples = {scenario.key: {server.name: [] for server in contenders} for scenario in SCENARIOS}
    commands = []
    total = repetitions * len(SCENARIOS) * len(contenders)
    done = 0
    for server in contenders:
        server.start()
    try:
        for server in contenders:  # warm the page cache and the open-file caches
            for scenario in SCENARIOS:
                _head(server.port, scenario.path)
        for repetition in range(repetitions):
            shift = repetition % len(contenders)
            order = contenders[shift:] + contenders[:shift]
            for scenario in SCENARIOS:
                for server in order:
                    done += 1
                    progress(f"files {done}/{total} repetition {repetition + 1}: {scenario.title} against {server.name}")
                    headers = scenario.headers(server.port, scenario.path) if scenario.headers else []
                    result, command = load.run(scenario, server.port, seconds, server=server, headers=headers)
                    samples[scenario.key][server.name].append(result)
                    commands.append(command.replace(f":{server.port}/", ":PORT/"))
                    time.sleep(0.5)
    finally:
        server_commands = [" ".join(server.command).replace(str(server.port), "PORT") for server in contenders]
        for server in contenders:
            server.stop()
    return samples, sorted(set(commands)), server_commands


def measure(workers, nofile, repetitions, seconds):
    """Builds the tree in a temporary directory, runs the scenarios, removes the tree."""
    root = tempfile.mkdtemp(prefix="bench-files-")
    os.chmod(root, 0o755)  # nginx's workers run as an unprivileged user
    try:
        progress("files: writing the served files (1 GiB of them)")
        make_tree(root)
        contenders = lineup(root, workers, nofile)
        samples, commands, server_commands = run_load(contenders, repetitions, seconds)
        return samples, commands, [command.replace(root, "$ROOT") for command in server_commands]
    finally:
        shutil.rmtree(root, ignore_errors=True)
