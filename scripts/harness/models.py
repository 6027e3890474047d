"""The seven server models side by side with nginx: the load scenarios (with a
per-model time limit, so a model that cannot keep up is recorded as such
instead of hanging the run), and memory with idle keep-alive connections:
N of them for the event-driven models and nginx, and for the blocking models
as many as they hold (each holds one connection per process or thread)."""
import socket
import subprocess
import time

from . import load, memory, servers
from .machine import progress

MODELS = ["serial", "process-per-connection", "thread-per-connection", "prefork", "thread-pool", "reactor", "hybrid"]
EVENT_DRIVEN = {"reactor", "hybrid"}
# How long past its own duration one wrk run may take before the model is recorded as not keeping up.
GRACE_SECONDS = 20
# wrk's own timeout in the models runs: a connection a model leaves waiting longer counts as a timeout.
WRK_TIMEOUT = "2s"
# Idle connections are held for the memory figure; nginx keeps them 600 s, so the models do too.
HOLD_FLAGS = ["--keepalive-timeout", "600"]


def model_flags(model, workers):
    if model in ("prefork", "hybrid"):
        return ["--workers", str(workers)]
    return []


def lineup(workers, nofile, extra_flags=()):
    chosen = [servers.ours(["--model", model, *model_flags(model, workers), *extra_flags], None,
                           label=model) for model in MODELS]
    return chosen + [servers.nginx(workers, nofile)]


def run_load(contenders, repetitions, seconds):
    """Like the main harness's load runs, but a wrk run that overruns its time limit
    is recorded as a failed run (0 requests/s) and the model's remaining runs go on."""
    samples = {scenario.key: {server.name: [] for server in contenders} for scenario in load.SCENARIOS}
    commands = []
    total = repetitions * len(load.SCENARIOS) * len(contenders)
    done = 0
    for repetition in range(repetitions):
        for server in contenders:
            server.start()
            try:
                for scenario in load.SCENARIOS:
                    done += 1
                    progress(f"models {done}/{total} repetition {repetition + 1}: {scenario.title} against {server.name}")
                    result, command = run_bounded(scenario, server, seconds)
                    samples[scenario.key][server.name].append(result)
                    commands.append(command.replace(f":{server.port}/", ":PORT/"))
                    time.sleep(0.5)
            finally:
                server.stop()
    return samples, sorted(set(commands))


def run_bounded(scenario, server, seconds):
    try:
        return load.run(scenario, server.port, seconds, limit=seconds + GRACE_SECONDS, wrk_timeout=WRK_TIMEOUT,
                        server=server)
    except (subprocess.TimeoutExpired, RuntimeError) as error:
        progress(f"  {server.name} did not complete '{scenario.title}' ({type(error).__name__}); recorded as 0")
        empty = {"requests": 0, "rps": 0.0, "p50_us": 0, "p99_us": 0, "max_us": 0, "errors": 0, "timeout": 1,
                 "did_not_finish": True}
        return empty, " ".join(scenario.command(server.port, seconds, "<script>"))


def measure_memory(workers, nofile, count):
    """Memory figures per contender: the event-driven ones (and nginx) asked to hold
    `count` connections, the blocking ones as many as they answer."""
    figures = {}
    for server in lineup(workers, nofile, HOLD_FLAGS):
        blocking = server.name not in EVENT_DRIVEN and server.name != "nginx"
        progress(f"models memory: {'as many as it holds' if blocking else f'{count:,}'} idle connections to {server.name}")
        figures[server.name] = memory.measure(server, count, stop_at_first_refusal=blocking, proportional=True)
        figures[server.name]["blocking"] = blocking
    return figures
