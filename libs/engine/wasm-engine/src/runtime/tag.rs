//! Exception tags: what `throw` names and `catch` matches. A tag is an object of its
//! store, like a global: modules define, import and export them, and two tag indices
//! match only when they name the same object.

use crate::Error;
use crate::runtime::store::{AsContext, AsContextMut, StoreOpaque, opaque, opaque_mut};
use crate::types::TagType;

pub(crate) struct TagData {
    pub ty: TagType,
    /// The engine-wide id of its function type.
    pub sig: u32,
}

/// An exception tag in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    pub(crate) store: u64,
    pub(crate) index: usize,
}

impl Tag {
    /// A new tag of type `ty` (whose function type must have no results).
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag, Error> {
        if !ty.ty().results().is_empty() {
            return Err(Error::usage("a tag's type has no results"));
        }
        let s = opaque_mut(&mut store);
        let sig = s.engine.intern(ty.ty());
        Ok(s.add_tag(ty.clone(), sig))
    }

    pub fn ty(&self, store: impl AsContext) -> TagType {
        self.data_of(opaque(&store)).ty.clone()
    }

    pub(crate) fn data_of<'a>(&self, s: &'a StoreOpaque) -> &'a TagData {
        assert_eq!(s.id, self.store, "tag used with a foreign store");
        &s.eh().tags[self.index]
    }
}

impl StoreOpaque {
    /// Adds a tag of type `ty`, whose engine-wide id is `sig`.
    pub(crate) fn add_tag(&mut self, ty: TagType, sig: u32) -> Tag {
        let store = self.id;
        let tags = &mut self.eh_mut().tags;
        tags.push(TagData { ty, sig });
        Tag {
            store,
            index: tags.len() - 1,
        }
    }
}
