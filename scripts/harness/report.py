"""benchmarks/results.md and its chart, from the harness's measurements."""
import textwrap
import statistics


def summarise(samples):
    """Median and spread (min..max) of each figure over the repetitions."""
    def spread(key):
        values = [sample[key] for sample in samples]
        return statistics.median(values), min(values), max(values)
    cpu = [sample["cpu_us_per_request"] for sample in samples if "cpu_us_per_request" in sample]
    per_gib = [sample["cpu_seconds_per_gib"] for sample in samples if "cpu_seconds_per_gib" in sample]
    return {
        "cpu_seconds_per_gib": statistics.median(per_gib) if per_gib else None,
        "rps": spread("rps"),
        "bytes_per_second": spread("bytes_per_second") if all("bytes_per_second" in s for s in samples) else None,
        "cpu_us_per_request": statistics.median(cpu) if cpu else None,
        "p50_us": spread("p50_us"),
        "p99_us": spread("p99_us"),
        "max_us": spread("max_us"),
        "errors": sum(sample["errors"] for sample in samples),
        "timeouts": sum(sample["timeout"] for sample in samples),
        # Per repetition, so a table can say in which run errors or timeouts came (one bad run, or every run).
        "errors_by_run": [sample["errors"] for sample in samples],
        "timeouts_by_run": [sample["timeout"] for sample in samples],
    }


def _count(summary, key):
    """A table's errors or timeouts cell: the total, and when there are some over several
    repetitions, which repetitions they came in ("61 (repetition 3)", "7 (repetitions 1: 2, 4: 5)")."""
    total, by_run = summary[key], summary.get(f"{key}_by_run", [])
    runs = [(number, count) for number, count in enumerate(by_run, start=1) if count]
    if not total or len(by_run) < 2:
        return f"{total:,}"
    if len(runs) == 1:
        return f"{total:,} (repetition {runs[0][0]})"
    return f"{total:,} (repetitions " + ", ".join(f"{number}: {count:,}" for number, count in runs) + ")"


def _latency(microseconds):
    return f"{microseconds / 1000:.2f} ms" if microseconds >= 1000 else f"{microseconds:.0f} µs"


def _percentile(spread):
    """wrk reports 0 when its coordinated-omission correction moves samples below the minimum."""
    median, low, _ = spread
    return "n/a" if low == 0 else _latency(median)


def _percentile_with_spread(spread):
    """The median and, below it, the runs' lowest and highest: a tail figure moves more between
    runs than a rate, and one slow run shows as a wide range, not as a different median."""
    median, low, high = spread
    if low == 0:
        return "n/a"
    return _latency(median) if len(set(spread)) == 1 else f"{_latency(median)}<br>({_latency(low)}–{_latency(high)})"


def _cpu(summary):
    """Server CPU time (user plus system, all processes) per request, median over the runs."""
    value = summary.get("cpu_us_per_request")
    return "–" if value is None else f"{value:.1f} µs"


def _bytes(count):
    return f"{count / (1024 * 1024):.1f} MiB"


