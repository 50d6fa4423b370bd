//! Runs decoded [`spec_bundle`] scripts against `wasm-engine`.
//!
//! The caller supplies the [`Engine`] (the host passes one on the Linux
//! platform, the kernel its own), so the same assertion semantics apply
//! everywhere. Each script runs in a fresh [`Store`] with a fresh [`Linker`]
//! that provides the `spectest` host module.
//!
//! Counting: every assertion is either passed or failed. A setup command
//! (module, register, bare action) that fails is recorded as a failure too, so
//! nothing fails silently.

#![no_std]

extern crate alloc;

mod matching;
mod spectest;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use spec_bundle::{Action, Command, CommandKind, Expected, File, Value};
use wasm_engine::{Engine, Error, ExternRef, Instance, Linker, Module, Store, Val, WasmFeatures};

pub use matching::{describe_val, expected_matches, trap_matches};

/// The outcome of one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// Passed because the host rejected the text at conversion time; the
    /// engine never saw this module.
    HostChecked,
    Failed,
}

/// A failed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub line: u32,
    /// The command name, e.g. `assert_return`.
    pub kind: &'static str,
    /// Whether the command was an assertion (else a setup command).
    pub assertion: bool,
    pub message: String,
}

/// Per-script results.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    pub name: String,
    /// Passed assertions, including `host_checked` ones.
    pub passed: u32,
    /// Failed assertions plus failed setup commands.
    pub failed: u32,
    /// Of `passed`, how many were checked by the host's text parser only.
    pub host_checked: u32,
    pub failures: Vec<Failure>,
}

/// Receives each result as it happens (progress output, crash forensics).
pub trait Observer {
    fn result(&mut self, command: &Command, outcome: Outcome, failure: Option<&Failure>);
}

/// An observer that ignores everything.
pub struct Quiet;

impl Observer for Quiet {
    fn result(&mut self, _: &Command, _: Outcome, _: Option<&Failure>) {}
}

/// The Wasm features the script `name` (`<folder>/<file>.wast`) was written for,
/// from its folder: the 2.0 suite (`wasm-v2`, `simd`) with Wasm 2.0, `wasm-v3` with
/// every feature the engine implements, and a proposal's folder with Wasm 2.0 plus
/// that proposal (and the ones it builds on), as the proposal's tests expect: before
/// multi-memory, say, `memory64`'s tests check that a second memory is invalid.
/// The exception-handling folder was written against Wasm 3.0 as a whole (it uses
/// tail calls, typed references and recursion groups), so it gets all of it.
/// Runners configure the engine of each script with these.
pub fn features_for(name: &str) -> WasmFeatures {
    let w2 = WasmFeatures::WASM2;
    match name.split('/').next().unwrap_or("") {
        "wasm-v2" | "simd" => w2,
        "tail-call" => w2 | WasmFeatures::TAIL_CALL,
        "extended-const" => w2 | WasmFeatures::EXTENDED_CONST,
        "multi-memory" => w2 | WasmFeatures::MULTI_MEMORY,
        "memory64" => w2 | WasmFeatures::MEMORY64,
        "function-references" => w2 | WasmFeatures::FUNCTION_REFERENCES | WasmFeatures::TAIL_CALL,
        "relaxed-simd" => w2 | WasmFeatures::RELAXED_SIMD,
        _ => wasm_engine::validate::features(),
    }
}

/// Runs every command of `file` and returns the counts and failures.
pub fn run_file(engine: &Engine, file: &File, observer: &mut dyn Observer) -> FileReport {
    run_file_with(engine, file, observer, false)
}

/// [`run_file`] with every module that compiles precompiled first: compiled to an
/// artifact, loaded back with `Module::deserialize`, and run from that (results must
/// equal the JIT's).
pub fn run_file_precompiled(
    engine: &Engine,
    file: &File,
    observer: &mut dyn Observer,
) -> FileReport {
    run_file_with(engine, file, observer, true)
}

fn run_file_with(
    engine: &Engine,
    file: &File,
    observer: &mut dyn Observer,
    precompiled: bool,
) -> FileReport {
    let mut report = FileReport {
        name: file.name.clone(),
        ..FileReport::default()
    };
    let mut script = match Script::new(engine) {
        Ok(s) => Script { precompiled, ..s },
        Err(e) => {
            // Without the spectest module nothing can run: fail every command.
            let message = format!("cannot set up the spectest module: {e}");
            for command in &file.commands {
                record(
                    &mut report,
                    observer,
                    command,
                    Err(message.clone()),
                    command.kind.is_assertion(),
                );
            }
            return report;
        }
    };
    for command in &file.commands {
        let result = script.run(command);
        record(
            &mut report,
            observer,
            command,
            result,
            command.kind.is_assertion(),
        );
    }
    report
}

