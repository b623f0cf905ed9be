#!/bin/sh
# The one command that sets up and runs every test: installs the packages,
# builds, runs the whole suite, then builds again with AddressSanitizer and
# UBSan and runs the whole suite on that build.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/install-deps.sh
jobs=$(nproc)
make -j"$jobs"
tests/run build
make -j"$jobs" SANITIZE=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	tests/run build-asan
