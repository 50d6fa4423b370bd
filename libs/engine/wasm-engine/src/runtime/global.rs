//! Globals: a 16-byte cell owned by the store; imports share the cell.

use alloc::boxed::Box;

use crate::Error;
use crate::runtime::func::{val_from_raw, val_matches, val_to_raw};
use crate::runtime::store::{AsContext, AsContextMut, StoreOpaque, opaque, opaque_mut};
use crate::runtime::vmcontext::VMGlobal;
use crate::types::{GlobalType, Val};

pub(crate) struct GlobalData {
    pub ty: GlobalType,
    pub cell: Box<VMGlobal>,
}

/// A global in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Global {
    pub(crate) store: u64,
    pub(crate) index: usize,
}

impl Global {
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global, Error> {
        let s = opaque_mut(&mut store);
        if !val_matches(s, &val, ty.content()) {
            return Err(Error::usage("global value has the wrong type"));
        }
        let bits = val_to_raw(s, &val)?;
        Ok(Global::from_raw(s, ty, bits))
    }

    pub(crate) fn from_raw(s: &mut StoreOpaque, ty: GlobalType, bits: u128) -> Global {
        s.globals.push(GlobalData {
            ty,
            cell: Box::new(VMGlobal { bits }),
        });
        Global {
            store: s.id,
            index: s.globals.len() - 1,
        }
    }

    pub(crate) fn data_of<'a>(&self, s: &'a StoreOpaque) -> &'a GlobalData {
        assert_eq!(s.id, self.store, "global used with a foreign store");
        &s.globals[self.index]
    }

    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        self.data_of(opaque(&store)).ty
    }

    pub fn get(&self, store: impl AsContext) -> Val {
        let s = opaque(&store);
        let g = self.data_of(s);
        val_from_raw(s, g.ty.content(), g.cell.bits)
    }

    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<(), Error> {
        let s = opaque_mut(&mut store);
        s.check(self.store)?;
        let ty = s.globals[self.index].ty;
        if !ty.is_mutable() {
            return Err(Error::usage("global is immutable"));
        }
        if !val_matches(s, &val, ty.content()) {
            return Err(Error::usage("global value has the wrong type"));
        }
        let bits = val_to_raw(s, &val)?;
        s.globals[self.index].cell.bits = bits;
        Ok(())
    }
}
