"""What the harness needs from the machine: Debian packages, raised limits, a description."""
import os
import platform
import resource
import shutil
import subprocess
import sys

PACKAGES = {"wrk": "wrk", "nginx": "nginx-light", "valgrind": "valgrind", "openssl": "openssl"}


def progress(message):
    """One progress line on stderr (the run is long; stdout stays clean)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def ensure_tools(names):
    """Installs the Debian packages for any missing tool (apt-get update first)."""
    missing = [PACKAGES[name] for name in names if shutil.which(name) is None]
    if not missing:
        return
    progress(f"installing {' '.join(missing)} with apt-get")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    # Debian starts the nginx service on install; the harness runs its own.
    subprocess.run(["sh", "-c", "command -v nginx >/dev/null && nginx -s stop 2>/dev/null; true"])


def ensure_matplotlib():
    """Imports matplotlib, installing it from PyPI for this user if needed; None if impossible."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        progress("installing matplotlib with pip")
        result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--user", "matplotlib"])
        if result.returncode != 0:
            return None
        import site
        sys.path.append(site.getusersitepackages())
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def raise_open_file_limit():
    """Raises RLIMIT_NOFILE to the hard limit; servers started later inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def description():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0].strip()
        if shutil.which("wrk") else "not installed",
        "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
        if shutil.which("nginx") else "not installed",
    }
