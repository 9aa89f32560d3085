"""In-container supervisor: runs the transform once per datum, on command from the host.

This file is bind-mounted read-only into the batch's container and started as its main
process, so each datum costs a fork/exec instead of a ``docker exec`` or a container start.
It uses only the standard library and avoids newer syntax so that any python3 in a user's
image can run it.

Protocol (one JSON object per line):
  host -> supervisor, on the ``cmd`` fifo: {"seq", "cmd", "env", "cwd", "stdin", "timeout",
      "log"}; an empty line asks the supervisor to exit.
  supervisor -> host, on the ``status`` fifo: first {"ready": true}, then per command
      {"seq", "exit_code", "timed_out", "error"}.
The transform's stdout and stderr go to the file named by ``log``, which the host tails.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys

KILL_GRACE_S = 5.0


def _kill_group(pgid, sig):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def run_one(msg):
    env = dict(os.environ)
    env.update(msg.get("env") or {})
    stdin_text = msg.get("stdin")
    timeout = msg.get("timeout")
    timed_out = False
    error = None
    with open(msg["log"], "ab", buffering=0) as log:
        try:
            proc = subprocess.Popen(
                msg["cmd"],
                env=env,
                cwd=msg.get("cwd") or None,
                stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group: a timeout or the end of the datum kills everything the
                # transform started, so nothing leaks into the next datum.
                start_new_session=True,
            )
        except OSError as err:
            error = "cannot start {!r}: {}".format(msg["cmd"], err)
            log.write((error + "\n").encode())
            return 127, False, error
        if stdin_text is not None:
            # A command that exits without reading its input is not an error.
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(stdin_text.encode())
                proc.stdin.close()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
            code = 124  # what coreutils `timeout` reports
        _kill_group(proc.pid, signal.SIGKILL)
    if code < 0:
        code = 128 - code  # killed by a signal, reported the way shells do
    return code, timed_out, error


def main(ctl_dir):
    # Outputs are moved away by the host, which may run as another uid: keep them writable.
    os.umask(0)
    with (
        open(os.path.join(ctl_dir, "status"), "w", buffering=1) as status,
        open(os.path.join(ctl_dir, "cmd")) as commands,
    ):
        status.write(json.dumps({"ready": True}) + "\n")
        for line in commands:
            if not line.strip():
                break
            msg = json.loads(line)
            code, timed_out, error = run_one(msg)
            reply = {"seq": msg["seq"], "exit_code": code, "timed_out": timed_out, "error": error}
            status.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
