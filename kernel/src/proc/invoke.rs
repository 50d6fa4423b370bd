//! A process's entry, as `wasmtime run` has it: `_initialize` if the module exports it,
//! then the default export (`""`) or `_start` if it has one (a reactor without either
//! only initializes); or, with an export named at spawn (`just exec --invoke NAME`),
//! `_initialize` and then that export with the process's arguments parsed as its
//! parameters, its results printed to stdout one per line, as `wasmtime run --invoke`
//! does.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use wasi_p1::OutputStream;
use wasm_engine::invoke::{format_val, parse_args};
use wasm_engine::{Error, Func, Instance, Store, TypedFunc, Val};

use super::ProcState;

/// What a process runs once instantiated.
pub enum Entry {
    Command {
        initialize: Option<TypedFunc<(), ()>>,
        start: Option<TypedFunc<(), ()>>,
    },
    Invoke {
        initialize: Option<TypedFunc<(), ()>>,
        name: String,
        func: Func,
        args: Vec<String>,
    },
}

impl Entry {
    /// The entry of `instance`: the export `invoke` (with the process's `args` after
    /// `argv[0]`), or the command's. An error says why there is none.
    pub fn find(
        store: &Store<ProcState>,
        instance: &Instance,
        invoke: Option<String>,
        args: &[String],
    ) -> Result<Entry, String> {
        let typed = |name: &str| match instance.get_func(store, name) {
            Some(f) => f
                .typed::<(), ()>(store)
                .map(Some)
                .map_err(|e| format!("`{name}`: {e}")),
            None => Ok(None),
        };
        let initialize = typed("_initialize")?;
        let Some(name) = invoke else {
            let start = match typed("")? {
                Some(f) => Some(f),
                None => typed("_start")?,
            };
            return Ok(Entry::Command { initialize, start });
        };
        let func = instance
            .get_func(store, &name)
            .ok_or_else(|| format!("no exported function named `{name}`"))?;
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
            Entry::Command { initialize, start } => {
                for f in [initialize, start].into_iter().flatten() {
                    f.call(&mut *store, ())?;
                }
                return Ok(());
            }
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
