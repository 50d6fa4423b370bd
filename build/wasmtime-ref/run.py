#!/usr/bin/env python3
"""The reference for atoll's `just exec`: runs one wasm32-wasip1 program as `wasmtime run` (v51) would.

Usage: run.py [--dir HOST::GUEST[::readonly]]... [--env K=V]... PROG.wasm [ARGS...]

It embeds wasmtime through the `wasmtime==51.0.0` Python package (installed by build/setup.sh into
target/tools/wasmtime-51), which links wasmtime-wasi's preview 1 (`wasmtime_wasi::p1`, the same
implementation the CLI uses for core modules). What follows the CLI (src/commands/run.rs):

- argv[0] is the last path component of PROG (the CLI passes only the base name, "to avoid leaking
  path information"), then ARGS as given;
- the environment is exactly the `--env` list, in order (nothing is inherited); `K=V` splits at the
  first `=`;
- preopens are the `--dir` list in order (fds 3, 4, ...); `::readonly` grants read permissions only
  (the embedding API's `fs_mutable = false`; the CLI itself has no read-only flag);
- stdin, stdout and stderr are this process's own (inherited), so whatever files or pipes the caller
  gives are what the program sees;
- the exit code: `proc_exit(n)` with n < 126 exits with n; a wasm trap prints `Error: ...` on stderr
  and exits 134 (128 + SIGABRT); any other error (including `proc_exit(n)` with n >= 126, which
  wasmtime-wasi refuses with "exit with invalid exit status outside of [0..126)") prints
  `Error: ...` and exits 1 (Rust's `main` returning `Err`). Returning from `_start` exits 0.

The `Error:` text follows the CLI's layout (anyhow's chain) but the wasm backtrace lines come from
the embedding API's rendering; a case whose stderr holds such a message compares stderr only where
the manifest says so.
"""

import os
import re
import sys


def usage(msg):
    sys.stderr.write(f"run.py: {msg}\nusage: run.py [--dir HOST::GUEST[::readonly]]... "
                     "[--env K=V]... PROG.wasm [ARGS...]\n")
    sys.exit(2)


def parse(argv):
    dirs, env = [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--dir", "--env"):
            if i + 1 >= len(argv):
                usage(f"{a} needs a value")
            v = argv[i + 1]
            if a == "--dir":
                parts = v.split("::")
                if len(parts) == 2:
                    dirs.append((parts[0], parts[1], False))
                elif len(parts) == 3 and parts[2] == "readonly":
                    dirs.append((parts[0], parts[1], True))
                else:
                    usage(f"--dir {v!r}: expected HOST::GUEST or HOST::GUEST::readonly")
            else:
                if "=" not in v:
                    usage(f"--env {v!r}: expected K=V")
                k, _, val = v.partition("=")
                env.append((k, val))
            i += 2
        elif a == "--":
            i += 1
            break
        elif a.startswith("--"):
            usage(f"unknown option {a}")
        else:
            break
    if i >= len(argv):
        usage("no program")
    return dirs, env, argv[i], argv[i + 1:]


def split_chain(text):
    """anyhow's `{:?}` rendering ("HEAD\n\nCaused by:\n    X" or numbered "    0: X\n    1: Y")
    back into its list of messages."""
    head, sep, rest = text.partition("\n\nCaused by:\n")
    if not sep:
        return [text]
    numbered = re.split(r"^    \d+: ", rest, flags=re.M)
    if len(numbered) > 1 and numbered[0] == "":
        parts = numbered[1:]
        pad = "       "
    else:
        parts = [rest[4:] if rest.startswith("    ") else rest]
        pad = "    "
    out = [head]
    for part in parts:
        lines = part.rstrip("\n").split("\n")
        out.append("\n".join([lines[0]] + [l[len(pad):] if l.startswith(pad) else l
                                            for l in lines[1:]]))
    return out


def main():
    dirs, env, prog, args = parse(sys.argv[1:])
    try:
        import wasmtime
    except ImportError:
        usage("the wasmtime package is missing (run build/setup.sh)")

    def fail(err, code):
        # The CLI's `eprintln!("Error: {e:?}")`: anyhow's chain, outermost context first, then
        # the embedding API's own chain (its message is anyhow's `{:?}` of the inner error).
        sys.stderr.flush()
        causes = ["failed to invoke command default"] + split_chain(str(err))
        msg = f"Error: failed to run main module `{prog}`\n\nCaused by:\n"
        for i, cause in enumerate(causes):
            lines = cause.rstrip("\n").split("\n")
            msg += f"    {i}: {lines[0]}\n"
            msg += "".join(f"       {line}\n" if line else "\n" for line in lines[1:])
        os.write(2, msg.encode())
        os._exit(code)

    engine = wasmtime.Engine()
    try:
        module = wasmtime.Module.from_file(engine, prog)
    except (wasmtime.WasmtimeError, OSError) as e:
        os.write(2, f"Error: failed to read input file: {prog}\n\nCaused by:\n    {e}\n".encode())
        os._exit(1)
    config = wasmtime.WasiConfig()
    config.argv = [os.path.basename(prog.rstrip("/")) or prog] + args
    config.env = env
    config.inherit_stdin()
    config.inherit_stdout()
    config.inherit_stderr()
    for host, guest, read_only in dirs:
        config.preopen_dir(host, guest, not read_only)
    store = wasmtime.Store(engine)
    store.set_wasi(config)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    try:
        instance = linker.instantiate(store, module)
        exports = instance.exports(store)
        init = exports.get("_initialize")
        if init is not None:
            init(store)
        start = exports.get("") or exports.get("_start")
        if start is not None:
            start(store)
    except wasmtime.ExitTrap as e:
        os._exit(e.code)
    except wasmtime.Trap as e:
        fail(e, 134)
    except wasmtime.WasmtimeError as e:
        fail(e, 1)
    os._exit(0)


if __name__ == "__main__":
    main()
