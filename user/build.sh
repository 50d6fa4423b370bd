#!/bin/sh
# Builds every user program into user/target/wasm/<name>.wasm, and the difftest corpus
# (wasi-corpus/) into user/target/corpus/<name>.wasm. See README.md.
# Quick when nothing changed: cargo is incremental and the C program is only
# recompiled when its source (or a header beside it) is newer than its output.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/target/wasm"
mkdir -p "$out"

CARGO_TARGET_DIR="$here/target" cargo build --quiet --manifest-path "$here/Cargo.toml" \
    --release --target wasm32-wasip1
# The programs are the members of user/Cargo.toml with a `src/main.rs` (the one list of them;
# xtask packs whatever lands in target/wasm).
members=$(sed -n '/^members = \[/,/^\]/s/^ *"\([^"]*\)",* *$/\1/p' "$here/Cargo.toml")
for p in $members; do
    [ -f "$here/$p/src/main.rs" ] || continue
    src="$here/target/wasm32-wasip1/release/$p.wasm"
    # Copy only what changed, so unchanged outputs keep their timestamps.
    cmp -s "$src" "$out/$p.wasm" 2>/dev/null || cp "$src" "$out/$p.wasm"
done

# Debian's wasi-libc (bookworm-backports) needs wasm-ld >= 15 (`__heap_end`); clang 14's own
# wasm-ld is too old, so link with lld-16's.
cc_wasm() { # OUT SRC: compiles one C program when SRC, a header beside it or this script is newer.
    if [ -f "$1" ] && [ ! "$2" -nt "$1" ] && [ ! "$0" -nt "$1" ] \
        && ! find "$(dirname "$2")" -maxdepth 1 -name '*.h' -newer "$1" | grep -q .; then
        return 0
    fi
    ${CLANG:-clang} --target=wasm32-wasi --sysroot=/usr \
        -fuse-ld="${WASM_LD:-/usr/lib/llvm-16/bin/wasm-ld}" \
        -O2 -Wall -Wextra -Werror -o "$1" "$2"
}
cc_wasm "$out/hello-c.wasm" "$here/hello-c/hello.c"
# Quiet under `just exec`, whose output is the program's.
[ -n "${ATOLL_QUIET:-}" ] || echo "built: $(cd "$out" && ls | tr '\n' ' ')"

# The differential-test corpus (wasi-corpus/, see its README): its Rust programs (built by the
# cargo command above) and C programs go to target/corpus/<name>.wasm, outside the initrd.
corpus="$here/target/corpus"
mkdir -p "$corpus"
for src in "$here"/wasi-corpus/src/bin/*.rs; do
    p=$(basename "$src" .rs)
    built="$here/target/wasm32-wasip1/release/$p.wasm"
    cmp -s "$built" "$corpus/$p.wasm" 2>/dev/null || cp "$built" "$corpus/$p.wasm"
done
for src in "$here"/wasi-corpus/c/*.c; do
    cc_wasm "$corpus/$(basename "$src" .c).wasm" "$src"
done
[ -n "${ATOLL_QUIET:-}" ] || echo "corpus: $(ls "$corpus" | wc -l) programs in $corpus"
