//! Tables of references. Elements are raw 8-byte references (0 = null): pointers to
//! `VMFuncRef` for funcref tables, `ExternRef` raw values for externref tables.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::Error;
use crate::runtime::func::{val_from_raw, val_matches, val_to_raw};
use crate::runtime::store::{
    AsContext, AsContextMut, StoreOpaque, limit_error, opaque, opaque_mut,
};
use crate::runtime::vmcontext::VMTableDefinition;
use crate::types::{TableType, Val};

pub(crate) struct TableData {
    pub ty: TableType,
    pub elements: Vec<u64>,
    pub def: Box<VMTableDefinition>,
    max: u64,
}

// SAFETY: only accessed through its store, which is not shared.
unsafe impl Send for TableData {}

impl TableData {
    pub fn new(store: &StoreOpaque, ty: TableType, init: u64) -> Result<TableData, Error> {
        if ty.minimum() > store.store_limits.table_elements {
            return Err(limit_error("table minimum size exceeds the store's limit"));
        }
        if store.tables.len() >= store.store_limits.tables {
            return Err(limit_error("too many tables"));
        }
        let max = ty
            .maximum()
            .unwrap_or(u64::from(u32::MAX))
            .min(store.store_limits.table_elements);
        // Fallible: a table is allocated on behalf of a guest, and a kernel heap must answer
        // a huge one with an error for that guest, not an allocation failure of its own.
        let mut elements = Vec::new();
        elements
            .try_reserve_exact(ty.minimum() as usize)
            .map_err(|_| limit_error("cannot allocate the table's elements"))?;
        elements.resize(ty.minimum() as usize, init);
        let def = Box::new(VMTableDefinition {
            base: elements.as_mut_ptr(),
            length: elements.len(),
        });
        Ok(TableData {
            ty,
            elements,
            def,
            max,
        })
    }

    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.length = self.elements.len();
    }

    /// Grows by `delta`; returns the old size or `None`.
    pub fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.elements.len() as u64;
        let new = old.checked_add(delta)?;
        if new > self.max {
            return None;
        }
        self.elements.try_reserve(delta as usize).ok()?;
        self.elements.resize(new as usize, init);
        self.sync();
        Some(old)
    }
}

/// A table in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    pub(crate) store: u64,
    pub(crate) index: usize,
}

impl Table {
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table, Error> {
        let s = opaque_mut(&mut store);
        if !val_matches(s, &init, ty.element()) {
            return Err(Error::usage("table init value has the wrong type"));
        }
        let raw = val_to_raw(s, &init)? as u64;
        let data = TableData::new(s, ty, raw)?;
        s.tables.push(data);
        Ok(Table {
            store: s.id,
            index: s.tables.len() - 1,
        })
    }

    pub(crate) fn data_of<'a>(&self, s: &'a StoreOpaque) -> &'a TableData {
        assert_eq!(s.id, self.store, "table used with a foreign store");
        &s.tables[self.index]
    }

    pub fn ty(&self, store: impl AsContext) -> TableType {
        let t = self.data_of(opaque(&store));
        TableType::new(t.ty.element(), t.elements.len() as u64, t.ty.maximum())
    }

    pub fn size(&self, store: impl AsContext) -> u64 {
        self.data_of(opaque(&store)).elements.len() as u64
    }

    pub fn get(&self, store: impl AsContext, index: u64) -> Option<Val> {
        let s = opaque(&store);
        let t = self.data_of(s);
        let raw = *t.elements.get(usize::try_from(index).ok()?)?;
        Some(val_from_raw(s, t.ty.element(), u128::from(raw)))
    }

    pub fn set(&self, mut store: impl AsContextMut, index: u64, val: Val) -> Result<(), Error> {
        let s = opaque_mut(&mut store);
        s.check(self.store)?;
        if !val_matches(s, &val, s.tables[self.index].ty.element()) {
            return Err(Error::usage("table element has the wrong type"));
        }
        let raw = val_to_raw(s, &val)? as u64;
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| s.tables[self.index].elements.get_mut(i))
            .ok_or_else(|| Error::usage("table index out of bounds"))?;
        *slot = raw;
        Ok(())
    }

    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64, Error> {
        let s = opaque_mut(&mut store);
        s.check(self.store)?;
        if !val_matches(s, &init, s.tables[self.index].ty.element()) {
            return Err(Error::usage("table init value has the wrong type"));
        }
        let raw = val_to_raw(s, &init)? as u64;
        s.tables[self.index]
            .grow(delta, raw)
            .ok_or_else(|| limit_error("failed to grow table"))
    }
}
