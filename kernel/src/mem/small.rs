//! Free lists of small heap blocks in front of talc: a freed block of up to
//! [`MAX`] bytes (alignment up to [`ALIGN`]) goes on the list of its size
//! class (a power of two) instead of back to talc, and the next request of
//! that class takes it off again. Taking or giving a block is a pop or a push
//! under one lock; talc's bin search and gap bookkeeping, which cost several
//! hundred instructions per allocation and free, are paid only when a list is
//! empty or full. Instantiating a Wasm module makes a handful of such small
//! allocations (store, VMContext, vectors), as do messages and thread records.
//!
//! Blocks of a class are always allocated from talc at the class's size, so a
//! live small allocation counts at its class size in the heap statistics, and
//! listed blocks count as free. Lists are bounded ([`LIST_MAX`] blocks each,
//! 64 KiB in all); when talc runs out, they are emptied into it and the
//! request is retried.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};

/// The smallest class (the list link must fit in a block).
const MIN: usize = 16;
/// The biggest class.
pub const MAX: usize = 1024;
/// The greatest alignment a small request may ask for.
pub const ALIGN: usize = 16;
/// Classes: 16, 32, ..., 512 bytes.
const CLASSES: usize = (MAX / MIN).trailing_zeros() as usize + 1;
/// Blocks kept per class, at most.
const LIST_MAX: usize = 32;
/// The class of each size in [`MIN`] units, rounded up (a table: without
/// the bit-manipulation extension, counting bits is a long sequence).
const CLASS_OF: [u8; MAX / MIN + 1] = {
    let mut t = [0u8; MAX / MIN + 1];
    let mut units = 1;
    while units <= MAX / MIN {
        let mut class = 0;
        while (1 << class) < units {
            class += 1;
        }
        t[units] = class;
        units += 1;
    }
    t
};

/// A listed (free) block: its first word links to the next.
struct Free {
    next: Option<NonNull<Free>>,
}

/// The lists and their lengths.
pub struct Lists {
    heads: [Option<NonNull<Free>>; CLASSES],
    lens: [usize; CLASSES],
}

// SAFETY: the lists hold blocks of the heap, which every hart shares; they are
// only touched under the lock around them.
unsafe impl Send for Lists {}

impl Lists {
    pub const fn new() -> Lists {
        Lists {
            heads: [None; CLASSES],
            lens: [0; CLASSES],
        }
    }

    /// Takes a listed block of `class`, if there is one.
    #[inline]
    pub fn pop(&mut self, class: usize) -> Option<*mut u8> {
        let b = self.heads[class]?;
        // SAFETY: a listed block is free, ours and holds its link.
        self.heads[class] = unsafe { b.as_ref().next };
        self.lens[class] -= 1;
        Some(b.as_ptr().cast())
    }

    /// Lists block `p` of `class` unless its list is full; returns whether it did.
    ///
    /// # Safety
    /// `p` is a block of `class` from talc that nobody uses any more.
    #[inline]
    pub unsafe fn push(&mut self, class: usize, p: *mut u8) -> bool {
        if self.lens[class] == LIST_MAX {
            return false;
        }
        let b = p.cast::<Free>();
        // SAFETY: the block is ours (the caller's contract), at least MIN bytes
        // and ALIGN-aligned: room for the link.
        unsafe {
            b.write(Free {
                next: self.heads[class],
            })
        };
        self.heads[class] = NonNull::new(b);
        self.lens[class] += 1;
        true
    }

    /// Listed blocks and their bytes.
    pub fn cached(&self) -> (u64, u64) {
        self.lens
            .iter()
            .enumerate()
            .fold((0, 0), |(n, b), (c, &len)| {
                (n + len as u64, b + (len * block_size(c)) as u64)
            })
    }
}

/// The class of a request, if it is small.
pub fn class(layout: Layout) -> Option<usize> {
    if layout.size() > MAX || layout.align() > ALIGN {
        return None;
    }
    Some(CLASS_OF[layout.size().div_ceil(MIN)] as usize)
}

fn block_size(class: usize) -> usize {
    MIN << class
}

