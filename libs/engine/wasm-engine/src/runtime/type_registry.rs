//! The engine-wide registry of function types. Wasm 3.0 defines type equality by
//! recursion group: two types are equal when they sit at the same place in equal
//! groups, where a reference inside a group to one of its own members counts by
//! position. A group is keyed that way, so equal groups from any module (or a host
//! [`FuncType`], a group of one) get the same ids, and every id stands for one type.

use alloc::vec::Vec;

use hashbrown::HashMap;

use crate::types::{FuncType, HeapType, RefType, ValType};

/// A value type in a group key: as the engine has it, or a reference to a member of
/// the group being registered (which has no id yet), by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyType {
    Val(ValType),
    Member { nullable: bool, index: u32 },
}

/// One function type of a group being registered. A type not declared `final` (a
/// `sub` type without supertypes) is another type than the same one declared final.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KeyFunc {
    pub params: Vec<KeyType>,
    pub results: Vec<KeyType>,
    pub is_final: bool,
}

impl Default for KeyFunc {
    fn default() -> KeyFunc {
        KeyFunc {
            params: Vec::new(),
            results: Vec::new(),
            is_final: true,
        }
    }
}

/// Groups registered so far, and each id's type.
#[derive(Default)]
pub(crate) struct TypeRegistry {
    groups: HashMap<Vec<KeyFunc>, u32>,
    types: Vec<FuncType>,
}

impl TypeRegistry {
    /// The id of the group's first member (the others follow in order), registering
    /// the group if it is new.
    pub fn intern_group(&mut self, group: &[KeyFunc]) -> u32 {
        if let Some(first) = self.groups.get(group) {
            return *first;
        }
        let first = self.types.len() as u32;
        let resolve = |t: &KeyType| match *t {
            KeyType::Val(v) => v,
            KeyType::Member { nullable, index } => {
                ValType::Ref(RefType::new(nullable, HeapType::Concrete(first + index)))
            }
        };
        for f in group {
            let ty = FuncType::new(f.params.iter().map(resolve), f.results.iter().map(resolve));
            self.types.push(ty);
        }
        self.groups.insert(group.to_vec(), first);
        first
    }

    /// The id of a type given on its own (a group of one).
    pub fn intern(&mut self, ty: &FuncType) -> u32 {
        let key = KeyFunc {
            params: ty.params().iter().map(|t| KeyType::Val(*t)).collect(),
            results: ty.results().iter().map(|t| KeyType::Val(*t)).collect(),
            is_final: true,
        };
        self.intern_group(core::slice::from_ref(&key))
    }

    pub fn get(&self, id: u32) -> &FuncType {
        &self.types[id as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(index: u32) -> KeyType {
        KeyType::Member {
            nullable: false,
            index,
        }
    }

    #[test]
    fn equal_groups_get_equal_ids_and_a_lone_type_is_a_group_of_one() {
        let mut r = TypeRegistry::default();
        let f = FuncType::new([ValType::I32], []);
        let a = r.intern(&f);
        let b = r.intern(&f);
        assert_eq!(a, b);
        let group = [KeyFunc {
            params: alloc::vec![KeyType::Val(ValType::I32)],
            ..KeyFunc::default()
        }];
        assert_eq!(r.intern_group(&group), a);
        assert_eq!(r.get(a), &f);
    }

    #[test]
    fn a_type_in_a_bigger_group_is_not_the_same_type_alone() {
        let mut r = TypeRegistry::default();
        let lone = r.intern(&FuncType::new([], []));
        let pair = [KeyFunc::default(), KeyFunc::default()];
        let first = r.intern_group(&pair);
        assert_ne!(first, lone);
        assert_ne!(first + 1, lone);
        assert_eq!(r.intern_group(&pair), first);
    }

    #[test]
    fn references_to_members_resolve_to_the_members_ids() {
        let mut r = TypeRegistry::default();
        let group = [KeyFunc {
            params: alloc::vec![member(0)],
            ..KeyFunc::default()
        }];
        let id = r.intern_group(&group);
        let ty = r.get(id);
        assert_eq!(
            ty.params(),
            &[ValType::Ref(RefType::new(false, HeapType::Concrete(id)))]
        );
        // The same shape, registered again (another module), is the same type.
        assert_eq!(r.intern_group(&group), id);
    }
}
