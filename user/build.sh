#!/bin/sh
# Builds every user program into user/target/wasm/<name>.wasm. See README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/target/wasm"
mkdir -p "$out"

CARGO_TARGET_DIR="$here/target" cargo build --manifest-path "$here/Cargo.toml" \
    --release --target wasm32-wasip1
for p in hello trap cpu-burn; do
    cp "$here/target/wasm32-wasip1/release/$p.wasm" "$out/$p.wasm"
done

# Debian's wasi-libc (bookworm-backports) needs wasm-ld >= 15 (`__heap_end`); clang 14's own
# wasm-ld is too old, so link with lld-16's.
${CLANG:-clang} --target=wasm32-wasi --sysroot=/usr \
    -fuse-ld="${WASM_LD:-/usr/lib/llvm-16/bin/wasm-ld}" \
    -O2 -Wall -Wextra -Werror -o "$out/hello-c.wasm" "$here/hello-c/hello.c"
echo "built: $(cd "$out" && ls)"
