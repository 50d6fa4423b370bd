//! Kernel logging through `tracing-core`.
//!
//! The macros ([`error!`](crate::error), [`warn!`](crate::warn),
//! [`info!`](crate::info), [`debug!`](crate::debug), [`trace!`](crate::trace))
//! build a static callsite and `Metadata` per use and dispatch an `Event`
//! carrying a `message` field to the global subscriber, [`KernelSubscriber`],
//! which prints it on the console with the uptime and hart. The maximum level
//! comes from `log=<level>` in the boot arguments and the shell's `log`.
//! Before the heap exists (tracing-core's `Dispatch` needs it) events are
//! printed directly in the same format.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use tracing_core::field::{Field, Value, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Dispatch, Event, Level, Metadata, Subscriber};

#[doc(hidden)]
pub mod __private {
    pub use tracing_core::callsite::DefaultCallsite;
    pub use tracing_core::metadata::Kind;
    pub use tracing_core::{Level, Metadata, metadata};
}

/// 0 = off, 1 = error ... 5 = trace.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(3);
static READY: AtomicBool = AtomicBool::new(false);

const NAMES: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

pub fn level_enabled(level: &Level) -> bool {
    rank(level) <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// Sets the maximum level by name (`off`, `error`, `warn`, `info`, `debug`, `trace`).
pub fn set_level(name: &str) -> Result<(), &'static str> {
    let i = NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
        .ok_or("unknown log level")?;
    MAX_LEVEL.store(i as u8, Ordering::Relaxed);
    Ok(())
}

pub fn level_name() -> &'static str {
    NAMES[MAX_LEVEL.load(Ordering::Relaxed) as usize]
}

/// Applies `log=<level>` from the boot arguments (early: no heap needed).
pub fn configure(cmdline: &str) {
    if let Some(v) = cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("log="))
        && set_level(v).is_err()
    {
        crate::println!(
            "log: unknown level {v:?} in the boot arguments; keeping {}",
            level_name()
        );
    }
}

/// Installs the subscriber. Needs the heap.
pub fn init() {
    let dispatch = Dispatch::new(KernelSubscriber);
    if tracing_core::dispatcher::set_global_default(dispatch).is_ok() {
        READY.store(true, Ordering::Release);
    }
}

#[doc(hidden)]
pub fn dispatch(meta: &'static Metadata<'static>, args: fmt::Arguments<'_>) {
    if READY.load(Ordering::Acquire) {
        if let Some(field) = meta.fields().iter().next() {
            let values = [(&field, Some(&args as &dyn Value))];
            Event::dispatch(meta, &meta.fields().value_set(&values));
        }
    } else {
        let mut out = crate::console::lock();
        let _ = write_prefix(&mut out, meta);
        let _ = writeln!(out, "{args}");
    }
}

fn write_prefix(out: &mut impl Write, meta: &Metadata<'_>) -> fmt::Result {
    let ns = crate::sched::timer::uptime_ns();
    let hart = crate::sched::percpu::current().id();
    write!(
        out,
        "[{:>5}.{:06}] {:<5} h{} {}: ",
        ns / 1_000_000_000,
        ns % 1_000_000_000 / 1000,
        meta.level().as_str(),
        hart,
        meta.target()
    )
}

/// Prints events on the console; spans are not used by the kernel.
pub struct KernelSubscriber;

struct Visitor<'a, W: Write> {
    out: &'a mut W,
}

impl<W: Write> Visit for Visitor<'_, W> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = if field.name() == "message" {
            write!(self.out, "{value:?}")
        } else {
            write!(self.out, " {}={value:?}", field.name())
        };
    }
}

impl Subscriber for KernelSubscriber {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        level_enabled(metadata.level())
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        if !level_enabled(event.metadata().level()) {
            return;
        }
        let mut out = crate::console::lock();
        let _ = write_prefix(&mut out, event.metadata());
        event.record(&mut Visitor { out: &mut out });
        let _ = writeln!(out);
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[macro_export]
macro_rules! log_event {
    ($level:expr, $($arg:tt)+) => {{
        use $crate::log::__private as __p;
        static __CALLSITE: __p::DefaultCallsite = __p::DefaultCallsite::new(&__META);
        static __META: __p::Metadata<'static> = __p::metadata! {
            name: concat!("event ", file!(), ":", line!()),
            target: module_path!(),
            level: $level,
            fields: &["message"],
            callsite: &__CALLSITE,
            kind: __p::Kind::EVENT,
        };
        if $crate::log::level_enabled(&$level) {
            $crate::log::dispatch(&__META, format_args!($($arg)+));
        }
    }};
}

#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log_event!($crate::log::__private::Level::ERROR, $($arg)+) };
}
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log_event!($crate::log::__private::Level::WARN, $($arg)+) };
}
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log_event!($crate::log::__private::Level::INFO, $($arg)+) };
}
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log_event!($crate::log::__private::Level::DEBUG, $($arg)+) };
}
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log_event!($crate::log::__private::Level::TRACE, $($arg)+) };
}

#[cfg(feature = "ktest")]
mod tests {

    use ktest::ktest;

    ktest! {
        fn log_levels_change_at_run_time() {
            let old = crate::log::level_name();
            crate::log::set_level("trace").unwrap();
            assert!(crate::log::level_enabled(&tracing_core::Level::TRACE));
            crate::log::set_level("warn").unwrap();
            assert!(!crate::log::level_enabled(&tracing_core::Level::INFO));
            assert!(crate::log::set_level("loud").is_err());
            crate::log::set_level(old).unwrap();
            crate::debug!("debug output from a test");
        }
    }
}