/// What talc is asked for, for a block of `class`.
pub fn block_layout(class: usize) -> Layout {
    // Cannot fail: a power of two up to MAX, aligned to ALIGN.
    Layout::from_size_align(block_size(class), ALIGN).expect("small block layout")
}

/// The small-block allocator over `backing` (talc), its lists under `lists`.
pub struct Small<'a, A: GlobalAlloc> {
    pub backing: &'a A,
    pub lists: &'a spin::Mutex<Lists>,
}

impl<A: GlobalAlloc> Small<'_, A> {
    /// A block of `class`: a listed one, else a new one from talc.
    ///
    /// # Safety
    /// As for [`GlobalAlloc::alloc`].
    #[inline]
    pub unsafe fn alloc(&self, class: usize) -> *mut u8 {
        let listed = self.lists.lock().pop(class);
        match listed {
            Some(p) => p,
            // SAFETY: forwarded from the caller.
            None => unsafe { self.alloc_new(class) },
        }
    }

    /// A new block of `class` from talc (after emptying every list into it if
    /// it has no room).
    ///
    /// # Safety
    /// As for [`GlobalAlloc::alloc`].
    #[cold]
    #[inline(never)]
    unsafe fn alloc_new(&self, class: usize) -> *mut u8 {
        let layout = block_layout(class);
        // SAFETY: a valid non-zero layout.
        let p = unsafe { self.backing.alloc(layout) };
        if !p.is_null() || self.drain() == 0 {
            return p;
        }
        // SAFETY: as above.
        unsafe { self.backing.alloc(layout) }
    }

    /// Lists block `p` of `class`, or gives it back to talc if its list is full.
    ///
    /// # Safety
    /// `p` came from [`Small::alloc`] with `class` and is no longer used.
    #[inline]
    pub unsafe fn dealloc(&self, p: *mut u8, class: usize) {
        // SAFETY: forwarded from the caller.
        let listed = unsafe { self.lists.lock().push(class, p) };
        if !listed {
            // SAFETY: as above.
            unsafe { self.dealloc_full(p, class) };
        }
    }

    /// Gives block `p` of `class` back to talc (its list is full).
    ///
    /// # Safety
    /// As for [`Small::dealloc`].
    #[cold]
    #[inline(never)]
    unsafe fn dealloc_full(&self, p: *mut u8, class: usize) {
        // SAFETY: allocated from talc with this layout.
        unsafe { self.backing.dealloc(p, block_layout(class)) };
    }

    /// Gives every listed block back to talc; returns how many there were.
    pub fn drain(&self) -> usize {
        let mut n = 0;
        for class in 0..CLASSES {
            let mut head = {
                let mut l = self.lists.lock();
                l.lens[class] = 0;
                l.heads[class].take()
            };
            while let Some(b) = head {
                // SAFETY: the unlinked list is ours alone now; each block was
                // allocated from talc with its class's layout.
                unsafe {
                    head = b.as_ref().next;
                    self.backing.dealloc(b.as_ptr().cast(), block_layout(class));
                }
                n += 1;
            }
        }
        n
    }

    /// `realloc` for a request that is small before or after.
    ///
    /// # Safety
    /// As for [`GlobalAlloc::realloc`].
    pub unsafe fn realloc(&self, p: *mut u8, old: Layout, new_size: usize) -> *mut u8 {
        let Ok(new) = Layout::from_size_align(new_size, old.align()) else {
            return ptr::null_mut();
        };
        let (from, to) = (class(old), class(new));
        if from.is_some() && from == to {
            return p;
        }
        // SAFETY: `new` is a valid non-zero layout (GlobalAlloc's contract).
        let q = unsafe {
            match to {
                Some(c) => self.alloc(c),
                None => self.backing.alloc(new),
            }
        };
        if q.is_null() {
            return q;
        }
        // SAFETY: both blocks are live and hold at least the bytes copied;
        // the old one is given back after the copy.
        unsafe {
            ptr::copy_nonoverlapping(p, q, old.size().min(new_size));
            match from {
                Some(c) => self.dealloc(p, c),
                None => self.backing.dealloc(p, old),
            }
        }
        q
    }
}