fn record(
    report: &mut FileReport,
    observer: &mut dyn Observer,
    command: &Command,
    result: Result<Outcome, String>,
    assertion: bool,
) {
    match result {
        Ok(outcome) => {
            if assertion {
                report.passed += 1;
                if outcome == Outcome::HostChecked {
                    report.host_checked += 1;
                }
            }
            observer.result(command, outcome, None);
        }
        Err(message) => {
            let failure = Failure {
                line: command.line,
                kind: command.kind.name(),
                assertion,
                message,
            };
            report.failed += 1;
            observer.result(command, Outcome::Failed, Some(&failure));
            report.failures.push(failure);
        }
    }
}

/// The state of one running script.
struct Script {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    current: Option<Instance>,
    instances: BTreeMap<String, Instance>,
    definitions: BTreeMap<String, Module>,
    last_definition: Option<Module>,
    /// Run modules from their precompiled artifacts.
    precompiled: bool,
}

impl Script {
    fn new(engine: &Engine) -> Result<Script, Error> {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new(engine);
        spectest::define(&mut store, &mut linker)?;
        Ok(Script {
            engine: engine.clone(),
            store,
            linker,
            current: None,
            instances: BTreeMap::new(),
            definitions: BTreeMap::new(),
            last_definition: None,
            precompiled: false,
        })
    }

    fn run(&mut self, command: &Command) -> Result<Outcome, String> {
        match &command.kind {
            CommandKind::Module { name, bytes } => {
                // A failed module leaves no current module, so later commands
                // fail instead of running against a stale one.
                self.current = None;
                let module = self.compile(bytes)?;
                let instance = self.instantiate(&module)?;
                self.set_current(name.as_deref(), instance);
                Ok(Outcome::Passed)
            }
            CommandKind::ModuleDefinition { name, bytes } => {
                let module = self.compile(bytes)?;
                if let Some(name) = name {
                    self.definitions.insert(name.clone(), module.clone());
                }
                self.last_definition = Some(module);
                Ok(Outcome::Passed)
            }
            CommandKind::ModuleInstance { instance, module } => {
                self.current = None;
                let definition = match module {
                    Some(name) => self
                        .definitions
                        .get(name)
                        .cloned()
                        .ok_or_else(|| format!("no module definition named ${name}"))?,
                    None => self
                        .last_definition
                        .clone()
                        .ok_or("no module definition to instantiate")?,
                };
                let new = self.instantiate(&definition)?;
                self.set_current(instance.as_deref(), new);
                Ok(Outcome::Passed)
            }
            CommandKind::Register { as_name, module } => {
                let instance = self.instance(module.as_deref())?;
                self.linker
                    .instance(&mut self.store, as_name, instance)
                    .map_err(|e| format!("cannot register as \"{as_name}\": {e}"))?;
                Ok(Outcome::Passed)
            }
            CommandKind::Action(action) => {
                self.perform(action).map_err(|e| describe_error(&e))?;
                Ok(Outcome::Passed)
            }
            CommandKind::AssertReturn { action, expected } => {
                let results = self.perform(action).map_err(|e| {
                    format!(
                        "expected {}, got error: {}",
                        describe_expected(expected),
                        describe_error(&e)
                    )
                })?;
                if results.len() == expected.len()
                    && results
                        .iter()
                        .zip(expected)
                        .all(|(v, e)| expected_matches(e, v))
                {
                    Ok(Outcome::Passed)
                } else {
                    Err(format!(
                        "expected {}, got {}",
                        describe_expected(expected),
                        describe_vals(&results)
                    ))
                }
            }
            CommandKind::AssertTrap { action, message }
            | CommandKind::AssertExhaustion { action, message } => match self.perform(action) {
                Ok(results) => Err(format!(
                    "expected trap \"{message}\", got {}",
                    describe_vals(&results)
                )),
                Err(e) => expect_trap(&e, message),
            },
            CommandKind::AssertException { action } => match self.perform(action) {
                Ok(results) => Err(format!(
                    "expected an exception, got {}",
                    describe_vals(&results)
                )),
                Err(Error::Exception(_)) => Ok(Outcome::Passed),
                Err(e) => Err(format!(
                    "expected an exception, got: {}",
                    describe_error(&e)
                )),
            },
            CommandKind::AssertMalformed { bytes, message }
            | CommandKind::AssertInvalid { bytes, message } => {
                match Module::new(&self.engine, bytes) {
                    Err(Error::Compile { .. }) => Ok(Outcome::Passed),
                    Err(e) => Err(format!(
                        "expected compile error \"{message}\", got: {}",
                        describe_error(&e)
                    )),
                    Ok(_) => Err(format!(
                        "expected compile error \"{message}\", but the module compiled"
                    )),
                }
            }
            CommandKind::AssertUnlinkable { bytes, message } => {
                let module = self.compile(bytes)?;
                match self.linker.instantiate(&mut self.store, &module) {
                    Err(Error::Unlinkable { .. }) => Ok(Outcome::Passed),
                    Err(e) => Err(format!(
                        "expected link error \"{message}\", got: {}",
                        describe_error(&e)
                    )),
                    Ok(_) => Err(format!(
                        "expected link error \"{message}\", but instantiation succeeded"
                    )),
                }
            }
            CommandKind::AssertUninstantiable { bytes, message } => {
                let module = self.compile(bytes)?;
                match self.linker.instantiate(&mut self.store, &module) {
                    Err(e) => expect_trap(&e, message),
                    Ok(_) => Err(format!(
                        "expected instantiation to trap with \"{message}\", but it succeeded"
                    )),
                }
            }
            CommandKind::HostChecked { .. } => Ok(Outcome::HostChecked),
        }
    }

