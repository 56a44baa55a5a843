#!/bin/bash
# tests/run-all.sh: the whole `make test` suite: host unit tests, then the QEMU runs; ends "N passed, M failed".
#
# usage: tests/run-all.sh HOST_TEST_BINARY...   (the Makefile passes the built host tests)
# Environment: CPUS_LIST (default "1 2 4 8") and ACCEL (default tcg).
set -u
cd "$(dirname "$0")/.."
results=build/test-logs/results.txt
mkdir -p build/test-logs
: > "$results"
run() { "$@" | tee -a "$results"; }

# Host unit tests print KTAP; turn each case into a PASS/FAIL line.
for bin in "$@"; do
    t=$(basename "$bin")
    out=$("$bin" 2>&1); status=$?
    echo "$out" > "build/test-logs/$t.log"
    cases=$(echo "$out" | grep -cE '^(not )?ok [0-9]+ ')
    echo "$out" | sed -nE "s/^ok [0-9]+ (.*)/PASS host\/$t\/\1/p; s/^not ok [0-9]+ (.*)/FAIL host\/$t\/\1/p" | tee -a "$results"
    if [ "$status" != 0 ] && ! echo "$out" | grep -qE '^not ok '; then
        echo "FAIL host/$t: exited with status $status and no failing case (crash?); see build/test-logs/$t.log" | tee -a "$results"
    fi
    [ "$cases" -gt 0 ] || echo "FAIL host/$t: reported no test cases" | tee -a "$results"
done

. tests/qemu-suite.sh

passed=$(grep -c '^PASS ' "$results")
failed=$(grep -c '^FAIL ' "$results")
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
