//! Pattern 6, run-time generated code in a live table, as dynamic linkers and closure
//! systems do it. A program instance owns a growable `funcref` table and calls through it
//! with `call_indirect`. For each closure ("add a captured constant") the host generates a
//! module with `wasm-encoder`, compiles it and instantiates it sharing the program's memory
//! and table; its active element segment puts its function into a free slot. Freeing a slot
//! clears it and disposes of the closure's instance (`Instance::dispose`), so slots, code
//! and store entries are reused and thousands of prepare/free cycles leak nothing.
use std::borrow::Cow;

use wasm_encoder::{
    CodeSection, ConstExpr, ElementSection, Elements, EntityType, ExportKind, ExportSection,
    Function, FunctionSection, ImportSection, MemArg, MemArgTarget, MemoryType, RefType, TableType,
    TypeSection, ValType,
};
use wasm_engine::{Engine, Error, Instance, Memory, Module, Store, Table, TypedFunc, Val};

/// The program: a memory and a table it shares, and `apply(slot, x)`, which calls the
/// closure in `slot` with `x` (a null slot traps, an out-of-range one too).
const PROGRAM: &str = r#"(module
  (memory (export "memory") 1)
  (table (export "table") 2 funcref)
  (type $closure (func (param i32) (result i32)))
  (func (export "apply") (param $slot i32) (param $x i32) (result i32)
    (call_indirect (type $closure) (local.get $x) (local.get $slot))))"#;

/// Where closures record their last argument in the shared memory.
pub const LAST_ARG: u64 = 16;

/// A closure `x -> x + constant` for table slot `slot`, as a module: it imports the
/// program's memory and table, writes `x` to `LAST_ARG`, and places itself at `slot`.
pub fn closure_module(constant: i32, slot: u32) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32], [ValType::I32]);
    let mut imports = ImportSection::new();
    let memory = MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    };
    let table = TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: 1,
        maximum: None,
        shared: false,
    };
    imports.import("program", "memory", EntityType::Memory(memory));
    imports.import("program", "table", EntityType::Table(table));
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut exports = ExportSection::new();
    exports.export("closure", ExportKind::Func, 0);
    let mut elements = ElementSection::new();
    let offset = ConstExpr::i32_const(slot as i32);
    elements.active(Some(0), &offset, Elements::Functions(Cow::Borrowed(&[0])));
    let mut body = Function::new([]);
    let at = MemArg {
        offset: LAST_ARG,
        align: 2,
        target: MemArgTarget::Memory(0),
        ordering: None,
    };
    body.instructions()
        .i32_const(0)
        .local_get(0)
        .i32_store(at)
        .local_get(0)
        .i32_const(constant)
        .i32_add()
        .end();
    let mut code = CodeSection::new();
    code.function(&body);
    let mut module = wasm_encoder::Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&functions)
        .section(&exports)
        .section(&elements)
        .section(&code);
    module.finish()
}

/// The program instance and the closures in its table.
pub struct Closures {
    pub store: Store<()>,
    engine: Engine,
    memory: Memory,
    pub table: Table,
    apply: TypedFunc<(u32, i32), i32>,
    /// Each slot's closure instance, `None` for a free slot.
    slots: Vec<Option<Instance>>,
}

impl Closures {
    pub fn new(engine: &Engine) -> Result<Closures, Error> {
        let module = Module::new(engine, &wat::parse_str(PROGRAM).expect("valid wat"))?;
        let mut store = Store::new(engine, ());
        let program = Instance::new(&mut store, &module, &[])?;
        let missing = |what: &str| Error::Usage(format!("the program exports no {what}"));
        let table = program
            .get_table(&store, "table")
            .ok_or_else(|| missing("table"))?;
        let slots = vec![None; table.size(&store) as usize];
        Ok(Closures {
            memory: program
                .get_memory(&store, "memory")
                .ok_or_else(|| missing("memory"))?,
            apply: program.get_typed_func(&store, "apply")?,
            table,
            slots,
            store,
            engine: engine.clone(),
        })
    }

    /// Generates, compiles and links `x -> x + constant` into a free slot (growing the
    /// table if none is free); returns the slot.
    pub fn prepare(&mut self, constant: i32) -> Result<u32, Error> {
        let slot = match self.slots.iter().position(Option::is_none) {
            Some(free) => free as u32,
            None => {
                let grown = self.table.grow(&mut self.store, 1, Val::FuncRef(None))?;
                self.slots.push(None);
                grown as u32
            }
        };
        let module = Module::new(&self.engine, &closure_module(constant, slot))?;
        let imports = [self.memory.into(), self.table.into()];
        let instance = Instance::new(&mut self.store, &module, &imports)?;
        self.slots[slot as usize] = Some(instance);
        Ok(slot)
    }

