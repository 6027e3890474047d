"""Application code on the server (issue 14): the example service (Examples/todos,
GRDB/SQLite on the blocking path) against its Hummingbird 2 twin
(benchmarks/peers/todos-hummingbird, same schema, same SQL, cached statements on
both sides), each on its own copy of one freshly seeded database; list and fetch
in keep-alive 64 and 512, servers alternated. Then memory per idle connection,
a handler blocking 50 ms with 64 requests in flight beside /health, and the
three handler shapes (inline, async, blocking) of the example-server binary."""
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

from . import load, memory, servers
from .machine import progress

EXAMPLE_DIR = os.path.join(servers.ROOT, "Examples", "todos")
EXAMPLE_BINARY = os.path.join(EXAMPLE_DIR, ".build", "release", "example-service")
TWIN_DIR = os.path.join(servers.ROOT, "benchmarks", "peers", "todos-hummingbird")
TWIN_BINARY = os.path.join(TWIN_DIR, ".build", "release", "TodosHummingbird")
EXAMPLE_SERVER_BINARY = os.path.join(servers.ROOT, ".build", "release", "example-server")

# The example service run with --foundation-json (JSON written by Foundation's JSONEncoder, as the twin writes it).
FOUNDATION_JSON_LABEL = "example-service --foundation-json"

# Rows in the seeded table: the list answers all of them (about 0.5 KiB of JSON).
SEEDED_TODOS = 10
SCHEMA = "CREATE TABLE IF NOT EXISTS todo (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL)"

SCENARIOS = [
    load.Scenario("apps_list_keepalive64", "GET /todos (list), keep-alive, 64 connections", 64, path="/todos"),
    load.Scenario("apps_list_keepalive512", "GET /todos (list), keep-alive, 512 connections", 512, path="/todos"),
    load.Scenario("apps_fetch_keepalive64", "GET /todos/1 (fetch), keep-alive, 64 connections", 64, path="/todos/1"),
    load.Scenario("apps_fetch_keepalive512", "GET /todos/1 (fetch), keep-alive, 512 connections", 512, path="/todos/1"),
]

SHAPES = [
    load.Scenario("shape_inline", "inline handler (GET /apps/inline), keep-alive, 64 connections", 64,
                  path="/apps/inline"),
    load.Scenario("shape_async", "async handler (GET /apps/async), keep-alive, 64 connections", 64,
                  path="/apps/async"),
    load.Scenario("shape_blocking", "blocking handler (GET /apps/blocking), keep-alive, 64 connections", 64,
                  path="/apps/blocking"),
]

# What the idle connections of the memory figure ask first: a route both services have.
IDLE_REQUEST = b"GET /todos/1 HTTP/1.1\r\nHost: bench\r\n\r\n"

# The blocking-route scenario: workers, requests kept in flight on /slow, connections asking /health.
SLOW_WORKERS = 2
SLOW_IN_FLIGHT = 64
HEALTH_CONNECTIONS = 8


def build():
    """The example service, its twin and the example-server binary, in release mode."""
    for directory, product in ((EXAMPLE_DIR, None), (TWIN_DIR, None), (servers.ROOT, "example-server")):
        command = ["swift", "build", "-c", "release"] + (["--product", product] if product else [])
        subprocess.run(command, cwd=directory, check=True, stdout=subprocess.DEVNULL)


def seed(path):
    """A fresh database in WAL mode (DatabasePool's own) with the same rows for every server."""
    with sqlite3.connect(path) as database:
        database.execute("PRAGMA journal_mode=WAL")
        database.execute(SCHEMA)
        database.executemany("INSERT INTO todo (title) VALUES (?)",
                             [(f"todo number {index}: write the benchmark",) for index in range(1, SEEDED_TODOS + 1)])
    database.close()


def _fresh_copy(seeded, directory, name):
    """Each server gets its own copy of the seeded file (WAL and shared-memory files are made beside it)."""
    path = os.path.join(directory, f"{name}.sqlite")
    shutil.copyfile(seeded, path)
    return path


def example_service(database, workers, label="example-service", flags=()):
    return servers.Server(label, lambda port: [EXAMPLE_BINARY, "--host", "127.0.0.1", "--port", str(port),
                                               "--workers", str(workers), "--log-level", "error",
                                               "--database", database, *flags], "ours", ready_path="/todos/1")


def twin(database):
    return servers.Server("hummingbird twin", lambda port: [TWIN_BINARY, "--port", str(port), "--database", database],
                          "hummingbird", ready_path="/todos/1")


def example_server(workers):
    return servers.Server("example-server", lambda port: [EXAMPLE_SERVER_BINARY, "--host", "127.0.0.1",
                                                          "--port", str(port), "--workers", str(workers),
                                                          "--log-level", "error"], "ours", ready_path="/apps/inline")


