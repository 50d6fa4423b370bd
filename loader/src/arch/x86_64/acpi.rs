//! Just enough ACPI to find the CPUs: RSDP → XSDT (or RSDT) → MADT, whose
//! local APIC and x2APIC entries name every processor and whether it is
//! enabled. The kernel parses ACPI properly; the loader only needs the APIC
//! ids to hand out boot stacks.

/// Read access to physical memory (identity-mapped under UEFI).
pub trait PhysMem {
    /// `len` bytes at physical `addr`, or `None` if out of reach.
    fn read(&self, addr: u64, len: usize) -> Option<&[u8]>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpus {
    /// Bit `i`: the enabled processor with APIC id `i` (ids below 64).
    pub apic_ids: u64,
    /// Enabled processors the MADT lists, including those with ids of 64 or more.
    pub enabled: u32,
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from(u32_at(b, off)) | (u64::from(u32_at(b, off + 4)) << 32)
}

fn checksum_ok(b: &[u8]) -> bool {
    b.iter().fold(0u8, |a, &x| a.wrapping_add(x)) == 0
}

const SDT_HEADER: usize = 36;

/// A whole system description table at `addr` with a valid checksum.
fn table<M: PhysMem>(mem: &M, addr: u64) -> Result<&[u8], &'static str> {
    let header = mem
        .read(addr, SDT_HEADER)
        .ok_or("ACPI table out of reach")?;
    let len = u32_at(header, 4) as usize;
    if len < SDT_HEADER {
        return Err("ACPI table shorter than its header");
    }
    let t = mem.read(addr, len).ok_or("ACPI table out of reach")?;
    if !checksum_ok(t) {
        return Err("ACPI table checksum mismatch");
    }
    Ok(t)
}

