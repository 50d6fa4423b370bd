# atoll: `just run` boots it, `just test` runs every test. `just --list` shows all recipes.
set shell := ["bash", "-euo", "pipefail", "-c"]

# Machine configuration under configs/ (qemu-riscv64, qemu-riscv64-single, qemu-x86_64, ...).
config := "qemu-riscv64"

# Boot atoll in QEMU (Ctrl-A X quits). Extra boot arguments after the config: `just run qemu-riscv64 log=debug`.
run config=config *args: setup
    cargo xtask run --config {{config}} -- {{args}}

# Run one Wasm program on atoll like `wasmtime run`, and exit with its code: `just exec prog.wasm
# [--dir HOST::GUEST]... [--env K=V]... [-- args...]`; `just exec arch=x86_64 prog.wasm ...` boots
# x86_64. Arguments reach the program byte for byte; stdin, stdout and stderr are the program's
# (no "recipe failed" line from just when the program exits non-zero).
[positional-arguments]
[no-exit-message]
exec *args: setup
    @cargo xtask exec "$@"

# Every test: lint, host unit tests, the Wasm spec suite, and the kernel tests under QEMU on both arches.
# (No incremental caches: a full run builds every crate once, and they would only fill the disk.)
test: setup
    CARGO_INCREMENTAL=0 cargo xtask test

# One test stage (lint, host, fuzz, spec, kernel, spec-kernel, user, stress, difftest or boards), on both arches.
test-stage stage: setup
    cargo xtask test --stage {{stage}}

# Kernel tests booted under QEMU.
test-kernel config=config: setup
    cargo xtask test --stage kernel --config {{config}}

# The Wasm 2.0 and 3.0 spec suites on the host: a per-file table and totals per suite (`--suite 2|3` for one).
spec *args: setup
    cargo run --quiet -p spec-tool --bin spec -- {{args}}

# The Wasm 2.0 and 3.0 spec suites inside the kernel under QEMU (same table as `just spec`):
# `just spec-kernel [arch=x86_64] [FILTER...] [-v]`. The whole suite: ~1 min of scripts plus boot (TCG).
spec-kernel *args: setup
    cargo xtask spec-kernel {{args}}

# The spec suite subset that `just test` runs in the kernel (stage spec-kernel), on both arches.
spec-kernel-subset: setup
    cargo xtask test --stage spec-kernel

# Boot halted under gdb-multiarch with the kernel's symbols at its KASLR address.
debug config=config *args: setup
    cargo xtask debug --config {{config}} {{args}}

# Benchmarks: workloads native vs Wasm (host: atoll and wasmtime; in-kernel on each arch),
# host-call, trap, instantiate, compile, boot and memory. Prints a table, writes target/bench/*.json.
bench *args: setup
    cargo xtask bench {{args}}

# Differences between two `just bench` results (JSON files under target/bench/).
bench-compare old new:
    cargo xtask bench-compare {{old}} {{new}}

# The differential WASI test: the corpus in user/wasi-corpus on wasmtime 51 (the reference) and on
# a runner, comparing output, exit codes and directories: `just difftest [--runner NAME] [FILTER...]`.
difftest *args: setup
    cargo xtask difftest {{args}}

# Fuzz on the host: `just fuzz [diff|malformed|wasi|ipc|all] [--time SECS] [--seed N] [--cases N]`
# (default: all targets sharing 60 s). Findings (inputs and what they did) go to build/fuzz/findings/.
fuzz *args:
    cargo run --quiet -p fuzz -- {{args}}

# A board's SD-card image (configs/boards/NAME.toml) at target/images/boards/NAME.img:
# `just image board=visionfive2 [dtb=PATH] [--release] [-- boot args]`. docs/boards.md says how to flash it.
[positional-arguments]
image *args: setup
    @cargo xtask image "$@"

# Build kernel and loader without running them.
build config=config: setup
    cargo xtask build --config {{config}}

# rustfmt and clippy over every crate, for the targets each builds for.
lint: setup
    cargo xtask test --stage lint

# Format every crate.
fmt:
    cargo fmt --all

# Install what is missing: QEMU, firmware, gdb-multiarch, clang/wasi-libc, the Rust targets, and
# wasmtime 51 (the difftest reference, a venv under target/tools/). Idempotent.
setup:
    @bash build/setup.sh
