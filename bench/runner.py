"""Running the measured processes of the speed judge, and what the machine was doing meanwhile.

Every process runs under `/usr/bin/time -v` (its report goes to a file of its own, so the
process's stdout/stderr stay clean) for its peak memory, in a session of its own so that a
budget can kill it with all its threads and children.
"""

import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIME_BIN = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
MAX_RSS = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class Result:
    """One finished (or killed) process: stdout, stderr, wall seconds, peak RSS in MB."""

    def __init__(self, stdout, stderr, wall, rss_mb, returncode, timed_out):
        self.stdout, self.stderr, self.wall = stdout, stderr, wall
        self.rss_mb, self.returncode, self.timed_out = rss_mb, returncode, timed_out

    def last_json(self):
        lines = [line for line in self.stdout.strip().splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else None


def run(cmd, timeout=None, env=None):
    """Runs cmd; past `timeout` seconds its whole session is killed (Result.timed_out)."""
    report = tempfile.NamedTemporaryFile(prefix="bench-time-", suffix=".txt", delete=False)
    report.close()
    full = [TIME_BIN, "-v", "-o", report.name, *cmd] if TIME_BIN else list(cmd)
    t0 = time.perf_counter()
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    rss = None
    try:
        m = MAX_RSS.search(Path(report.name).read_text())
        rss = int(m.group(1)) / 1024 if m else None
    finally:
        os.unlink(report.name)
    return Result(out, err, wall, rss, proc.returncode, timed_out)


def system_info(repo, binary):
    info = {"platform": platform.platform(), "nproc": os.cpu_count(), "time_bin": TIME_BIN}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
        info["cpu_model"] = m.group(1).strip() if m else "unknown"
    except OSError:
        info["cpu_model"] = "unknown (no lscpu)"
    info["openblas_env"] = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                       "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                            if k in os.environ}
    try:
        rev = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "Sources", "Package.swift"],
                               capture_output=True, text=True).stdout.strip()
        info["git"] = rev + (" + uncommitted changes in Sources/" if dirty else "")
    except OSError:
        info["git"] = "unknown"
    try:
        info["healthscore_version"] = subprocess.run([binary, "--version"], capture_output=True,
                                                     text=True).stdout.strip()
    except OSError:
        info["healthscore_version"] = "unknown"
    info["rscript"] = shutil.which("Rscript")
    return info


def cpu_seconds_busy():
    """All CPUs' busy time so far (/proc/stat), in seconds."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def own_cpu_seconds():
    """CPU time of this process and of the children it has waited for."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def loadavg():
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


class LoadMeter:
    """Share of all CPUs that processes other than this benchmark used since start()."""

    def start(self):
        self.load_start = loadavg()
        self.busy, self.own, self.wall = cpu_seconds_busy(), own_cpu_seconds(), time.perf_counter()
        return self

    def stop(self):
        self.load_end = loadavg()
        wall = time.perf_counter() - self.wall
        others = (cpu_seconds_busy() - self.busy) - (own_cpu_seconds() - self.own)
        self.others_share = max(0.0, others) / (wall * (os.cpu_count() or 1))
        self.seconds = wall
        return self
