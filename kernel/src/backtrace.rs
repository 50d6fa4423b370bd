//! Frame-pointer backtraces, symbolized from the kernel ELF's `.symtab`.

use core::fmt::{self, Write};

use xmas_elf::ElfFile;
use xmas_elf::sections::SectionData;
use xmas_elf::symbol_table::{Entry, Type};

use crate::sched::percpu;

const MAX_FRAMES: usize = 32;

/// The kernel ELF file as the loader left it, if known.
fn kernel_elf() -> Option<ElfFile<'static>> {
    let bi = crate::boot_info_opt()?;
    let range = bi.kernel.elf;
    if range.is_empty() {
        return None;
    }
    // SAFETY: the loader keeps the ELF file in `KernelElf` memory, never
    // handed to the frame allocator, and all RAM is mapped at phys_offset.
    let bytes = unsafe {
        core::slice::from_raw_parts(
            (bi.phys_offset + range.start) as *const u8,
            range.len as usize,
        )
    };
    ElfFile::new(bytes).ok()
}

/// A symbol containing a link-time address.
pub struct Symbol {
    pub name: &'static str,
    pub offset: u64,
}

/// Looks up the function containing the run-time address `addr`.
pub fn symbolize(addr: usize) -> Option<Symbol> {
    let elf = kernel_elf()?;
    let slide = crate::boot_info_opt()?.kernel.slide;
    let link = (addr as u64).wrapping_sub(slide);
    let symtab = elf.find_section_by_name(".symtab")?;
    let Ok(SectionData::SymbolTable64(entries)) = symtab.get_data(&elf) else {
        return None;
    };
    let e = entries.iter().find(|e| {
        matches!(e.get_type(), Ok(Type::Func))
            && e.value() <= link
            && link < e.value() + e.size().max(1)
    })?;
    let name = e.get_name(&elf).ok()?;
    Some(Symbol {
        name,
        offset: link - e.value(),
    })
}

/// Whether `fp` may be followed: aligned and inside a stack we know.
fn plausible_fp(fp: usize) -> bool {
    if !fp.is_multiple_of(8) || fp < 16 {
        return false;
    }
    // The two-word frame record (its place relative to fp is the arch's).
    let record = crate::arch::frame_record_addr(fp);
    let in_trap_stack = percpu::current().trap_stack().contains(&record);
    let in_stacks = crate::mem::vm::is_stack_addr(record as u64)
        && crate::mem::vm::is_mapped(record as u64)
        && crate::mem::vm::is_mapped(record as u64 + 8);
    in_trap_stack || in_stacks
}

/// Whether `pc` is in JIT-compiled Wasm code (or an engine trampoline).
fn is_wasm(pc: usize) -> bool {
    struct Discard;
    impl Write for Discard {
        fn write_str(&mut self, _: &str) -> fmt::Result {
            Ok(())
        }
    }
    // `describe_pc` never blocks (unlike `is_wasm_pc`): this runs in fault reports.
    wasm_engine::trap::describe_pc(pc, &mut Discard).is_some()
}

/// One step from a JIT frame: Cranelift keeps the caller's fp at `[fp]`
/// and the return address at `[fp + 8]` on every arch (LLVM's riscv
/// frames differ: see `arch::unwind_step`).
fn wasm_unwind_step(fp: usize) -> Option<(usize, usize)> {
    let mapped =
        |a: usize| crate::mem::vm::is_stack_addr(a as u64) && crate::mem::vm::is_mapped(a as u64);
    if !fp.is_multiple_of(8) || !mapped(fp) || !mapped(fp + 8) {
        return None;
    }
    // SAFETY: both words lie in a mapped stack page (checked above).
    Some(unsafe { (*((fp + 8) as *const usize), *(fp as *const usize)) })
}

/// Whether `a` and `b` lie in one stack: every page between them is mapped
/// (kernel stacks are separated by unmapped guard pages).
fn one_stack(a: usize, b: usize) -> bool {
    let page = crate::mem::PAGE_SIZE as usize;
    let (lo, hi) = (a.min(b), a.max(b));
    (lo & !(page - 1)..=hi)
        .step_by(page)
        .all(|p| crate::mem::vm::is_mapped(p as u64))
}

/// Prints `pc` and the return addresses found by walking frame pointers
/// from `fp`, through Wasm frames too (named from the engine's tables).
pub fn print_from(out: &mut dyn Write, pc: usize, fp: usize) {
    let _ = print_frame(out, 0, pc);
    let mut fp = fp;
    let mut here = pc;
    for i in 1..MAX_FRAMES {
        let step = if is_wasm(here) {
            wasm_unwind_step(fp)
        } else if plausible_fp(fp) {
            // SAFETY: `plausible_fp` checked the record lies in a mapped stack.
            Some(unsafe { crate::arch::unwind_step(fp) })
        } else {
            None
        };
        let Some((ra, prev)) = step else {
            return;
        };
        if ra == 0 {
            return;
        }
        // ra points after the call; ra - 1 names the calling function.
        here = ra.wrapping_sub(1);
        let _ = print_frame(out, i, here);
        if prev <= fp && one_stack(prev, fp) {
            // Stacks grow down: within one stack a caller's frame is always
            // higher. Only `arch::call_on_stack`'s record (or a trap) leads to
            // another stack, which may lie lower.
            return;
        }
        fp = prev;
    }
    let _ = writeln!(out, "  ... (truncated)");
}

/// Prints the backtrace of the calling code.
#[inline(never)]
pub fn print_here(out: &mut dyn Write) {
    let fp = crate::arch::frame_pointer();
    print_from(out, print_here as *const () as usize, fp);
}

fn print_frame(out: &mut dyn Write, i: usize, addr: usize) -> fmt::Result {
    match symbolize(addr) {
        Some(sym) => writeln!(
            out,
            "  {i:>2}: {addr:#018x} {:#}+{:#x}",
            rustc_demangle::demangle(sym.name),
            sym.offset
        ),
        None => {
            write!(out, "  {i:>2}: {addr:#018x} ")?;
            if let Some(r) = wasm_engine::trap::describe_pc(addr, out) {
                r?;
                return writeln!(out);
            }
            writeln!(out, "<unknown>")
        }
    }
}

#[cfg(feature = "ktest")]
mod tests {

    use ktest::ktest;

    /// A function whose address the test looks up.
    #[inline(never)]
    fn a_function_to_find() {
        core::hint::black_box(());
    }

    ktest! {
        fn backtrace_symbols_resolve() {
            let addr = a_function_to_find as *const () as usize;
            let sym = crate::backtrace::symbolize(addr).expect("no symbol for a_function_to_find");
            let name = alloc::format!("{:#}", rustc_demangle::demangle(sym.name));
            assert!(name.ends_with("a_function_to_find"), "{name}");
            assert_eq!(sym.offset, 0);
        }
    }
}
