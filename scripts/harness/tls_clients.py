"""The HTTPS clients wrk cannot be: wrk keeps its connections, so handshakes per
second come from `openssl s_time` (`-new`: a full handshake per connection;
`-reuse`: the first handshake full, every later one resuming its session, by
ticket in TLS 1.3), several processes at once; and the idle connections of the
memory figure are Python `ssl` sockets, each answered once and then held."""
import re
import shlex
import socket
import ssl
import subprocess
import sys
import time

REQUEST = b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
COUNT = re.compile(r"^(\d+) connections in ", re.MULTILINE)


def handshake_command(port, seconds, resumed, path):
    """One s_time client: connects, handshakes, sends `GET path HTTP/1.0`, reads the answer, closes."""
    return ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-reuse" if resumed else "-new",
            "-time", str(seconds), "-www", path]


def handshakes(port, seconds, resumed, clients, path, server=None):
    """Runs `clients` s_time processes side by side for `seconds`; returns a result with
    handshakes per second over the wall time of the run, the share of connections that
    resumed a session (s_time prints 'r' for each resumed one, '*' for a full one), and,
    given the `server`, its CPU time per handshake. A batch in which an s_time printed no
    count is said on stderr (which server, the exit status, what s_time printed) and run
    once more; a second such batch ends the run with the same words."""
    command = handshake_command(port, seconds, resumed, path)
    result = _handshake_batch(command, seconds, clients, server)
    if isinstance(result, str):
        print(f"harness: {result}; running the batch once more", file=sys.stderr, flush=True)
        result = _handshake_batch(command, seconds, clients, server)
        if isinstance(result, str):
            raise RuntimeError(result)
        result["retried"] = True
    return result, f"{clients} × " + shlex.join(command).replace(f":{port} ", ":PORT ")


def _handshake_batch(command, seconds, clients, server):
    """One batch of s_time processes: the result, or the words saying why it has none."""
    cpu_before = server.cpu_seconds() if server else None
    started = time.monotonic()
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(clients)]
    outputs = [process.communicate(timeout=seconds + 60) for process in processes]
    wall = time.monotonic() - started
    cpu_after = server.cpu_seconds() if server else None
    connections, resumed_count, marked = 0, 0, 0
    for process, (output, errors) in zip(processes, outputs):
        counts = COUNT.findall(output)
        if not counts:
            against = f" against {server.name}" if server else ""
            return (f"openssl s_time{against} printed no count (exit status {process.returncode}): "
                    f"stdout {output[-300:]!r}, stderr {errors[-300:]!r}")
        # With -reuse, s_time prints two counts (a first full connection, then the reused ones).
        connections += int(counts[-1])
        marks = "".join(line for line in output.splitlines() if set(line) <= {"*", "r"})
        resumed_count += marks.count("r")
        marked += len(marks)
    result = {"connections": connections, "seconds": wall, "handshakes_per_second": connections / wall,
              "resumed_share": resumed_count / marked if marked else 0.0}
    if server is not None and connections:
        result["cpu_us_per_handshake"] = (cpu_after - cpu_before) * 1e6 / connections
    return result


def _client_context(ca):
    context = ssl.create_default_context(cafile=ca)
    context.set_alpn_protocols(["http/1.1"])
    return context


def open_idle_connections(port, count, ca, deadline_seconds=300):
    """Opens up to `count` TLS connections (certificate verified against the run's CA),
    sends one request on each, reads its answer and keeps the ones answered 200."""
    context = _client_context(ca)
    held, failed = [], 0
    deadline = time.monotonic() + deadline_seconds
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        try:
            plain = socket.create_connection(("127.0.0.1", port), timeout=10)
            connection = context.wrap_socket(plain, server_hostname="localhost")
            connection.sendall(REQUEST)
            if not connection.recv(4096).startswith(b"HTTP/1.1 200"):
                raise OSError("not a 200 response")
            held.append(connection)
        except (OSError, ssl.SSLError):
            failed += 1
    return held, failed


def measure_memory(server, count, ca):
    """Starts `server`, measures its resident memory idle and while holding `count` idle
    TLS keep-alive connections, stops it (as harness/memory.py does for plain ones)."""
    server.start()
    try:
        time.sleep(1.0)
        idle = server.resident_bytes()
        held, failed = open_idle_connections(server.port, count, ca)
        time.sleep(1.0)
        loaded = server.resident_bytes()
        for connection in held:
            connection.close()
    finally:
        server.stop()
    per_connection = (loaded - idle) / len(held) if held else float("nan")
    return {"idle": idle, "loaded": loaded, "held": len(held), "failed": failed, "per_connection": per_connection}


def https_get_ok(port, path, ca):
    """Whether `GET path` over TLS answers 200: the readiness probe of a TLS server."""
    try:
        plain = socket.create_connection(("127.0.0.1", port), timeout=1)
        with _client_context(ca).wrap_socket(plain, server_hostname="localhost") as connection:
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
            return connection.recv(64).startswith(b"HTTP/1.1 200")
    except (OSError, ssl.SSLError):
        return False