/// Finds the table with `signature` through the RSDP at `rsdp`; `Ok(None)` if absent.
pub fn find_table<'m, M: PhysMem>(
    mem: &'m M,
    rsdp: u64,
    signature: &[u8; 4],
) -> Result<Option<&'m [u8]>, &'static str> {
    let r = mem.read(rsdp, 20).ok_or("RSDP out of reach")?;
    if &r[..8] != b"RSD PTR " || !checksum_ok(r) {
        return Err("bad RSDP");
    }
    let revision = r[15];
    let (root, entry_size) = if revision >= 2 {
        let r = mem.read(rsdp, 36).ok_or("RSDP out of reach")?;
        if !checksum_ok(r) {
            return Err("bad ACPI 2.0 RSDP checksum");
        }
        (u64_at(r, 24), 8)
    } else {
        (u64::from(u32_at(r, 16)), 4)
    };
    let root = table(mem, root)?;
    let want: &[u8; 4] = if entry_size == 8 { b"XSDT" } else { b"RSDT" };
    if &root[..4] != want {
        return Err("RSDP does not point at an XSDT/RSDT");
    }
    for entry in root[SDT_HEADER..].chunks_exact(entry_size) {
        let addr = if entry_size == 8 {
            u64_at(entry, 0)
        } else {
            u64::from(u32_at(entry, 0))
        };
        let t = table(mem, addr)?;
        if &t[..4] == signature {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// The enabled processors of a MADT ("APIC" table).
pub fn madt_cpus(madt: &[u8]) -> Result<Cpus, &'static str> {
    if madt.len() < 44 || &madt[..4] != b"APIC" {
        return Err("not a MADT");
    }
    let mut cpus = Cpus {
        apic_ids: 0,
        enabled: 0,
    };
    let mut rest = &madt[44..];
    while !rest.is_empty() {
        if rest.len() < 2 || rest[1] < 2 || rest[1] as usize > rest.len() {
            return Err("truncated MADT entry");
        }
        let (entry, next) = rest.split_at(rest[1] as usize);
        let (id, flags) = match (entry[0], entry.len()) {
            (0, 8..) => (u32::from(entry[3]), u32_at(entry, 4)),
            (9, 16..) => (u32_at(entry, 4), u32_at(entry, 8)),
            (0 | 9, _) => return Err("short MADT processor entry"),
            _ => (0, 0),
        };
        if flags & 1 != 0 {
            cpus.enabled += 1;
            if id < 64 {
                cpus.apic_ids |= 1 << id;
            }
        }
        rest = next;
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fake physical memory: a buffer starting at physical 0x1000.
    struct Mem(Vec<u8>);
    const BASE: u64 = 0x1000;

    impl PhysMem for Mem {
        fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
            let off = usize::try_from(addr.checked_sub(BASE)?).ok()?;
            self.0.get(off..off.checked_add(len)?)
        }
    }

    fn fix_checksum(b: &mut [u8], at: usize) {
        b[at] = 0;
        let sum = b.iter().fold(0u8, |a, &x| a.wrapping_add(x));
        b[at] = sum.wrapping_neg();
    }

    fn sdt(sig: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut t = vec![0u8; SDT_HEADER];
        t[..4].copy_from_slice(sig);
        t.extend_from_slice(body);
        let len = t.len() as u32;
        t[4..8].copy_from_slice(&len.to_le_bytes());
        fix_checksum(&mut t, 9);
        t
    }

    fn madt() -> Vec<u8> {
        let mut body = vec![0u8; 8]; // LAPIC address, flags
        for (id, flags) in [(0u8, 1u32), (1, 1), (2, 0), (3, 2), (5, 1)] {
            body.extend_from_slice(&[0, 8, id, id]);
            body.extend_from_slice(&flags.to_le_bytes());
        }
        body.extend_from_slice(&[1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0]); // an I/O APIC
        for (id, flags) in [(70u32, 1u32), (7, 1)] {
            body.extend_from_slice(&[9, 16, 0, 0]);
            body.extend_from_slice(&id.to_le_bytes());
            body.extend_from_slice(&flags.to_le_bytes());
            body.extend_from_slice(&id.to_le_bytes());
        }
        sdt(b"APIC", &body)
    }

    #[test]
    fn madt_lists_enabled_processors() {
        let cpus = madt_cpus(&madt()).unwrap();
        assert_eq!(cpus.apic_ids, 0b1010_0011);
        assert_eq!(cpus.enabled, 5);
        let mut bad = madt();
        bad[44 + 1] = 200;
        assert_eq!(madt_cpus(&bad), Err("truncated MADT entry"));
        bad[44 + 1] = 1;
        assert_eq!(madt_cpus(&bad), Err("truncated MADT entry"));
        bad[44 + 1] = 4;
        assert_eq!(madt_cpus(&bad), Err("short MADT processor entry"));
        assert!(madt_cpus(&bad[..30]).is_err());
    }

    /// RSDP at BASE, then the root table, a FACP and the MADT.
    fn tables(revision: u8) -> Vec<u8> {
        let facp = sdt(b"FACP", &[0; 20]);
        let madt = madt();
        let root_at = BASE + 64;
        let root_len = SDT_HEADER + 2 * if revision >= 2 { 8 } else { 4 };
        let facp_at = root_at + root_len as u64;
        let madt_at = facp_at + facp.len() as u64;
        let mut body = Vec::new();
        for addr in [facp_at, madt_at] {
            if revision >= 2 {
                body.extend_from_slice(&addr.to_le_bytes());
            } else {
                body.extend_from_slice(&(addr as u32).to_le_bytes());
            }
        }
        let root = sdt(if revision >= 2 { b"XSDT" } else { b"RSDT" }, &body);
        let mut mem = vec![0u8; 64];
        mem[..8].copy_from_slice(b"RSD PTR ");
        mem[15] = revision;
        mem[16..20].copy_from_slice(&(root_at as u32).to_le_bytes());
        mem[20..24].copy_from_slice(&36u32.to_le_bytes());
        mem[24..32].copy_from_slice(&root_at.to_le_bytes());
        fix_checksum(&mut mem[..20], 8);
        fix_checksum(&mut mem[..36], 32);
        mem.extend(root);
        mem.extend(facp);
        mem.extend(madt);
        mem
    }

    #[test]
    fn finds_the_madt_through_xsdt_and_rsdt() {
        for revision in [0, 2] {
            let mem = Mem(tables(revision));
            let t = find_table(&mem, BASE, b"APIC").unwrap().unwrap();
            assert_eq!(madt_cpus(t).unwrap().enabled, 5);
            assert_eq!(find_table(&mem, BASE, b"HPET").unwrap(), None);
        }
        let mut broken = tables(2);
        let last = broken.len() - 1;
        broken[last] ^= 1;
        assert_eq!(
            find_table(&Mem(broken), BASE, b"APIC"),
            Err("ACPI table checksum mismatch")
        );
        let mut no_sig = tables(2);
        no_sig[0] = b'X';
        assert_eq!(find_table(&Mem(no_sig), BASE, b"APIC"), Err("bad RSDP"));
        assert!(find_table(&Mem(tables(2)), 0x10_0000, b"APIC").is_err());
    }
}
