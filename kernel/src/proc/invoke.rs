//! A process's entry: `_start` for a command, or an export named at spawn (`just exec
//! --invoke NAME`), which also runs reactors: their `_initialize` first, then the export
//! with the process's arguments parsed as its parameters, its results printed to stdout
//! one per line, as `wasmtime run --invoke` does.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use wasi_p1::OutputStream;
use wasm_engine::invoke::{format_val, parse_args};
use wasm_engine::{Error, Func, Instance, Store, TypedFunc, Val};

use super::ProcState;

/// What a process runs once instantiated.
pub enum Entry {
    Start(TypedFunc<(), ()>),
    Invoke {
        initialize: Option<TypedFunc<(), ()>>,
        name: String,
        func: Func,
        args: Vec<String>,
    },
}

impl Entry {
    /// The entry of `instance`: the export `invoke` (with the process's `args` after
    /// `argv[0]`), or `_start`. An error says why there is none.
    pub fn find(
        store: &Store<ProcState>,
        instance: &Instance,
        invoke: Option<String>,
        args: &[String],
    ) -> Result<Entry, String> {
        let Some(name) = invoke else {
            return match instance.get_typed_func::<(), ()>(store, "_start") {
                Ok(start) => Ok(Entry::Start(start)),
                Err(_) if instance.get_func(store, "_initialize").is_some() => Err(String::from(
                    "a reactor (`_initialize`, no `_start`): name an export to call (--invoke)",
                )),
                Err(e) => Err(format!("no `_start` function: {e}")),
            };
        };
        let func = instance
            .get_func(store, &name)
            .ok_or_else(|| format!("no exported function named `{name}`"))?;
        let initialize = match instance.get_func(store, "_initialize") {
            Some(f) => Some(f.typed(store).map_err(|e| format!("`_initialize`: {e}"))?),
            None => None,
        };
        Ok(Entry::Invoke {
            initialize,
            name,
            func,
            args: args.iter().skip(1).cloned().collect(),
        })
    }

    /// Runs the entry to its end. A bad argument is an error like a failed host call.
    pub fn run(self, store: &mut Store<ProcState>) -> Result<(), Error> {
        let (initialize, name, func, args) = match self {
            Entry::Start(start) => return start.call(store, ()),
            Entry::Invoke {
                initialize,
                name,
                func,
                args,
            } => (initialize, name, func, args),
        };
        let ty = func.ty(&*store);
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        let params = parse_args(&name, &ty, &words)?;
        if let Some(init) = initialize {
            init.call(&mut *store, ())?;
        }
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        func.call(&mut *store, &params, &mut results)?;
        let mut out = String::new();
        for r in &results {
            out.push_str(&format_val(r));
            out.push('\n');
        }
        let console = store.data_mut().wasi.console();
        let mut rest = out.as_bytes();
        while !rest.is_empty() {
            match console.write(OutputStream::Stdout, rest) {
                Ok(n) if n > 0 => rest = &rest[n..],
                _ => break,
            }
        }
        Ok(())
    }
}