    /// Clears `slot` and disposes of its closure.
    pub fn free(&mut self, slot: u32) -> Result<(), Error> {
        let instance = self
            .slots
            .get_mut(slot as usize)
            .and_then(Option::take)
            .ok_or_else(|| Error::Usage(format!("slot {slot} holds no closure")))?;
        self.table
            .set(&mut self.store, u64::from(slot), Val::FuncRef(None))?;
        instance.dispose(&mut self.store)
    }

    /// Replaces the closure in `slot` with `x -> x + constant`.
    pub fn reprepare(&mut self, slot: u32, constant: i32) -> Result<(), Error> {
        self.free(slot)?;
        let again = self.prepare(constant)?;
        assert_eq!(again, slot, "the first free slot is the one just freed");
        Ok(())
    }

    /// The program calls the closure in `slot` through `call_indirect`.
    pub fn apply(&mut self, slot: u32, x: i32) -> Result<i32, Error> {
        self.apply.call(&mut self.store, (slot, x))
    }

    /// The last argument a closure received, read from the shared memory.
    pub fn last_arg(&self) -> Result<i32, Error> {
        let mut bytes = [0; 4];
        self.memory
            .read(&self.store, LAST_ARG as usize, &mut bytes)?;
        Ok(i32::from_le_bytes(bytes))
    }
}

fn main() -> Result<(), Error> {
    let mut closures = Closures::new(&Engine::default())?;
    let add10 = closures.prepare(10)?;
    let add_million = closures.prepare(1_000_000)?;
    let add_minus1 = closures.prepare(-1)?;
    println!(
        "slots {add10}, {add_million}, {add_minus1}: the table grew to {}",
        closures.table.size(&closures.store)
    );
    println!("apply(add10, 5) = {}", closures.apply(add10, 5)?);
    println!(
        "apply(add_million, 5) = {}",
        closures.apply(add_million, 5)?
    );
    println!(
        "apply(add_minus1, 7) = {} (last argument in shared memory: {})",
        closures.apply(add_minus1, 7)?,
        closures.last_arg()?
    );
    closures.reprepare(add10, 20)?;
    println!(
        "slot {add10} re-prepared: apply(slot, 5) = {}",
        closures.apply(add10, 5)?
    );
    closures.free(add_million)?;
    println!(
        "slot {add_million} freed: apply(slot, 5) = {:?}",
        closures.apply(add_million, 5).map_err(|e| e.to_string())
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_engine::TrapCode;

    #[test]
    fn the_example_runs() {
        main().expect("example");
    }

    #[test]
    fn generated_closures_are_called_through_the_table_and_share_memory() {
        let mut c = Closures::new(&Engine::default()).unwrap();
        let slots: Vec<u32> = (0..5).map(|k| c.prepare(k * 100).unwrap()).collect();
        assert_eq!(slots, [0, 1, 2, 3, 4]);
        assert_eq!(c.table.size(&c.store), 5);
        for (k, slot) in slots.iter().enumerate() {
            assert_eq!(c.apply(*slot, 7).unwrap(), 7 + k as i32 * 100);
            assert_eq!(c.last_arg().unwrap(), 7);
        }
    }

    #[test]
    fn a_freed_slot_traps_and_is_the_next_one_prepared() {
        let mut c = Closures::new(&Engine::default()).unwrap();
        let a = c.prepare(1).unwrap();
        let b = c.prepare(2).unwrap();
        c.free(a).unwrap();
        assert_eq!(
            c.apply(a, 0).unwrap_err().trap_code(),
            Some(TrapCode::IndirectCallToNull)
        );
        assert_eq!(c.apply(b, 0).unwrap(), 2);
        assert_eq!(c.prepare(3).unwrap(), a);
        assert_eq!(c.apply(a, 0).unwrap(), 3);
        assert!(c.free(99).is_err());
    }

    #[test]
    fn re_preparing_a_slot_replaces_its_closure() {
        let mut c = Closures::new(&Engine::default()).unwrap();
        let slot = c.prepare(1).unwrap();
        for k in 2..50 {
            c.reprepare(slot, k).unwrap();
            assert_eq!(c.apply(slot, 1000).unwrap(), 1000 + k);
        }
    }

    /// Lines of /proc/self/maps: each compiled module's code is a mapping of its own.
    fn mappings() -> usize {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .count()
    }

    #[test]
    fn ten_thousand_prepare_free_cycles_leak_nothing() {
        let mut c = Closures::new(&Engine::default()).unwrap();
        let keep = c.prepare(5).unwrap();
        for k in 0..100 {
            let slot = c.prepare(k).unwrap();
            c.free(slot).unwrap();
        }
        let before = mappings();
        for k in 0..10_000 {
            let slot = c.prepare(k).unwrap();
            assert_eq!(c.apply(slot, 1).unwrap(), k + 1);
            c.free(slot).unwrap();
        }
        // Other tests run in this process at the same time and map memory too.
        let after = mappings();
        assert!(after < before + 200, "mappings {before} -> {after}");
        assert_eq!(c.table.size(&c.store), 2);
        assert_eq!(c.apply(keep, 1).unwrap(), 6);
    }
}
