#!/usr/bin/env bash
# Runs one test program of the ASan/UBSan build so that any sanitizer
# report fails it. Criterion runs each test in a forked worker and ignores
# how the worker exits after reporting, so a leak found at the worker's exit
# would pass unnoticed; here every report goes to a log file and the run
# fails if any log exists.
set -u
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$logs/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
"$@"
rc=$?
if compgen -G "$logs/*" >/dev/null; then
    cat "$logs"/* >&2
    echo "sanitize-run: sanitizer reports above" >&2
    exit 1
fi
exit $rc