def scenario_table(scenario, summaries, reference):
    lines = [f"### {scenario.title}", "",
             "| server | requests/s (median) | spread (min–max) | vs nginx | p50 | p99 | max | CPU/request | errors | timeouts |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    nginx_rps = summaries.get(reference, {}).get("rps", (0,))[0]
    for name, summary in summaries.items():
        median, low, high = summary["rps"]
        ratio = f"{median / nginx_rps:.2f}×" if nginx_rps else "–"
        lines.append(f"| {name} | {median:,.0f} | {low:,.0f}–{high:,.0f} | {ratio} | "
                     f"{_latency(summary['p50_us'][0])} | {_percentile(summary['p99_us'])} | "
                     f"{_latency(summary['max_us'][0])} | {_cpu(summary)} | "
                     f"{_count(summary, 'errors')} | {_count(summary, 'timeouts')} |")
    return "\n".join(lines) + "\n"


def memory_table(memory, count, measure="RSS"):
    lines = [f"| server | idle {measure} | {measure} holding connections | connections held | bytes per connection |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, figures in memory.items():
        lines.append(f"| {name} | {_bytes(figures['idle'])} | {_bytes(figures['loaded'])} | "
                     f"{figures['held']:,} of {count:,} | {figures['per_connection']:,.0f} |")
    return "\n".join(lines) + "\n"


def write_markdown(path, context):
    machine = context["machine"]
    parts = [
        "# Benchmark results",
        "",
        f"Written by `{context['invocation']}` on {context['date']}. Every figure below comes from that run;",
        "servers alternate within each repetition and the order rotates between repetitions.",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, Linux {machine['kernel']}",
        f"- Load generator: {machine['wrk']}, one thread (`wrk -t1`), on the same machine as the servers",
        f"- Peers: {machine['nginx']} ({context['workers']} workers, `return 200`, reuseport, access log off); "
        "Hummingbird 2 (`benchmarks/peers/hello-hummingbird`, release build)",
        f"- Mode: {context['mode']}: {context['repetitions']} repetitions of {context['seconds']} s per run",
        "",
        "## Requests per second and latency",
        "",
    ]
    for scenario in context["scenarios"]:
        parts.append(scenario_table(scenario, context["summaries"][scenario.key], "nginx"))
    parts += ["CPU/request is the server's CPU time (user plus system, of every process of the server, read from",
              "`/proc/PID/stat` before and after the run) divided by the requests answered: where wrk's one thread",
              "is the limit (the keep-alive rows on two cores), requests/s cannot separate the servers, but this can.",
              "",
              "Latency is measured by wrk per request, or per batch of 16 in the pipelined scenario. wrk corrects",
              "its latencies for coordinated omission assuming one request per interval; with pipelining that",
              "correction can push samples below the minimum, and wrk then reports a percentile of 0, shown as n/a.",
              "", "![requests per second by scenario](results.png)", ""]
    if context.get("memory"):
        parts += [f"## Memory per idle keep-alive connection", "",
                  "Total resident memory of every process of the server (master and workers), idle and while "
                  f"{context['memory_count']:,} keep-alive connections that have each been answered once are held "
                  "open. Kernel socket memory is not part of any process's RSS and is the same for all.", "",
                  memory_table(context["memory"], context["memory_count"])]
    if context.get("instructions"):
        whole, parser, arc = context["instructions"]
        parts += ["## Instructions per request (callgrind)", "",
                  "User-space instructions counted by `valgrind --tool=callgrind` for a 595-byte browser request "
                  "on one keep-alive connection to one worker (difference of two runs, so start-up cancels out). "
                  "Stable across runs, unlike wall-clock time; syscalls' kernel work is not included.", "",
                  "| what | instructions per request |", "| --- | ---: |",
                  f"| one request through a worker (epoll dispatch, read, parse, handler, serialise, write) | {whole:,.0f} |",
                  f"| the parser alone (`RequestParser.parse`) | {parser:,.0f} |", "",
                  "Calls into the Swift runtime's reference counting (`swift_retain`, `swift_release` and their "
                  "bridge-object, unknown-object and `_n` forms) counted in the same profile: "
                  f"**{arc:,.2f} per request** through a worker.", ""]
        if context.get("baseline_instructions"):
            commit, (base_whole, base_parser, base_arc) = context["baseline_instructions"]
            parts += [f"The same three figures for the baseline {commit}, built from that revision in the same run:", "",
                      "| what | baseline | now |", "| --- | ---: | ---: |",
                      f"| one request through a worker | {base_whole:,.0f} | {whole:,.0f} |",
                      f"| the parser alone | {base_parser:,.0f} | {parser:,.0f} |",
                      f"| retains and releases | {base_arc:,.2f} | {arc:,.2f} |", ""]
    parts += ["## Commands", "", "Every wrk command, exactly as run (ports differ per run; `$SCRIPTS` is the temporary directory where the harness writes the Lua scripts of `scripts/harness/load.py`):", "", "```"]
    parts += sorted(set(context["commands"]))
    parts += ["```", "", "Servers:", "", "```"]
    parts += sorted(set(context["server_commands"]))
    parts += ["```", ""]
    with open(path, "w") as out:
        out.write("\n".join(parts))


def write_chart(path, pyplot, scenarios, summaries, columns=None):
    """One horizontal bar chart per scenario: ours in blue, nginx in orange, the rest in green.
    Large-file scenarios (`throughput`) show MiB/s, the others thousand requests/s."""
    columns = columns or len(scenarios)
    rows = -(-len(scenarios) // columns)
    figure, axes = pyplot.subplots(rows, columns, figsize=(4.2 * columns, 4.8 * rows), squeeze=False)
    axes = [axis for row in axes for axis in row]
    for axis in axes[len(scenarios):]:
        axis.set_visible(False)
    for axis, scenario in zip(axes, scenarios):
        names = list(summaries[scenario.key].keys())
        throughput = getattr(scenario, "throughput", False)
        values = [summaries[scenario.key][name]["bytes_per_second"][0] / 2**20 if throughput
                  else summaries[scenario.key][name]["rps"][0] / 1000 for name in names]
        colours = ["#4c72b0" if name.startswith("server") else "#dd8452" if name == "nginx" else "#55a868"
                   for name in names]
        axis.barh(names, values, color=colours)
        axis.invert_yaxis()
        axis.set_title(textwrap.fill(scenario.title, 36), fontsize=10)
        axis.set_xlabel("MiB/s (median)" if throughput else "thousand requests/s (median)")
        for index, value in enumerate(values):
            axis.text(value, index, f" {value:,.0f}" + ("" if throughput else "k"), va="center", fontsize=8)
        axis.margins(x=0.25)
        # Every chart lists the same servers in the same order: only the first of each row names them.
        if axes.index(axis) % columns != 0:
            axis.set_yticklabels([])
    figure.tight_layout()
    figure.savefig(path, dpi=110)


MODELS_BEGIN = "<!-- models:begin (written by scripts/bench; do not edit by hand) -->"
MODELS_END = "<!-- models:end -->"


def _models_rps(summary):
    """Median requests/s; a model whose runs all overran their time limit shows as such."""
    if summary.get("did_not_finish"):
        return "did not finish"
    return f"{summary['rps'][0]:,.0f}"


def models_section(context):
    """The seven models beside nginx: one throughput table, the memory table, the chart."""
    scenarios = context["scenarios"]
    summaries = context["summaries"]
    names = list(summaries[scenarios[0].key].keys())
    parts = [MODELS_BEGIN, "## The seven models beside nginx", "",
             f"Written by `{context['invocation']}` on {context['date']}: {context['repetitions']} repetition(s) of "
             f"{context['seconds']} s per run (shorter than the main tables, to keep the models run near ten minutes), "
             f"the same wrk scenarios, each model started fresh for each repetition. A wrk run that overruns its "
             f"duration by {context['grace']} s is stopped and recorded as 0 (\"did not finish\"). "
             "Requests/s are medians. wrk runs with `--timeout 2s` here, so a request a model leaves waiting "
             "(a connection it has not accepted, or served only after 2 s) counts as a timeout; timeouts and "
             "errors are summed over the repetitions.", "",
             "| model | " + " | ".join(scenario.title for scenario in scenarios) + " | wrk timeouts | errors |",
             "| --- | " + " | ".join("---:" for _ in scenarios) + " | ---: | ---: |"]
    for name in names:
        cells = [_models_rps(summaries[scenario.key][name]) for scenario in scenarios]
        timeouts = sum(summaries[scenario.key][name]["timeouts"] for scenario in scenarios)
        errors = sum(summaries[scenario.key][name]["errors"] for scenario in scenarios)
        parts.append(f"| {name} | " + " | ".join(cells) + f" | {timeouts:,} | {errors:,} |")
    parts += ["", "![requests per second by model](models.png)", ""]
    if context.get("memory"):
        parts += ["### Memory per idle keep-alive connection", "",
                  f"The event-driven models and nginx are asked to hold {context['memory_count']:,} idle keep-alive "
                  "connections; a blocking model holds one per process or thread, so it is given connections until "
                  "the first one it does not answer within 2 s, and the table says how many that was. Every model "
                  "runs with `--keepalive-timeout 600`, as nginx does here. Memory here is the proportional set "
                  "size (Pss) of every process, so pages that forked processes share are counted once, not once "
                  "per process as in the VmRSS of the main table.", "",
                  memory_table(context["memory"], context["memory_count"], measure="Pss")]
    parts += ["Commands:", "", "```", *context["commands"], *context["server_commands"], "```", MODELS_END, ""]
    return "\n".join(parts)


def summarise_models(samples):
    """summarise() per model and scenario, marking models none of whose runs finished."""
    summaries = {}
    for key, by_server in samples.items():
        summaries[key] = {}
        for name, runs in by_server.items():
            summary = summarise(runs)
            summary["did_not_finish"] = all(run.get("did_not_finish") for run in runs)
            summaries[key][name] = summary
    return summaries


def splice_models_section(path, section):
    """Puts the models section into results.md in place of the previous one (or at the end)."""
    splice_section(path, section, MODELS_BEGIN, MODELS_END)


def splice_section(path, section, begin, end):
    """Puts a section written between the markers `begin` and `end` into results.md in place
    of the previous one (or at the end)."""
    try:
        with open(path) as existing:
            text = existing.read()
    except FileNotFoundError:
        text = "# Benchmark results\n\n"
    if begin in text and end in text:
        before = text[:text.index(begin)]
        after = text[text.index(end) + len(end):].lstrip("\n")
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as out:
        out.write(text)


def existing_models_section(path):
    """The models section already in results.md, kept when only the main tables are rewritten."""
    return existing_section(path, MODELS_BEGIN, MODELS_END)


def existing_section(path, begin, end):
    """A section already in results.md between the markers, kept when other parts are rewritten."""
    try:
        with open(path) as existing:
            text = existing.read()
    except FileNotFoundError:
        return None
    if begin not in text or end not in text:
        return None
    return text[text.index(begin):text.index(end) + len(end)] + "\n"


def _mebibytes_per_second(summary):
    spread = summary.get("bytes_per_second")
    return "–" if spread is None else f"{spread[0] / 2**20:,.0f}"


def files_table(scenario, summaries):
    """One static-files scenario: the ratio to nginx is of bytes/s for the large files
    (where bytes, not requests, are the work) and of requests/s otherwise."""
    figure = "bytes_per_second" if scenario.throughput else "rps"
    extra = " | CPU s per GiB" if scenario.throughput else ""
    lines = [f"### {scenario.title}", "",
             f"| server | requests/s (median) | MiB/s | vs nginx | p50 | p99 (runs' range) | CPU/request{extra} | errors | timeouts |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |" + (" ---: |" if extra else "") + " ---: | ---: |"]
    reference = summaries.get("nginx", {}).get(figure)
    for name, summary in summaries.items():
        ratio = f"{summary[figure][0] / reference[0]:.2f}×" if reference and reference[0] else "–"
        per_gib = ""
        if extra:
            value = summary.get("cpu_seconds_per_gib")
            per_gib = " | –" if value is None else f" | {value:.2f}"
        lines.append(f"| {name} | {summary['rps'][0]:,.0f} | {_mebibytes_per_second(summary)} | {ratio} | "
                     f"{_latency(summary['p50_us'][0])} | {_percentile_with_spread(summary['p99_us'])} | {_cpu(summary)}{per_gib} | "
                     f"{_count(summary, 'errors')} | {_count(summary, 'timeouts')} |")
    return "\n".join(lines) + "\n"


def files_section(context, begin, end):
    """Static files against nginx: every scenario's table, the chart, the commands."""
    parts = [begin, "## Static files against nginx", "",
             f"Written by `{context['invocation']}` on {context['date']}: {context['repetitions']} repetition(s) of "
             f"{context['seconds']} s per run, the servers alternating. Both serve the same directory of files "
             "written for the run (random bytes, and generated HTML for the text files). nginx runs with "
             "`sendfile on; tcp_nopush on; open_file_cache max=10000 inactive=60s; open_file_cache_valid 60s; "
             f"access_log off; gzip on; gzip_comp_level {context['gzip_level']}` and the same worker count; this "
             f"server with `--root DIR --gzip --gzip-level {context['gzip_level']}`. Gzip applies only where the "
             "client asks for it (the last scenario). Requests/s are medians; MiB/s counts response bytes (head "
             "and body) as wrk read them; CPU/request and CPU s per GiB are the server's user plus system time "
             "over the run, every process.", ""]
    for scenario in context["scenarios"]:
        parts.append(files_table(scenario, context["summaries"][scenario.key]))
    parts += ["![static files: requests/s or MiB/s by scenario](files.png)", "",
              "Commands:", "", "```", *context["commands"], *context["server_commands"], "```", end, ""]
    return "\n".join(parts)


def _ratio(ours, theirs):
    return f"{ours / theirs:.2f}×" if theirs else "–"


def applications_report(context):
    """benchmarks/applications/results.md: the example service against its Hummingbird twin,
    memory per idle connection, the blocking route beside /health, the three handler shapes."""
    ours, theirs = context["ours"], context["theirs"]
    lines = ["# Application code: the example service against its Hummingbird 2 twin", "",
             f"Written by `{context['invocation']}` on {context['date']} ({context['machine']['cpu']}, "
             f"{context['machine']['cores']} cores, Linux {context['machine']['kernel']}, {context['machine']['wrk']}). "
             f"{context['repetitions']} repetition(s) of {context['seconds']} s per scenario, servers alternated, "
             "medians; one wrk thread. The machine was shared with other work while this ran: "
             "treat the figures as one noisy run and re-run the command to check them.", "",
             "Both services run on their own copy of one freshly seeded SQLite database "
             f"({context['seeded']} rows, WAL), the same schema and SQL, every statement cached. "
             f"The example service runs {context['workers']} workers; Hummingbird its default event loops.", "",
             f"| scenario | {ours} | {theirs} | ratio | p99 {ours} / {theirs} | CPU/request {ours} / {theirs} |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for scenario in context["scenarios"]:
        mine, other = context["summaries"][scenario.key][ours], context["summaries"][scenario.key][theirs]
        lines.append(f"| {scenario.title} | {mine['rps'][0]:,.0f}/s | {other['rps'][0]:,.0f}/s | "
                     f"{_ratio(mine['rps'][0], other['rps'][0])} | {_percentile(mine['p99_us'])} / "
                     f"{_percentile(other['p99_us'])} | {_cpu(mine)} / {_cpu(other)} |")
    foundation = context["foundation_json"]
    lines += ["", f"The example service writes JSON with the server's streaming encoder (ServerJSON); the twin with "
              f"Foundation's JSONEncoder. The same example service with `--foundation-json` (JSONEncoder too), "
              "alternated with the two above:", "",
              f"| scenario | {foundation} | ratio to the twin | p99 | CPU/request |", "| --- | ---: | ---: | ---: | ---: |"]
    for scenario in context["scenarios"]:
        mine, other = context["summaries"][scenario.key][foundation], context["summaries"][scenario.key][theirs]
        lines.append(f"| {scenario.title} | {mine['rps'][0]:,.0f}/s | {_ratio(mine['rps'][0], other['rps'][0])} | "
                     f"{_percentile(mine['p99_us'])} | {_cpu(mine)} |")
    names = (ours, theirs, foundation)
    errors = {name: sum(context["summaries"][s.key][name]["errors"] for s in context["scenarios"]) for name in names}
    lines += ["", "Errors over all runs: " + ", ".join(f"{name} {errors[name]}" for name in names) + ".", "",
              "## Memory per idle keep-alive connection", "",
              "Each connection asks `GET /todos/1` once and is held open.", "",
              memory_table(context["memory"], context["memory_count"]).rstrip(), ""]
    slow = context["slow"]
    alone, loaded, blocked = slow["alone"], slow["loaded"], slow["slow"]
    lines += ["## A handler that blocks 50 ms beside /health", "",
              f"`GET /slow` sleeps 50 ms on the handler pool; wrk keeps {context['slow_in_flight']} of them in flight "
              f"on {context['slow_workers']} workers ({slow['threads']} pool threads) while another wrk asks "
              f"`GET /health` on {context['health_connections']} connections.", "",
              "| figure | value |", "| --- | ---: |",
              f"| /health p99 without load | {_latency(alone['p99_us'])} |",
              f"| /health p99 with /slow in flight | {_latency(loaded['p99_us'])} |",
              f"| difference | {_latency(max(0, loaded['p99_us'] - alone['p99_us']))} "
              f"({'within' if loaded['p99_us'] - alone['p99_us'] <= 2000 else 'NOT within'} 2 ms) |",
              f"| /health requests/s without / with load | {alone['rps']:,.0f} / {loaded['rps']:,.0f} |",
              f"| /slow requests/s | {blocked['rps']:,.0f} |",
              f"| threads ÷ 50 ms | {slow['expected_slow_rps']:,.0f} |",
              f"| errors (/health, /slow) | {alone['errors'] + loaded['errors']}, {blocked['errors']} |", "",
              "## The three handler shapes (example-server)", "",
              "| handler | requests/s | vs inline | p99 | CPU/request |", "| --- | ---: | ---: | ---: | ---: |"]
    shapes = context["shapes"]
    inline = shapes[context["shape_scenarios"][0].key]["example-server"]["rps"][0]
    for scenario in context["shape_scenarios"]:
        summary = shapes[scenario.key]["example-server"]
        lines.append(f"| {scenario.title} | {summary['rps'][0]:,.0f} | {_ratio(summary['rps'][0], inline)} | "
                     f"{_percentile(summary['p99_us'])} | {_cpu(summary)} |")
    lines += ["", "Commands:", "", "```", *context["commands"], *context["server_commands"], "```", ""]
    return "\n".join(lines).replace(context["root"] + "/", "")
