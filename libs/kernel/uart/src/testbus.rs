//! A fake register bus for host tests: registers are plain values that
//! writes set and reads return, every access is logged, and a register can
//! be told to drop its next writes (a busy DesignWare LCR).

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::Bus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read(usize),
    Write(usize, u32),
}

#[derive(Debug, Default)]
pub struct FakeBus {
    values: RefCell<BTreeMap<usize, u32>>,
    dropped: RefCell<BTreeMap<usize, usize>>,
    log: RefCell<Vec<Access>>,
}

impl FakeBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a register's value without logging an access.
    pub fn preset(&self, offset: usize, value: u32) {
        self.values.borrow_mut().insert(offset, value);
    }

    /// The next `count` writes to `offset` are logged but change nothing.
    pub fn drop_writes(&self, offset: usize, count: usize) {
        self.dropped.borrow_mut().insert(offset, count);
    }

    pub fn value(&self, offset: usize) -> u32 {
        self.values.borrow().get(&offset).copied().unwrap_or(0)
    }

    pub fn log(&self) -> Vec<Access> {
        self.log.borrow().clone()
    }

    /// The writes, in order, as (offset, value).
    pub fn writes(&self) -> Vec<(usize, u32)> {
        self.log
            .borrow()
            .iter()
            .filter_map(|a| match *a {
                Access::Write(o, v) => Some((o, v)),
                Access::Read(_) => None,
            })
            .collect()
    }
}

impl Bus for FakeBus {
    fn read(&self, offset: usize) -> u32 {
        self.log.borrow_mut().push(Access::Read(offset));
        self.value(offset)
    }

    fn write(&self, offset: usize, value: u32) {
        self.log.borrow_mut().push(Access::Write(offset, value));
        let mut dropped = self.dropped.borrow_mut();
        if let Some(n) = dropped.get_mut(&offset)
            && *n > 0
        {
            *n -= 1;
            return;
        }
        self.values.borrow_mut().insert(offset, value);
    }
}
