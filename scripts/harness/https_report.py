"""benchmarks/https.md: the HTTPS run against nginx (harness/tls.py), one section per key type."""
import statistics

from . import report, tls


def _handshake_summary(runs):
    def median(key):
        values = [run[key] for run in runs if key in run]
        return statistics.median(values) if values else None
    return {"rate": median("handshakes_per_second"), "cpu": median("cpu_us_per_handshake"),
            "resumed": median("resumed_share"), "connections": sum(run["connections"] for run in runs)}


def handshake_table(handshakes):
    lines = ["| server | handshakes | handshakes/s (median) | vs nginx | CPU per handshake | resumed | connections |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for key, title, _ in tls.HANDSHAKES:
        by_server = {name: _handshake_summary(runs) for name, runs in handshakes[key].items()}
        reference = by_server.get("nginx", {}).get("rate")
        for name, summary in by_server.items():
            ratio = f"{summary['rate'] / reference:.2f}×" if reference else "–"
            cpu = "–" if summary["cpu"] is None else f"{summary['cpu']:.0f} µs"
            lines.append(f"| {name} | {title} | {summary['rate']:,.0f} | {ratio} | {cpu} | "
                         f"{summary['resumed'] * 100:.0f}% | {summary['connections']:,} |")
    retried = [f"{title} against {name}" for key, title, _ in tls.HANDSHAKES
               for name, runs in handshakes[key].items() for run in runs if run.get("retried")]
    if retried:
        lines.append("")
        lines.append("A batch in which an s_time printed no count was run once more: " + ", ".join(retried) + ".")
    return "\n".join(lines) + "\n"


def key_section(section, context):
    leaf = section["leaf"]
    summaries = {key: {name: report.summarise(runs) for name, runs in by_server.items()}
                 for key, by_server in section["samples"].items()}
    parts = [f"## {leaf.title}", ""]
    for name, reason in section["skipped"].items():
        parts += [f"**{name} is not in this section**: it did not accept the TLS listener: `{reason}`", ""]
    for scenario in tls.SCENARIOS:
        parts.append(report.files_table(scenario, summaries[scenario.key]))
    parts += ["### Handshakes per second (openssl s_time)", "",
              f"{context['clients']} `openssl s_time` processes at once, each connecting, handshaking, sending "
              f"`GET {tls.SMALL_PATH} HTTP/1.0` and reading the answer in a loop; handshakes/s is every process's "
              "connections over the wall time of the run. Resumed: the share of connections s_time marks as having "
              "resumed their session (with `-reuse`, every one after its first should).", "",
              handshake_table(section["handshakes"]),
              "### Memory per idle TLS keep-alive connection", "",
              f"Resident memory of every process of the server, idle and while {context['connections']:,} TLS "
              "keep-alive connections (Python `ssl` clients, certificate verified), each answered once, are held "
              "open. Kernel socket memory is in no process's RSS.", "",
              report.memory_table(section["memory"], context["connections"]),
              "Commands:", "", "```", *section["commands"], *section["server_commands"], "```", ""]
    return "\n".join(parts)


def write(path, context, sections):
    machine = context["machine"]
    nginx_conf = tls.NGINX_CONF.format(workers=context["workers"], nofile="NOFILE", dir="$NGINX", port="PORT",
                                       root="$TLS/root", certificate="$TLS/KEY.pem", key="$TLS/KEY.key",
                                       ciphers=tls.INTERMEDIATE_CIPHERS)
    parts = ["# HTTPS against nginx", "",
             f"Written by `{context['invocation']}` on {context['date']}: {context['repetitions']} repetition(s) of "
             f"{context['seconds']} s per run (keep-alive with 512 connections at least "
             f"{tls.KEEPALIVE512_SECONDS} s: the 512 handshakes at its start are then under 0.5% of its "
             "requests), the servers alternating and the order rotating between repetitions. "
             "Both servers use the same throwaway certificate chain and key (made by the run with the openssl "
             "command-line tool: a CA and an ECDSA P-256 and an RSA 2048 leaf for localhost), serve the same "
             f"directory (`{tls.SMALL_PATH}`, {len(tls.SMALL_BODY)} bytes; `{tls.LARGE_PATH}`, 1 MiB of random bytes) "
             f"with {context['workers']} workers each, and speak TLS 1.2 and 1.3 with HTTP/1.1. Requests/s and "
             "handshakes/s are medians; CPU/request is the server's user plus system time over the run, every "
             "process, per request answered. The machine is shared: treat differences under about 10% as noise.", "",
             f"- Machine: {machine['cpu']}, {machine['cores']} cores, Linux {machine['kernel']}",
             f"- Load generators: {machine['wrk']} (`wrk -t1`, https URLs; a new wrk connection resumes the session of its last one), "
             f"{context['openssl']} (`s_time`), Python {context['python']} `ssl`",
             f"- nginx: {machine['nginx']}", "",
             *[key_section(section, context) for section in sections],
             "## nginx's configuration", "", "```nginx", nginx_conf.rstrip("\n"), "```", ""]
    with open(path, "w") as out:
        out.write("\n".join(parts))