    fn compile(&self, bytes: &[u8]) -> Result<Module, String> {
        let module = if self.precompiled {
            self.engine
                .precompile(bytes)
                // Made from `bytes` just now: no source hash to check.
                .and_then(|a| Module::deserialize(&self.engine, &a, None))
        } else {
            Module::new(&self.engine, bytes)
        };
        module.map_err(|e| format!("compile error: {}", describe_error(&e)))
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance, String> {
        self.linker
            .instantiate(&mut self.store, module)
            .map_err(|e| format!("instantiation failed: {}", describe_error(&e)))
    }

    fn set_current(&mut self, name: Option<&str>, instance: Instance) {
        if let Some(name) = name {
            self.instances.insert(name.to_string(), instance);
        }
        self.current = Some(instance);
    }

    fn instance(&self, name: Option<&str>) -> Result<Instance, String> {
        match name {
            Some(name) => self
                .instances
                .get(name)
                .copied()
                .ok_or_else(|| format!("no module named ${name}")),
            None => self.current.ok_or_else(|| "no current module".to_string()),
        }
    }

    /// Runs an action; returns its results, or the engine's error.
    fn perform(&mut self, action: &Action) -> Result<Vec<Val>, Error> {
        match action {
            Action::Invoke {
                module,
                export,
                args,
            } => {
                let instance = self.instance(module.as_deref()).map_err(Error::Usage)?;
                let func = instance
                    .get_func(&self.store, export)
                    .ok_or_else(|| Error::Usage(format!("no exported function \"{export}\"")))?;
                let params: Vec<Val> = args.iter().map(to_val).collect();
                let count = func.ty(&self.store).results().len();
                let mut results = vec![Val::I32(0); count];
                func.call(&mut self.store, &params, &mut results)?;
                Ok(results)
            }
            Action::Get { module, export } => {
                let instance = self.instance(module.as_deref()).map_err(Error::Usage)?;
                let global = instance
                    .get_global(&self.store, export)
                    .ok_or_else(|| Error::Usage(format!("no exported global \"{export}\"")))?;
                Ok(vec![global.get(&self.store)])
            }
        }
    }
}

fn expect_trap(error: &Error, message: &str) -> Result<Outcome, String> {
    match error {
        Error::Trap(trap) if trap_matches(trap.code, message) => Ok(Outcome::Passed),
        Error::Trap(trap) => Err(format!(
            "expected trap \"{message}\", got trap \"{}\"",
            trap.code
        )),
        other => Err(format!(
            "expected trap \"{message}\", got error: {}",
            describe_error(other)
        )),
    }
}

fn to_val(value: &Value) -> Val {
    match *value {
        Value::I32(v) => Val::I32(v as i32),
        Value::I64(v) => Val::I64(v as i64),
        Value::F32(v) => Val::F32(v),
        Value::F64(v) => Val::F64(v),
        Value::V128(v) => Val::V128(v),
        Value::RefNull(spec_bundle::RefKind::Func) => Val::FuncRef(None),
        Value::RefNull(spec_bundle::RefKind::Extern) => Val::ExternRef(None),
        Value::RefExtern(v) => Val::ExternRef(Some(ExternRef::new(v))),
    }
}

/// One line, no backtrace: reports must stay one line per failure.
fn describe_error(e: &Error) -> String {
    match e {
        Error::Trap(t) => format!("trap \"{}\"", t.code),
        other => other.to_string().replace('\n', " | "),
    }
}

fn describe_vals(vals: &[Val]) -> String {
    let items: Vec<String> = vals.iter().map(describe_val).collect();
    format!("[{}]", items.join(", "))
}

fn describe_expected(expected: &[Expected]) -> String {
    let items: Vec<String> = expected.iter().map(matching::describe_expected).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests;
