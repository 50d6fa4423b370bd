#!/bin/sh
# Builds every user program into user/target/wasm/<name>.wasm. See README.md.
# Quick when nothing changed: cargo is incremental and the C program is only
# recompiled when its source is newer than its output.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/target/wasm"
mkdir -p "$out"

CARGO_TARGET_DIR="$here/target" cargo build --quiet --manifest-path "$here/Cargo.toml" \
    --release --target wasm32-wasip1
for p in init shell hello trap cpu-burn ping pong isolation oom wasi-conformance; do
    src="$here/target/wasm32-wasip1/release/$p.wasm"
    # Copy only what changed, so unchanged outputs keep their timestamps.
    cmp -s "$src" "$out/$p.wasm" 2>/dev/null || cp "$src" "$out/$p.wasm"
done

# Debian's wasi-libc (bookworm-backports) needs wasm-ld >= 15 (`__heap_end`); clang 14's own
# wasm-ld is too old, so link with lld-16's.
if [ ! -f "$out/hello-c.wasm" ] || [ "$here/hello-c/hello.c" -nt "$out/hello-c.wasm" ] \
    || [ "$0" -nt "$out/hello-c.wasm" ]; then
    ${CLANG:-clang} --target=wasm32-wasi --sysroot=/usr \
        -fuse-ld="${WASM_LD:-/usr/lib/llvm-16/bin/wasm-ld}" \
        -O2 -Wall -Wextra -Werror -o "$out/hello-c.wasm" "$here/hello-c/hello.c"
fi
# Quiet under `just exec`, whose output is the program's.
[ -n "${ATOLL_QUIET:-}" ] || echo "built: $(cd "$out" && ls | tr '\n' ' ')"
