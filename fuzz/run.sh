#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, one after the other, single job.
#
#   fuzz/run.sh [seconds-per-target]        (default 60)
#
# Environment: TARGETS="xml_parse xpath" to run a subset; FUZZ_TIMEOUT (seconds per input,
# default 1); FUZZ_SANITIZER (address | none, default address).
#
# New inputs are merged into the kept corpus (fuzz/corpus/<target>) and the corpus is then
# minimised (libFuzzer -merge=1 into an empty folder, what `cargo fuzz cmin` does), so the
# kept corpus stays small. Crashes, timeouts and OOMs land in fuzz/artifacts/<target>/.
# Exits non-zero if any target found one.
set -u -o pipefail

SECONDS_PER_TARGET="${1:-60}"
TIMEOUT="${FUZZ_TIMEOUT:-1}"
SANITIZER="${FUZZ_SANITIZER:-address}"
ALL_TARGETS="xml_parse xpath axis2_config synapse_config cert_header"
TARGETS="${TARGETS:-$ALL_TARGETS}"

FUZZ_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
cd "$ROOT" || exit 2

# cargo-fuzz passes nightly-only flags (-Zsanitizer=…, -Cpasses=sancov-module, -Z options to
# cargo). Only stable Rust is installed here, and stable rustc/cargo accept -Z flags when
# RUSTC_BOOTSTRAP=1 is set. This is for the fuzz build only; nothing else is built this way.
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "installing cargo-fuzz…" >&2
    cargo install cargo-fuzz --locked || exit 2
fi

BUILD_FLAGS=(-O -a -s "$SANITIZER")
cargo fuzz build "${BUILD_FLAGS[@]}" || exit 2
BIN_DIR="$FUZZ_DIR/target/x86_64-unknown-linux-gnu/release"

LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mediate-fuzz-run.XXXXXX")"
failed=0
summary=()
for t in $TARGETS; do
    corpus="$FUZZ_DIR/corpus/$t"
    artifacts="$FUZZ_DIR/artifacts/$t"
    scratch="$LOG_DIR/$t-new"
    mkdir -p "$corpus" "$artifacts" "$scratch"
    before=$(find "$artifacts" -type f | wc -l)
    log="$LOG_DIR/$t.log"
    started=$SECONDS
    echo "=== $t: ${SECONDS_PER_TARGET}s (log: $log)" >&2
    # The binary built above, run directly (what `cargo fuzz run` does) so that a source
    # change during the run cannot trigger a rebuild between targets. New inputs go to
    # $scratch (the first folder); the kept corpus is read as seeds.
    "$BIN_DIR/$t" \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout="$TIMEOUT" \
        -dict="$FUZZ_DIR/xml.dict" -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$scratch" "$corpus" >"$log" 2>&1
    rc=$?
    elapsed=$((SECONDS - started))
    after=$(find "$artifacts" -type f | wc -l)
    crashes=$((after - before))
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        failed=1
        grep -E "^(==[0-9]+==ERROR|SUMMARY|thread '.*' panicked)|panicked at|artifact_prefix|Test unit written" "$log" | head -5 >&2
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')

    # Merge the kept corpus and the new inputs into an empty folder (= minimise, what
    # `cargo fuzz cmin` does), then keep that. A set cover over edges (hit counts ignored)
    # keeps every covered edge with far fewer files than the default merge.
    merged="$LOG_DIR/$t-merged"
    mkdir -p "$merged"
    if "$BIN_DIR/$t" -set_cover_merge=1 -use_counters=0 -rss_limit_mb=2048 -timeout="$TIMEOUT" -artifact_prefix="$artifacts/" \
        "$merged" "$corpus" "$scratch" >"$LOG_DIR/$t-merge.log" 2>&1 && [ -n "$(ls -A "$merged")" ]; then
        rm -rf "$corpus" && mv "$merged" "$corpus"
    else
        echo "$t: corpus merge failed (see $LOG_DIR/$t-merge.log); kept the old corpus" >&2
    fi
    size=$(find "$corpus" -type f | wc -l)
    line="$t: ${elapsed}s (budget ${SECONDS_PER_TARGET}s), execs=${execs:-?}, exec/s=${rate:-?}, corpus=$size, crashes=$crashes, exit=$rc"
    summary+=("$line")
    echo "$line" >&2
done

echo
echo "fuzz summary (logs in $LOG_DIR):"
printf '%s\n' "${summary[@]}"
exit "$failed"
