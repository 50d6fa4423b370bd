#!/usr/bin/env python3
"""Records what wasmtime answers to each parity script (the `.wasmtime` files beside them).

Usage: pip install wasmtime==51.0.0; sh user/build.sh; python3 libs/engine/wasi/tests/parity/record.py
[NAME...] (every script, or only the NAMEs given)
Each NAME.script runs as stdin of user/target/wasm/wasi-probe.wasm under wasmtime's WASI
preview 1 with a fresh, empty directory preopened as fd 3 ("/sandbox") on tmpfs (/dev/shm,
so directories list in tmpfs order, which atoll's RAM tree keeps), stdout captured to a file
(so not a terminal). NAME.wasmtime gets stdout followed by an `exit N` line.
"""
import glob, os, shutil, sys, tempfile
from wasmtime import Engine, ExitTrap, Linker, Module, Store, WasiConfig

here = os.path.dirname(os.path.abspath(__file__))
wasm = os.path.join(here, "../../../../user/target/wasm/wasi-probe.wasm")
engine = Engine()
module = Module.from_file(engine, wasm)
names = sys.argv[1:]
for script in sorted(glob.glob(os.path.join(here, "*.script"))):
    if names and os.path.basename(script)[: -len(".script")] not in names:
        continue
    sandbox = tempfile.mkdtemp(prefix="parity", dir="/dev/shm")
    out = tempfile.mktemp()
    cfg = WasiConfig()
    cfg.argv = ["wasi-probe"]
    cfg.preopen_dir(sandbox, "/sandbox")
    cfg.stdin_file = script
    cfg.stdout_file = out
    store = Store(engine)
    store.set_wasi(cfg)
    linker = Linker(engine)
    linker.define_wasi()
    code = 0
    try:
        linker.instantiate(store, module).exports(store)["_start"](store)
    except ExitTrap as e:
        code = e.code
    text = open(out).read() + f"exit {code}\n"
    open(script[: -len(".script")] + ".wasmtime", "w").write(text)
    os.unlink(out)
    shutil.rmtree(sandbox)
    print(os.path.basename(script), "recorded", file=sys.stderr)
