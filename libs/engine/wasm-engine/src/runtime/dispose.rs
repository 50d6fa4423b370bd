//! Disposing of an instance before its store drops, which hosts that generate and link
//! code at run time (closures, dynamic linking) need so that doing it again and again
//! leaks nothing: the instance's VMContext, its functions and its module's code (once no
//! one else holds the module) are freed, and its slots in the store are reused.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use crate::Error;
use crate::runtime::func::Func;
use crate::runtime::instance::Instance;
use crate::runtime::store::{AsContextMut, StoreOpaque, opaque_mut};
use crate::runtime::vmcontext::VMContextBlock;

impl Instance {
    /// Frees this instance. Refused with [`Error::Usage`] while Wasm runs in the store, or
    /// while anything in the store still refers to one of its functions: a table element,
    /// a global, another live instance's import or element segment (clear those first).
    /// Memories, tables and globals it defined stay in the store, which others may share,
    /// until the store drops. Afterwards the handles of the instance and of its functions
    /// no longer work: calls through them are errors.
    pub fn dispose(self, mut store: impl AsContextMut) -> Result<(), Error> {
        let s = opaque_mut(&mut store);
        s.check(self.store)?;
        if s.instances[self.index].generation != self.generation {
            return Err(Error::Usage("instance already disposed".into()));
        }
        if s.depth != 0 {
            return Err(Error::Usage(
                "cannot dispose of an instance while Wasm runs in its store".into(),
            ));
        }
        let inst = &s.instances[self.index];
        let imported = inst
            .module
            .as_ref()
            .expect("a live instance has its module")
            .inner
            .info
            .imported_funcs as usize;
        let own: Vec<Func> = inst.funcs()[imported..].to_vec();
        let addrs: BTreeSet<u64> = own.iter().map(|f| f.funcref_addr(s) as u64).collect();
        if let Some(what) = referrer(s, self.index, &own, &addrs) {
            return Err(Error::Usage(alloc::format!(
                "instance still referenced by {what}"
            )));
        }
        for f in &own {
            let data = &mut s.funcs[f.index];
            data.generation = data.generation.wrapping_add(1);
            s.free_funcs.push(f.index);
        }
        let data = &mut s.instances[self.index];
        data.generation = data.generation.wrapping_add(1);
        data.module = None;
        data.vmctx = VMContextBlock::empty();
        data.elems = Vec::new();
        data.data_dropped = Vec::new();
        s.free_instances.push(self.index);
        Ok(())
    }
}

/// What in the store, other than instance `index` itself, still refers to one of its
/// functions `own` (whose funcrefs are at `addrs`), if anything.
fn referrer(
    s: &StoreOpaque,
    index: usize,
    own: &[Func],
    addrs: &BTreeSet<u64>,
) -> Option<&'static str> {
    if s.tables
        .iter()
        .any(|t| t.elements.iter().any(|e| addrs.contains(e)))
    {
        return Some("a table element");
    }
    if s.globals
        .iter()
        .any(|g| g.ty.content().is_ref() && addrs.contains(&(g.cell.bits as u64)))
    {
        return Some("a global");
    }
    for (i, other) in s.instances.iter().enumerate() {
        if i == index || other.module.is_none() {
            continue;
        }
        if other.funcs().iter().any(|f| own.contains(f)) {
            return Some("another instance's import");
        }
        if other.elems.iter().flatten().any(|e| addrs.contains(e)) {
            return Some("another instance's element segment");
        }
    }
    None
}
