#!/usr/bin/env python3
"""Runs a command on a terminal of its own and types answers as a person
would: each answer only once the command has asked (its prompt, a text
the output must contain, has appeared since the last answer). A prompt
that turns echo off and flushes the input (rombsr's PIN prompts do) would
discard anything typed ahead.

Usage: tty-answer.py PROMPT ANSWER [PROMPT ANSWER ...] -- COMMAND [ARGS]
Prints everything the command wrote; exits with its status.
"""
import os
import pty
import sys
import time

args = sys.argv[1:]
split = args.index("--")
pairs = list(zip(args[:split:2], args[1:split:2]))
command = args[split + 1:]

pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

seen = b""
out = b""
deadline = time.monotonic() + 60
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    seen += chunk
    if pairs and pairs[0][0].encode() in seen:
        time.sleep(0.1)  # past tcsetattr's flush
        os.write(fd, pairs[0][1].encode() + b"\n")
        pairs.pop(0)
        seen = b""
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        break
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
