"""Processes: tools the harness needs, servers it starts and stops, commands it times.

Every process started here is bounded in time, and every server is stopped when its `with`
block ends, whatever happened inside it.
"""

import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.path.join(ROOT, "target")
VENV = os.path.join(TARGET, "bench-venv")
REQUIREMENTS = os.path.join(ROOT, "bench", "requirements.txt")


def log(message):
    """Progress goes to stderr, so that stdout holds only the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ensure_apt(binary, package):
    """Installs a Debian package when `binary` is missing."""
    if shutil.which(binary):
        return
    log(f"{binary} is missing; installing the Debian package {package}")
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, timeout=600)


def ensure_venv():
    """The virtualenv holding Datasette and matplotlib (bench/requirements.txt); returns its bin dir."""
    bin_dir = os.path.join(VENV, "bin")
    stamp = os.path.join(VENV, "requirements.txt")
    wanted = open(REQUIREMENTS).read()
    if os.path.exists(stamp) and open(stamp).read() == wanted:
        return bin_dir
    log(f"creating the virtualenv {os.path.relpath(VENV, ROOT)} (Datasette, matplotlib)")
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True, timeout=300)
    subprocess.run([os.path.join(bin_dir, "pip"), "install", "-q", "-r", REQUIREMENTS], check=True, timeout=900)
    with open(stamp, "w") as f:
        f.write(wanted)
    return bin_dir


def free_port():
    """A port free on 127.0.0.1 right now (for servers that cannot pick one themselves)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process, stopped (SIGTERM, then SIGKILL) when the `with` block ends."""

    def __init__(self, name, cmd, log_path, stdout_to_log=False):
        """Starts `cmd`, its stderr going to `log_path`; so does its stdout with `stdout_to_log`,
        otherwise stdout is read by [`wait_for_line`] (and drained after it)."""
        self.name = name
        self.base = None
        self._log = open(log_path, "w")
        log(f"starting {name}")
        stdout = self._log if stdout_to_log else subprocess.PIPE
        self.proc = subprocess.Popen(cmd, stdout=stdout, stderr=self._log, text=True)
        self._peak_anon_kib = 0
        self._stopped = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self.proc.pid

    def wait_for_line(self, prefix, timeout):
        """Waits for the first stdout line starting with `prefix` and returns the rest of it."""
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while time.monotonic() < deadline:
                if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    continue
                line = self.proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"{self.name} exited before printing `{prefix}` (see {self._log.name})")
                if line.startswith(prefix):
                    # Whatever else the server prints must not fill the pipe and block it.
                    threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                    return line[len(prefix):].strip()
        finally:
            sel.close()
        raise RuntimeError(f"{self.name} did not print `{prefix}` within {timeout} s (see {self._log.name})")

    def wait_for_http(self, url, timeout):
        """Waits until `url` answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up (see {self._log.name})")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            # Polling an external process that gives no other readiness signal.
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout} s (see {self._log.name})")

    def peak_rss_kib(self):
        """The process's peak resident set size so far (VmHWM), in KiB. It counts the pages of
        memory-mapped files as well as the heap."""
        return self._status("VmHWM")

    def peak_anon_kib(self):
        """The largest anonymous resident memory (heap and stacks, no mapped files) seen so far,
        sampled ten times a second, in KiB."""
        return max(self._peak_anon_kib, self._status("RssAnon"))

    def _status(self, field):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M).group(1))

    def _sample(self):
        while not self._stopped.wait(0.1):
            try:
                self._peak_anon_kib = max(self._peak_anon_kib, self._status("RssAnon"))
            except (OSError, AttributeError):
                return

    def stop(self):
        self._stopped.set()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
            log(f"stopped {self.name}")
        self._log.close()


def timed(cmd, timeout, stdout=subprocess.DEVNULL, env=None):
    """Runs `cmd` to its end, or kills it after `timeout` seconds.

    Returns (seconds, peak RSS in KiB, exit code, stderr text, timed out). The peak RSS comes
    from the kernel's accounting of the child (wait4), so it covers the whole run.
    """
    with tempfile.TemporaryFile(mode="w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=err, env=env)
        killed = threading.Event()

        def kill():
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return seconds, usage.ru_maxrss, proc.returncode, err.read(), killed.is_set()
