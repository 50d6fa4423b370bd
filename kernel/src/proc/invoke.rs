//! A process's entry, as `wasmtime run` has it: `_initialize` if the module exports it,
//! then the default export (`""`) or `_start` if it has one (a reactor without either
//! only initializes); or, with an export named at spawn (`just exec --invoke NAME`),
//! `_initialize` and then that export with the process's arguments parsed as its
//! parameters, its results printed to stdout one per line, as `wasmtime run --invoke`
//! does; or, spawned to serve (`SPAWN_SERVE`), `_initialize` and then one call per
//! message on its handle 1, each answered there, until the other end closes.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use wasi_p1::OutputStream;
use wasm_engine::invoke::{format_val, parse_args};
use wasm_engine::{Error, Func, Instance, Store, TypedFunc, Val};

use super::ProcState;
use super::abi::{Object, killed};
use super::channel::{ChanErr, ChannelRef};

/// What a spawn asks a process to run.
pub enum Request {
    /// A command (`_start`), as `wasmtime run`.
    Command,
    /// One export, with the process's arguments (`--invoke`).
    Invoke(String),
    /// The calls that arrive on handle 1 ([`atoll_abi::records::SPAWN_SERVE`]).
    Serve,
}

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
    Serve {
        initialize: Option<TypedFunc<(), ()>>,
        instance: Instance,
    },
}

impl Entry {
    /// The entry of `instance`: the export `invoke` (with the process's `args` after
    /// `argv[0]`), or the command's. An error says why there is none.
    pub fn find(
        store: &Store<ProcState>,
        instance: &Instance,
        request: Request,
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
        let name = match request {
            Request::Command => {
                let start = match typed("")? {
                    Some(f) => Some(f),
                    None => typed("_start")?,
                };
                return Ok(Entry::Command { initialize, start });
            }
            Request::Serve => {
                if !matches!(store.data().handles.get(1), Some(Object::Channel(_))) {
                    return Err(String::from("serving calls needs a channel as handle 1"));
                }
                return Ok(Entry::Serve {
                    initialize,
                    instance: *instance,
                });
            }
            Request::Invoke(name) => name,
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
            Entry::Serve {
                initialize,
                instance,
            } => {
                if let Some(init) = initialize {
                    init.call(&mut *store, ())?;
                }
                return serve(store, instance);
            }
            Entry::Invoke {
                initialize,
                name,
                func,
                args,
            } => (initialize, name, func, args),
        };
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        let params = parse_args(&name, &func.ty(&*store), &words)?;
        if let Some(init) = initialize {
            init.call(&mut *store, ())?;
        }
        let out = call(store, &func, &params)?;
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

/// Calls `func` with `params` and returns its results as text, one per line.
fn call(store: &mut Store<ProcState>, func: &Func, params: &[Val]) -> Result<String, Error> {
    let ty = func.ty(&*store);
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    func.call(&mut *store, params, &mut results)?;
    let mut out = String::new();
    for r in &results {
        out.push_str(&format_val(r));
        out.push('\n');
    }
    Ok(out)
}

/// Serves the calls that arrive on handle 1 until the other end closes (see
/// `SPAWN_SERVE`): a call that cannot be made is answered with `error: REASON`; a trap
/// in one ends the process.
fn serve(store: &mut Store<ProcState>, instance: Instance) -> Result<(), Error> {
    let chan = store_channel(store)
        .ok_or_else(|| Error::Host(String::from("handle 1 is no longer a channel")))?;
    loop {
        let msg = match chan.recv(atoll_abi::MAX_MESSAGE, false) {
            Ok(m) => m,
            Err(ChanErr::Pipe) => return Ok(()),
            Err(ChanErr::Killed) => return Err(killed()),
            Err(e) => return Err(Error::Host(format!("serving calls: {e:?}"))),
        };
        let reply = match prepare(store, &instance, &msg) {
            Ok((func, params)) => call(store, &func, &params)?,
            Err(why) => format!("error: {why}\n"),
        };
        match chan.send(reply.as_bytes(), false) {
            Ok(()) => {}
            Err(ChanErr::Pipe) => return Ok(()),
            Err(ChanErr::Killed) => return Err(killed()),
            Err(e) => return Err(Error::Host(format!("serving calls: {e:?}"))),
        }
    }
}

/// Handle 1 of the process, if it is a channel.
fn store_channel(store: &Store<ProcState>) -> Option<ChannelRef> {
    match store.data().handles.get(1) {
        Some(Object::Channel(c)) => Some(ChannelRef::clone(c)),
        _ => None,
    }
}

/// The export and arguments of one call message `NAME ARG...`, or why it cannot be made.
fn prepare(
    store: &Store<ProcState>,
    instance: &Instance,
    msg: &[u8],
) -> Result<(Func, Vec<Val>), String> {
    let text = core::str::from_utf8(msg).map_err(|_| String::from("the call is not UTF-8"))?;
    let mut words = text.split_whitespace();
    let name = words.next().ok_or_else(|| String::from("an empty call"))?;
    let func = instance
        .get_func(store, name)
        .ok_or_else(|| format!("no exported function named `{name}`"))?;
    let args: Vec<&str> = words.collect();
    let params = parse_args(name, &func.ty(store), &args).map_err(|e| e.to_string())?;
    Ok((func, params))
}
