#!/usr/bin/env bash
# Build the compiled modules with AddressSanitizer + UBSan and run the parity, malformed-
# input, robustness, time-grid and JSON tests and the fuzz corpora under them. Any
# sanitizer report aborts the run (exit != 0).
#
#   tools/sanitize.sh                 # or: make sanitize
#   SANITIZE_DIR=/tmp/x FUZZ_SECONDS=300 tools/sanitize.sh
#
# The build happens in a copy of the sources under $SANITIZE_DIR (cythonize writes _parse.c
# beside the .pyx): src/ and the installed package are never touched. The instrumented
# package is then imported through PYTHONPATH, with libasan preloaded into the interpreter.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${SANITIZE_DIR:-/tmp/vp-asan}
FUZZ_SECONDS=${FUZZ_SECONDS:-120}
PYTHON=${PYTHON:-python}

rm -rf "$OUT"
mkdir -p "$OUT/src-copy" "$OUT/lib"
cp "$REPO/setup.py" "$REPO/pyproject.toml" "$OUT/src-copy/"
cp -r "$REPO/src" "$OUT/src-copy/src"
find "$OUT/src-copy/src" \( -name '*.so' -o -name '*.c' -o -name '__pycache__' \) -prune \
    -exec rm -rf {} +

echo "== building the core with -fsanitize=address,undefined in $OUT"
(cd "$OUT/src-copy" && VITALPROC_SANITIZE=1 "$PYTHON" setup.py -q build_ext \
    --build-lib "$OUT/lib" --build-temp "$OUT/tmp")
# The pure-Python package beside the instrumented extension.
(cd "$OUT/src-copy/src" && find vitalproc -type f ! -name '*.pyx' ! -name '*.c' \
    -exec install -D -m 644 {} "$OUT/lib/{}" \;)

export PYTHONPATH="$OUT/lib"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
# CPython frees little at exit, so leak reports are noise; every other report is fatal.
# Reports also go to files: pytest captures stderr, so a test that aborts would lose them.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1:log_path=$OUT/report"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$OUT/report"
show_reports() {
    if compgen -G "$OUT/report.*" >/dev/null; then
        echo "== sanitizer reports:" >&2
        cat "$OUT"/report.* >&2
    fi
}
trap show_reports EXIT

for module in io._parse ops._grid export._text; do
    core=$("$PYTHON" -c "import vitalproc.$module as m; print(m.__file__)")
    case "$core" in
        "$OUT"/*) ;;
        *) echo "the sanitizer build is not the one imported: $core" >&2; exit 1 ;;
    esac
    symbols=$(nm -D "$core")  # not piped into grep -q: pipefail would see nm's SIGPIPE
    if ! grep -q __asan_report <<<"$symbols" || ! grep -q __ubsan_handle <<<"$symbols"; then
        echo "$core carries no ASan/UBSan instrumentation" >&2
        exit 1
    fi
    echo "== instrumented: $core"
done

cd "$REPO"
echo "== parity, malformed, robustness, partial-read, fuzz, grid and JSON tests under ASan/UBSan"
# The two peak-RSS tests are left out: ASan's shadow memory and quarantine inflate RSS.
"$PYTHON" -m pytest -q -p no:cacheprovider tests/test_parse.py tests/test_parity.py \
    tests/test_malformed.py tests/test_robustness.py tests/test_fuzz.py tests/test_groups.py \
    tests/test_grid.py tests/test_views.py \
    -k "not memory_stays_bounded and not lying_length_bomb and not cli_grouped"
"$PYTHON" -m pytest -q -p no:cacheprovider tests/test_formats.py tests/test_cli.py \
    -k "json or float32 or integer_records or without_numpy"

echo "== replaying the fuzz corpora under ASan/UBSan"
for target in inflated gzip; do
    dirs=()
    for d in "build/fuzz/$target/corpus" "build/fuzz/$target/seeds"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    if [ ${#dirs[@]} -gt 0 ]; then
        "$PYTHON" -m fuzz --target "$target" --rss-limit-mb 4096 --replay "${dirs[@]}" -runs=0
    fi
done

# With gcc's libasan preloaded, atheris loses its coverage feedback (it warns so): this
# part is mutation fuzzing of the instrumented core, the corpora above carry the coverage.
echo "== fuzzing ${FUZZ_SECONDS} s under ASan/UBSan"
"$PYTHON" -m fuzz --target all --seconds "$FUZZ_SECONDS" --rss-limit-mb 4096 \
    --workdir "$OUT/fuzz"
if compgen -G "$OUT/report.*" >/dev/null; then
    exit 1  # a report from a process that did not abort (the trap prints it)
fi
echo "== no sanitizer reports"
