"""Memory per idle keep-alive connection: open N connections, send one request
on each, read its response, hold them all open, and compare the server's total
resident memory with its idle figure."""
import socket
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


def open_idle_connections(port, count, deadline_seconds=120, stop_at_first_refusal=False, request=REQUEST):
    """Returns the connections that were answered; closes the ones that were not.
    With `stop_at_first_refusal` (the blocking models, which serve one connection per
    process or thread), the first connection not answered within 2 s ends the count."""
    held, failed = [], 0
    deadline = time.monotonic() + deadline_seconds
    for _ in range(count):
        if time.monotonic() > deadline or (stop_at_first_refusal and failed):
            break
        try:
            connection = socket.create_connection(("127.0.0.1", port), timeout=2 if stop_at_first_refusal else 5)
            connection.sendall(request)
            if not connection.recv(4096).startswith(b"HTTP/1.1 200"):
                raise OSError("not a 200 response")
            held.append(connection)
        except OSError:
            failed += 1
    return held, failed


def measure(server, count, stop_at_first_refusal=False, proportional=False, request=REQUEST):
    """Starts `server`, measures idle and loaded memory (VmRSS, or with `proportional`
    Pss, which counts pages shared between forked processes once), stops it. `request` is what
    each connection asks first (a path the server answers with 200)."""
    size = server.proportional_bytes if proportional else server.resident_bytes
    server.start()
    try:
        time.sleep(1.0)
        idle = size()
        held, failed = open_idle_connections(server.port, count, stop_at_first_refusal=stop_at_first_refusal,
                                             request=request)
        time.sleep(1.0)
        loaded = size()
        for connection in held:
            connection.close()
    finally:
        server.stop()
    per_connection = (loaded - idle) / len(held) if held else float("nan")
    return {"idle": idle, "loaded": loaded, "held": len(held), "failed": failed, "per_connection": per_connection}
