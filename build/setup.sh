#!/usr/bin/env bash
# Idempotent host setup: installs only what is missing.
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }

have qemu-system-riscv64 || need_apt+=(qemu-system-misc)
have qemu-system-x86_64 || need_apt+=(qemu-system-x86)
have gdb-multiarch || need_apt+=(gdb-multiarch)
[ -e /usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin ] || need_apt+=(opensbi)
[ -e /usr/share/OVMF/OVMF_CODE.fd ] || [ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || need_apt+=(ovmf)
# The `boards` test stage: U-Boot for QEMU as OpenSBI's payload; the Lichee Pi 4A
# image carries the generic OpenSBI (`configs/boards/lichee-pi-4a.toml`).
[ -e /usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin ] || need_apt+=(u-boot-qemu)
[ -e /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin ] || need_apt+=(opensbi)
# C userspace (user/hello-c): clang, its wasm32 builtins, wasi-libc, and a
# wasm-ld new enough (>= 15) for the backports wasi-libc's `__heap_end`.
have clang || need_apt+=(clang)
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 ||
  need_apt+=(libclang-rt-14-dev-wasm32)
[ -e /usr/lib/llvm-16/bin/wasm-ld ] || need_apt+=(lld-16)
[ -e /usr/lib/wasm32-wasi/libc.a ] || need_apt+=(wasi-libc)

if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # QEMU must come from the same suite as the machine's qemu-utils (bookworm-backports).
  if . /etc/os-release && [ "${VERSION_CODENAME:-}" = bookworm ] &&
     ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" |
      $sudo tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
  fi
  $sudo apt-get update -qq
  suite=()
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ && suite=(-t bookworm-backports)
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${suite[@]}" "${need_apt[@]}"
fi

# rust-toolchain.toml names the toolchain, targets and components; with no
# argument, `rustup toolchain install` installs whatever of it is missing.
cd "$(dirname "$0")/.."
rustup toolchain install >/dev/null 2>&1 || rustup toolchain install

# The differential-test reference (build/wasmtime-ref/run.py): wasmtime 51 from PyPI in a venv
# under target/tools/, a host test tool only (never part of atoll).
venv=target/tools/wasmtime-51
if ! ls "$venv"/lib/python3*/site-packages/wasmtime-51.0.0.dist-info >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  need_py=()
  have python3 || need_py+=(python3)
  # Debian's python3 lacks ensurepip (and so `venv`) until python3-venv is installed.
  if [ ${#need_py[@]} -gt 0 ] || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    need_py+=(python3-venv)
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_py[@]}"
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'wasmtime==51.0.0'
fi
