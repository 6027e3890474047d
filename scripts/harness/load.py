"""Load runs with wrk: one thread (wrk needs one of the two cores), a Lua script
that reports the run as JSON, and optional 16-deep pipelining."""
import json
import os
import shlex
import subprocess
import tempfile

REPORT_LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '\\nBENCH {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, "bytes": %d}\\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(99), latency.max, summary.bytes))
end
"""

PIPELINE_LUA = """
init = function(args)
  local batch = {}
  for i = 1, %d do batch[i] = wrk.format(nil, "%s") end
  pipelined = table.concat(batch)
end
request = function() return pipelined end
"""


class Scenario:
    def __init__(self, key, title, connections, pipeline=1, close=False, path="/", headers=None, throughput=False):
        self.key = key
        self.title = title
        self.connections = connections
        self.pipeline = pipeline
        self.close = close
        self.path = path
        # Extra request header lines, made for each server (a conditional GET needs the ETag it gives).
        self.headers = headers
        # Whether bytes/s, rather than requests/s, is the figure that matters (large files).
        self.throughput = throughput

    def script(self, directory):
        path = os.path.join(directory, f"{self.key}.lua")
        with open(path, "w") as lua:
            if self.pipeline > 1:
                lua.write(PIPELINE_LUA % (self.pipeline, self.path))
            lua.write(REPORT_LUA)
        return path

    def command(self, port, seconds, script, wrk_timeout="5s", headers=()):
        command = ["wrk", "-t1", f"-c{self.connections}", f"-d{seconds}s", "--timeout", wrk_timeout, "-s", script]
        if self.close:
            command += ["-H", "Connection: close"]
        for header in headers:
            command += ["-H", header]
        return command + [f"http://127.0.0.1:{port}{self.path}"]


SCENARIOS = [
    Scenario("keepalive64", "keep-alive, 64 connections", 64),
    Scenario("keepalive512", "keep-alive, 512 connections", 512),
    Scenario("pipelined", "pipelined 16 deep, 64 connections", 64, pipeline=16),
    Scenario("close", "new connection per request, 64 connections", 64, close=True),
]


def run(scenario, port, seconds, limit=None, wrk_timeout="5s", server=None, headers=()):
    """Runs wrk once; returns (result dict, exact command). Raises subprocess.TimeoutExpired
    if wrk has not finished after `limit` seconds (default: its duration plus a minute).
    Given the `server`, the result also has its CPU time per request (user plus system
    time of all its processes over the run): the figure that still separates servers when
    wrk, not the server, is what limits requests/s."""
    directory = tempfile.mkdtemp(prefix="bench-wrk-")
    command = scenario.command(port, seconds, scenario.script(directory), wrk_timeout, headers)
    cpu_before = server.cpu_seconds() if server else None
    output = subprocess.run(command, capture_output=True, text=True, timeout=limit or seconds + 60).stdout
    cpu_after = server.cpu_seconds() if server else None
    line = next((l for l in output.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no report: {output[-500:]}")
    result = json.loads(line[6:])
    seconds_run = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / seconds_run if seconds_run else 0.0
    result["errors"] = result["connect"] + result["read"] + result["write"] + result["status"]
    result["bytes_per_second"] = result["bytes"] / seconds_run if seconds_run else 0.0
    if server is not None and result["requests"]:
        result["cpu_us_per_request"] = (cpu_after - cpu_before) * 1e6 / result["requests"]
    if server is not None and result["bytes"]:
        result["cpu_seconds_per_gib"] = (cpu_after - cpu_before) / (result["bytes"] / 2**30)
    # The Lua scripts are the harness's own (above); their temporary directory is left out.
    return result, shlex.join(command).replace(directory, "$SCRIPTS")