def _alternate(contenders, scenarios, repetitions, seconds, label):
    """Every scenario against every server, the servers alternating and their order rotating."""
    samples = {scenario.key: {server.name: [] for server in contenders} for scenario in scenarios}
    commands = []
    total = repetitions * len(scenarios) * len(contenders)
    done = 0
    for server in contenders:
        server.start()
    try:
        for server in contenders:  # warm caches, prepared statements and code paths
            for scenario in scenarios:
                load.run(scenario, server.port, 1)
        for repetition in range(repetitions):
            shift = repetition % len(contenders)
            order = contenders[shift:] + contenders[:shift]
            for scenario in scenarios:
                for server in order:
                    done += 1
                    progress(f"{label} {done}/{total} repetition {repetition + 1}: {scenario.title} against {server.name}")
                    result, command = load.run(scenario, server.port, seconds, server=server)
                    samples[scenario.key][server.name].append(result)
                    commands.append(command.replace(f":{server.port}/", ":PORT/"))
                    time.sleep(0.5)
    finally:
        server_commands = [" ".join(server.command).replace(str(server.port), "PORT") for server in contenders]
        for server in contenders:
            server.stop()
    return samples, sorted(set(commands)), server_commands


def _slow_and_health(database, seconds, workers=SLOW_WORKERS):
    """/health's p99 alone, then while wrk keeps SLOW_IN_FLIGHT requests on GET /slow (50 ms
    on the handler pool) in flight on `workers` workers; /slow's requests/s beside
    threads ÷ 50 ms. Two wrk processes run at once during the second part."""
    server = example_service(database, workers, label=f"example-service --workers {workers}")
    health = load.Scenario("health", f"GET /health, {HEALTH_CONNECTIONS} connections", HEALTH_CONNECTIONS,
                           path="/health")
    slow = load.Scenario("slow", f"GET /slow, {SLOW_IN_FLIGHT} connections", SLOW_IN_FLIGHT, path="/slow")
    server.start()
    try:
        load.run(health, server.port, 1)
        progress("applications: /health without load")
        alone, health_command = load.run(health, server.port, seconds)
        progress(f"applications: /health while {SLOW_IN_FLIGHT} requests block 50 ms each on /slow")
        slow_result = {}

        def keep_slow_busy():
            slow_result["result"], slow_result["command"] = load.run(slow, server.port, seconds + 2, wrk_timeout="10s")
        thread = threading.Thread(target=keep_slow_busy)
        thread.start()
        time.sleep(1.0)  # the slow requests are in flight before /health is measured
        loaded, _ = load.run(health, server.port, seconds)
        thread.join()
    finally:
        command = " ".join(server.command).replace(str(server.port), "PORT")
        server.stop()
    threads = workers * 16  # --handler-threads' default, per worker
    return {"alone": alone, "loaded": loaded, "slow": slow_result["result"], "threads": threads,
            "expected_slow_rps": threads / 0.050,
            "commands": [health_command.replace(f":{server.port}/", ":PORT/"),
                         slow_result["command"].replace(f":{server.port}/", ":PORT/"), command]}


def measure(workers, repetitions, seconds, idle_connections):
    """Seeds the database, runs every part, removes the files; returns what report.applications_section needs."""
    directory = tempfile.mkdtemp(prefix="bench-applications-")
    try:
        seeded = os.path.join(directory, "seeded.sqlite")
        seed(seeded)
        # The third writes JSON with Foundation's JSONEncoder, as the twin does: what the server
        # itself adds, apart from its streaming JSON encoder.
        contenders = [example_service(_fresh_copy(seeded, directory, "example"), workers),
                      twin(_fresh_copy(seeded, directory, "twin")),
                      example_service(_fresh_copy(seeded, directory, "example-foundation"), workers,
                                      label=FOUNDATION_JSON_LABEL, flags=("--foundation-json",))]
        samples, commands, server_commands = _alternate(contenders, SCENARIOS, repetitions, seconds, "applications")
        memory_figures = {}
        for server in [example_service(_fresh_copy(seeded, directory, "example-memory"), workers),
                       twin(_fresh_copy(seeded, directory, "twin-memory"))]:
            progress(f"applications: {idle_connections:,} idle keep-alive connections to {server.name}")
            memory_figures[server.name] = memory.measure(server, idle_connections, request=IDLE_REQUEST)
        slow = _slow_and_health(_fresh_copy(seeded, directory, "slow"), seconds)
        shape_samples, shape_commands, shape_servers = _alternate([example_server(workers)], SHAPES, repetitions,
                                                                  seconds, "handler shapes")
        started = server_commands + shape_servers + [slow["commands"][2]]
        return {"samples": samples, "shapes": shape_samples, "memory": memory_figures, "slow": slow,
                "commands": commands + shape_commands + slow["commands"][:2],
                "server_commands": [command.replace(directory, "$DIR") for command in started]}
    finally:
        shutil.rmtree(directory, ignore_errors=True)
