"""Instructions per request under valgrind's callgrind, which counts executed
user-space instructions rather than time, so figures are stable on a noisy
machine. One worker serves N keep-alive requests of a typical browser request;
the difference between two values of N divided by their difference cancels
start-up and shutdown. Kernel work (syscalls) is not counted. The same profile
counts calls into the Swift runtime's reference counting (retain and release),
the ARC traffic per request."""
import glob
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

from .servers import SERVER_BINARY, free_port

BROWSER_REQUEST = (
    b"GET /index.html?lang=en HTTP/1.1\r\nHost: www.example.com\r\nConnection: keep-alive\r\n"
    b"Cache-Control: max-age=0\r\n"
    b"sec-ch-ua: \"Chromium\";v=\"130\", \"Google Chrome\";v=\"130\", \"Not?A_Brand\";v=\"99\"\r\n"
    b"sec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: \"Linux\"\r\nUpgrade-Insecure-Requests: 1\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"Chrome/130.0.0.0 Safari/537.36\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\n"
    b"Cookie: session=7f3a9c2e4b1d; theme=dark\r\n\r\n"
)

# The runtime's entry points for reference counting. Calls between them (a
# bridge-object retain calling swift_retain) are not counted twice.
REFERENCE_COUNTING = re.compile(r"^swift_(?:bridgeObject|unknownObject|nonatomic_)?(?:retain|release)(?:_n)?$")

# Only the parser's own instructions: callgrind's toggle-collect on RequestParser.parse (mangled name;
# the leading wildcard stands for the module, which differs between revisions).
PARSER_SYMBOL = "$s*13RequestParserC5parse*"


def _binary_without_debug_info(directory, binary):
    """Valgrind 3.19 cannot read the DWARF 5 that Swift 6 emits; the symbol table is enough."""
    path = os.path.join(directory, os.path.basename(binary))
    subprocess.run(["objcopy", "--strip-debug", binary, path], check=True)
    return path


def _serve(requests, extra_valgrind_flags, binary, server_flags=(), request=BROWSER_REQUEST, environment=None):
    directory = tempfile.mkdtemp(prefix="bench-callgrind-")
    port = free_port()
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={directory}/callgrind.%p",
               *extra_valgrind_flags, _binary_without_debug_info(directory, binary),
               "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--log-level", "error", *server_flags]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True, env={**os.environ, **(environment or {})})
    try:
        connection = _connect(port)
        for _ in range(requests):
            connection.sendall(request)
            _read_response(connection)
        connection.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    profiles = []
    for path in glob.glob(f"{directory}/callgrind.[0-9]*"):
        with open(path) as profile:
            text = profile.read()
        totals = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        profiles.append((int(totals.group(1)) if totals else 0, _reference_counting_calls(text)))
    # The master forks the worker: the worker's profile is the one that did the work.
    return max(profiles)


def _reference_counting_calls(text):
    """Calls from outside the runtime's reference counting into it, from a callgrind profile.
    Names are compressed: `fn=(7) name` the first time, `fn=(7)` after."""
    names = {}
    caller = callee = None
    calls = 0
    for line in text.splitlines():
        match = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line)
        if match:
            kind, number, name = match.groups()
            if name:
                names[number] = name
            if kind == "fn":
                caller = names.get(number, "")
            else:
                callee = names.get(number, "")
            continue
        if line.startswith("calls=") and callee is not None:
            if REFERENCE_COUNTING.match(callee) and not REFERENCE_COUNTING.match(caller or ""):
                calls += int(line[6:].split()[0])
            callee = None
    return calls


def _connect(port):
    deadline = time.monotonic() + 60
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _read_response(connection):
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    while len(body) < length:
        body += connection.recv(4096)


def through_worker(small=200, large=2200, binary=SERVER_BINARY, server_flags=(), request=BROWSER_REQUEST,
                   environment=None):
    """Instructions per request through a worker of `binary` started with `server_flags` and
    `environment`, for `request` sent N times on one keep-alive connection."""
    def total(count):
        return _serve(count, [], binary, server_flags, request, environment)[0]
    return (total(large) - total(small)) / (large - small)


def per_request(small=200, large=2200, binary=SERVER_BINARY):
    """(instructions per request through a worker, instructions per request in the parser,
    retains and releases per request through a worker)."""
    (large_total, large_arc), (small_total, small_arc) = _serve(large, [], binary), _serve(small, [], binary)
    whole = (large_total - small_total) / (large - small)
    arc = (large_arc - small_arc) / (large - small)
    toggle = [f"--toggle-collect={PARSER_SYMBOL}"]
    parser = (_serve(large, toggle, binary)[0] - _serve(small, toggle, binary)[0]) / (large - small)
    return whole, parser, arc
