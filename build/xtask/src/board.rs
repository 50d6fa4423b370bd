//! Boards as data (`configs/boards/*.toml`) and the disk images `just image
//! board=NAME` writes for them: a GPT disk whose FAT boot partition holds
//! the loader as a RISC-V Linux `Image`, the initrd, the board's device tree
//! when its firmware lacks one, and `extlinux/extlinux.conf` for U-Boot's
//! standard boot flow (distro boot or bootstd), which loads the three and
//! starts the Image with `booti`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::linux_image;

/// A board: the machine, and what its firmware needs to boot atoll.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// File stem under `configs/boards/`, filled in after parsing.
    #[serde(skip)]
    pub name: String,
    /// The board's name, e.g. "StarFive VisionFive 2".
    pub title: String,
    pub soc: String,
    pub description: String,
    pub memory: Memory,
    pub cpu: Cpu,
    pub console: Console,
    pub interrupt_controller: InterruptController,
    pub firmware: Firmware,
    #[serde(default)]
    pub boot: Boot,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    /// Physical address where RAM starts.
    pub base: u64,
    /// RAM of the smallest variant ("2G", "512M"); the firmware's device tree has the real size.
    pub size: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cpu {
    /// Hart ids atoll runs on (monitor cores left out).
    pub harts: Vec<u32>,
    /// Hart ids the firmware lists that atoll never starts (no S-mode or MMU).
    #[serde(default)]
    pub monitor_harts: Vec<u32>,
    /// The richest paging mode: "sv39", "sv48".
    pub mmu: String,
    /// The harts' ISA as the device tree's `riscv,isa` spells it.
    pub isa: String,
    /// Vendor quirks atoll handles: "xtheadmae" (T-Head page attributes).
    #[serde(default)]
    pub quirks: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Console {
    /// The UART node's `compatible` string the kernel's driver matches.
    pub compatible: String,
    pub base: u64,
    #[serde(default)]
    pub reg_shift: u32,
    #[serde(default = "one")]
    pub reg_io_width: u32,
    pub irq: u32,
    /// What the firmware sets and a serial terminal must use.
    pub baud: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterruptController {
    /// The PLIC node's `compatible` string the kernel matches.
    pub compatible: String,
    pub base: u64,
}

/// How the board's own firmware finds and starts atoll.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Firmware {
    /// What must run before atoll, and where it lives (SPI flash, eMMC).
    pub requires: String,
    /// How the firmware finds atoll: "extlinux" (U-Boot's standard boot
    /// flow reads `extlinux/extlinux.conf` from the boot partition).
    pub method: Method,
    /// The partition the firmware reads (1 unless a vendor U-Boot insists).
    #[serde(default = "first_partition")]
    pub partition: u32,
    /// Where the device tree comes from: the firmware's own, or a file the
    /// image carries (`dtb=PATH` to `just image`).
    pub dtb: DtbSource,
    /// Where the firmware describes how to get a device tree, when it has none.
    #[serde(default)]
    pub dtb_hint: Option<String>,
    /// U-Boot's load addresses (`kernel_addr_r`, `fdt_addr_r`, `ramdisk_addr_r`).
    pub kernel_addr_r: u64,
    pub fdt_addr_r: u64,
    pub ramdisk_addr_r: u64,
    /// Further files the firmware loads from the boot partition and the
    /// image carries, as `[host path, path on the partition]`.
    #[serde(default)]
    pub extra_files: Vec<[String; 2]>,
    /// Files the firmware loads that atoll cannot ship (vendor blobs): the
    /// user copies them in; `just image` and docs/boards.md say so.
    #[serde(default)]
    pub vendor_files: Vec<String>,
}

fn first_partition() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Extlinux,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DtbSource {
    Firmware,
    File,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boot {
    /// Boot arguments (`append` in extlinux.conf).
    #[serde(default = "default_args")]
    pub args: String,
}

impl Default for Boot {
    fn default() -> Self {
        Self {
            args: default_args(),
        }
    }
}

fn default_args() -> String {
    "log=info".into()
}

/// What goes on a board's disk.
pub struct Contents {
    /// The loader as a flat `Image`.
    pub image: Vec<u8>,
    pub initrd: Vec<u8>,
    pub args: String,
    /// A device tree blob, for boards whose firmware has none.
    pub dtb: Option<Vec<u8>>,
}

/// Where the files go on the boot partition.
pub const IMAGE_PATH: &str = "atoll/Image";
pub const INITRD_PATH: &str = "atoll/initrd.cpio";
pub const DTB_PATH: &str = "atoll/board.dtb";
pub const EXTLINUX_PATH: &str = "extlinux/extlinux.conf";

/// Parses "512M", "2G", "64K" or a plain byte count.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, shift) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 10),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 20),
        Some(b'G' | b'g') => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("`{s}` is not a size (like 512M or 2G)"))
}

/// `[start, start + len)` of every named range that overlaps another.
fn overlaps(ranges: &[(&str, u64, u64)]) -> Option<String> {
    for (i, a) in ranges.iter().enumerate() {
        for b in &ranges[i + 1..] {
            if a.1 < b.1 + b.2 && b.1 < a.1 + a.2 {
                return Some(format!(
                    "{} ({:#x}..{:#x}) overlaps {} ({:#x}..{:#x})",
                    a.0,
                    a.1,
                    a.1 + a.2,
                    b.0,
                    b.1,
                    b.1 + b.2
                ));
            }
        }
    }
    None
}

impl Board {
    /// Loads `configs/boards/<name>.toml` (or a path to a `.toml`) and checks it.
    pub fn load(root: &Path, name: &str) -> Result<Self, String> {
        let name = name.strip_prefix("board=").unwrap_or(name);
        let path = if name.ends_with(".toml") || name.contains('/') {
            PathBuf::from(name)
        } else {
            root.join("configs/boards").join(format!("{name}.toml"))
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read board {}: {e} (see `ls configs/boards/` for the choices)",
                path.display()
            )
        })?;
        let mut board: Board =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        board.name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        board
            .check()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(board)
    }

    /// Every board under `configs/boards/`, by name.
    pub fn all(root: &Path) -> Result<Vec<Self>, String> {
        let dir = root.join("configs/boards");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| format!("reading {}: {e}", dir.display()))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".toml")
                    .map(String::from)
            })
            .collect();
        names.sort();
        names.iter().map(|n| Self::load(root, n)).collect()
    }

    /// Checks the description against what atoll supports: a UART and
    /// interrupt controller its drivers match, RAM the loader's `Image`
    /// fits (2 MiB aligned base), load addresses inside RAM, and quirks it
    /// knows.
    pub fn check(&self) -> Result<(), String> {
        let ram = parse_size(&self.memory.size)?;
        if !self.memory.base.is_multiple_of(2 << 20) {
            return Err(format!(
                "RAM base {:#x} is not 2 MiB aligned (booti places the Image at base + 2 MiB)",
                self.memory.base
            ));
        }
        if uart::probe::kind_of(std::iter::once(self.console.compatible.as_str())).is_none() {
            return Err(format!(
                "console `{}` is not a UART the kernel drives ({})",
                self.console.compatible,
                uart::probe::COMPATIBLE.map(|(c, _)| c).join(", ")
            ));
        }
        if !matches!(self.console.reg_io_width, 1 | 2 | 4) || self.console.reg_shift > 4 {
            return Err("console reg_io_width must be 1, 2 or 4, reg_shift at most 4".into());
        }
        if !plic::COMPATIBLE.contains(&self.interrupt_controller.compatible.as_str()) {
            return Err(format!(
                "interrupt controller `{}` is not one the kernel drives ({})",
                self.interrupt_controller.compatible,
                plic::COMPATIBLE.join(", ")
            ));
        }
        if !matches!(self.cpu.mmu.as_str(), "sv39" | "sv48" | "sv57") {
            return Err(format!(
                "cpu.mmu `{}` is not sv39, sv48 or sv57",
                self.cpu.mmu
            ));
        }
        if !self.cpu.isa.starts_with("rv64") {
            return Err(format!("cpu.isa `{}` is not RV64", self.cpu.isa));
        }
        if self.cpu.harts.is_empty() || self.cpu.harts.iter().any(|h| *h >= 64) {
            return Err("cpu.harts must list 1 to 64 hart ids below 64".into());
        }
        for q in &self.cpu.quirks {
            if q != "xtheadmae" {
                return Err(format!("unknown quirk `{q}` (known: xtheadmae)"));
            }
        }
        let ram_end = self.memory.base + ram;
        for (what, addr) in [
            ("kernel_addr_r", self.firmware.kernel_addr_r),
            ("fdt_addr_r", self.firmware.fdt_addr_r),
            ("ramdisk_addr_r", self.firmware.ramdisk_addr_r),
        ] {
            if !(self.memory.base..ram_end).contains(&addr) {
                return Err(format!("{what} {addr:#x} is outside RAM"));
            }
        }
        if self.firmware.partition == 0 || self.firmware.partition > 8 {
            return Err("firmware.partition must be 1 to 8".into());
        }
        Ok(())
    }

    /// What the board is, in a few lines (for `just image`).
    pub fn summary(&self) -> String {
        let mut s = format!("{} ({}): {}\n", self.title, self.soc, self.description);
        s.push_str(&format!(
            "  harts {:?}, {}, {}; RAM from {:#x}",
            self.cpu.harts, self.cpu.mmu, self.cpu.isa, self.memory.base
        ));
        if !self.cpu.monitor_harts.is_empty() {
            s.push_str(&format!(
                "; monitor harts {:?} stay off",
                self.cpu.monitor_harts
            ));
        }
        s.push_str(&format!(
            "\n  console {} at {:#x} (irq {}), {} at {:#x}",
            self.console.compatible,
            self.console.base,
            self.console.irq,
            self.interrupt_controller.compatible,
            self.interrupt_controller.base
        ));
        s
    }

    /// Where booti runs the Image: RAM base + the header's text_offset.
    pub fn image_address(&self, header: &linux_image::Header) -> u64 {
        self.memory.base + header.text_offset
    }

    /// Checks that what U-Boot loads and where the Image then runs do not
    /// overlap (booti moves the Image to RAM base + text_offset and the
    /// Image grows to image_size; a clash corrupts the initrd or the FDT).
    pub fn check_layout(&self, c: &Contents) -> Result<linux_image::Header, String> {
        let header = linux_image::Header::parse(&c.image)?;
        let fdt_len = c.dtb.as_ref().map_or(64 << 10, |d| d.len() as u64);
        let running = self.image_address(&header);
        let mut ranges = vec![
            (
                "the loaded Image",
                self.firmware.kernel_addr_r,
                c.image.len() as u64,
            ),
            (
                "the initrd",
                self.firmware.ramdisk_addr_r,
                c.initrd.len() as u64,
            ),
            ("the device tree", self.firmware.fdt_addr_r, fdt_len),
        ];
        if let Some(clash) = overlaps(&ranges) {
            return Err(format!("U-Boot's load addresses: {clash}"));
        }
        ranges[0] = ("the running Image", running, header.image_size);
        if let Some(clash) = overlaps(&ranges) {
            return Err(format!("booti's placement: {clash}"));
        }
        let ram_end = self.memory.base + parse_size(&self.memory.size)?;
        if running + header.image_size > ram_end {
            return Err("the running Image does not fit the smallest RAM".into());
        }
        Ok(header)
    }

    /// The extlinux.conf that boots atoll with `args`.
    pub fn extlinux_conf(&self, args: &str, with_dtb: bool) -> String {
        let mut s = format!(
            "# atoll on the {title}: U-Boot's standard boot flow reads this file\n\
             # (distro boot or bootstd), loads the three files and starts the Image\n\
             # with booti. Written by `just image board={name}`.\n\
             default atoll\n\
             prompt 0\n\
             timeout 1\n\
             \n\
             label atoll\n\
             \tmenu label atoll ({title})\n\
             \tlinux /{IMAGE_PATH}\n\
             \tinitrd /{INITRD_PATH}\n",
            title = self.title,
            name = self.name,
        );
        if with_dtb {
            s.push_str(&format!("\tfdt /{DTB_PATH}\n"));
        }
        s.push_str(&format!("\tappend {args}\n"));
        s
    }

    /// Writes the board's disk image to `out`.
    pub fn write_image(&self, c: &Contents, out: &Path) -> Result<(), String> {
        if self.firmware.dtb == DtbSource::File && c.dtb.is_none() {
            return Err(format!(
                "the {} image needs the board's device tree: `just image board={} dtb=PATH`{}",
                self.title,
                self.name,
                self.firmware
                    .dtb_hint
                    .as_ref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default()
            ));
        }
        self.check_layout(c)?;
        let Method::Extlinux = self.firmware.method;
        let mut disk = esp_image::FatDisk::new(esp_image::PartitionKind::Boot, "ATOLL BOOT")
            .partition_number(self.firmware.partition)
            .file(IMAGE_PATH, c.image.clone())
            .file(INITRD_PATH, c.initrd.clone())
            .file(
                EXTLINUX_PATH,
                self.extlinux_conf(&c.args, c.dtb.is_some()).into_bytes(),
            );
        if let Some(dtb) = &c.dtb {
            disk = disk.file(DTB_PATH, dtb.clone());
        }
        for [host, path] in &self.firmware.extra_files {
            let bytes = std::fs::read(host).map_err(|e| {
                format!(
                    "{host} (for {path} on the {} image): {e} (run `just setup`)",
                    self.title
                )
            })?;
            disk = disk.file(path, bytes);
        }
        disk.write_to(out)
            .map_err(|e| format!("writing {}: {e}", out.display()))
    }
}

/// `cargo xtask image board=NAME [dtb=PATH] [--release] [-- ARGS]`: builds
/// atoll and writes `target/images/boards/NAME.img`.
pub fn image_command(root: &Path, args: &[String]) -> Result<bool, String> {
    let mut board = None;
    let mut dtb = None;
    let mut release = false;
    let mut extra = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("board=") {
            board = Some(v.to_string());
        } else if let Some(v) = a.strip_prefix("dtb=") {
            dtb = Some(PathBuf::from(v));
        } else if a == "--board" {
            board = it.next().cloned();
        } else if a == "--release" || a == "release=true" {
            release = true;
        } else if a == "--" {
            extra.extend(it.by_ref().cloned());
        } else {
            return Err(format!(
                "unknown argument `{a}` (usage: image board=NAME [dtb=PATH] [--release] [-- BOOT ARGS])"
            ));
        }
    }
    let name = board.ok_or_else(|| {
        let names: Vec<String> = Board::all(root)
            .map(|b| b.into_iter().map(|b| b.name).collect())
            .unwrap_or_default();
        format!(
            "which board? `just image board=NAME` ({})",
            names.join(", ")
        )
    })?;
    let board = Board::load(root, &name)?;
    let b = crate::build::binaries(
        root,
        crate::config::Arch::Riscv64,
        crate::build::Flavor::Normal,
        release,
    )?;
    let image_path = b.image.ok_or("riscv64 builds an Image")?;
    let userland = crate::userland::build(root)?;
    let mut boot_args = board.boot.args.clone();
    for a in &extra {
        boot_args.push(' ');
        boot_args.push_str(a);
    }
    let contents = Contents {
        image: std::fs::read(&image_path)
            .map_err(|e| format!("reading {}: {e}", image_path.display()))?,
        // A board's CPU is known only by its description: code for the baseline.
        initrd: userland.initrd(&crate::aot::Target::baseline(crate::config::Arch::Riscv64)),
        args: boot_args,
        dtb: match &dtb {
            Some(p) => Some(std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()))?),
            None => None,
        },
    };
    let dir = crate::util::target_dir(root).join("images/boards");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let out = dir.join(format!("{}.img", board.name));
    board.write_image(&contents, &out)?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!("{}", board.summary());
    println!(
        "{} ({} MiB) for the {}",
        out.display(),
        size >> 20,
        board.title
    );
    println!(
        "write it to an SD card: sudo dd if={} of=/dev/sdX bs=4M conv=fsync status=progress",
        out.display()
    );
    println!("firmware: {}", board.firmware.requires);
    if !board.firmware.vendor_files.is_empty() {
        println!(
            "also copy from the vendor image's boot partition to partition {}: {}",
            board.firmware.partition,
            board.firmware.vendor_files.join(", ")
        );
    }
    println!(
        "serial console: {} baud (docs/boards.md)",
        board.console.baud
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        crate::util::workspace_root()
    }

    #[test]
    fn every_board_config_parses_and_passes_its_checks() {
        let boards = Board::all(&root()).unwrap();
        let names: Vec<&str> = boards.iter().map(|b| b.name.as_str()).collect();
        for needed in [
            "visionfive2",
            "hifive-unmatched",
            "milkv-mars",
            "lichee-pi-4a",
            "qemu-virt",
        ] {
            assert!(
                names.contains(&needed),
                "configs/boards/{needed}.toml is missing: {names:?}"
            );
        }
    }

    /// The boards whose device trees sit in configs/boards/devicetrees (trimmed
    /// from Linux's): the config must say what the kernel will find there.
    #[test]
    fn board_configs_agree_with_their_device_trees() {
        for (board, dtb) in [
            ("visionfive2", "visionfive2.dtb"),
            ("milkv-mars", "visionfive2.dtb"),
            ("hifive-unmatched", "hifive-unmatched.dtb"),
            ("lichee-pi-4a", "lichee-pi-4a.dtb"),
            ("qemu-virt", "qemu-virt-smp4.dtb"),
        ] {
            let b = Board::load(&root(), board).unwrap();
            let blob = std::fs::read(root().join("configs/boards/devicetrees").join(dtb)).unwrap();
            let fdt = fdt::Fdt::new(&blob).unwrap();
            let uart = uart::probe::console(&fdt).unwrap();
            assert_eq!(
                (
                    uart.phys,
                    uart.reg_shift,
                    u32::from(uart.io_width),
                    uart.irq
                ),
                (
                    b.console.base,
                    b.console.reg_shift,
                    b.console.reg_io_width,
                    Some(b.console.irq)
                ),
                "{board}: console"
            );
            assert_eq!(
                Some(uart.kind),
                uart::probe::kind_of(std::iter::once(b.console.compatible.as_str())),
                "{board}: console driver"
            );
            let first_hart = b.cpu.harts[0] as usize;
            let plic =
                plic::find(&fdt, first_hart).unwrap_or_else(|| panic!("{board}: no PLIC context"));
            assert_eq!(plic.phys, b.interrupt_controller.base, "{board}: PLIC");
            let ram = fdt.memory().regions().next().unwrap();
            assert_eq!(
                ram.starting_address as u64, b.memory.base,
                "{board}: RAM base"
            );
            for h in &b.cpu.monitor_harts {
                assert!(
                    plic::find(&fdt, *h as usize).is_none(),
                    "{board}: monitor hart {h} has an S-mode context"
                );
            }
        }
    }

    #[test]
    fn only_t_head_boards_carry_the_xtheadmae_quirk() {
        for b in Board::all(&root()).unwrap() {
            let thead = b.interrupt_controller.compatible == "thead,c900-plic";
            assert_eq!(
                b.cpu.quirks.iter().any(|q| q == "xtheadmae"),
                thead,
                "{}",
                b.name
            );
        }
    }

    fn image_of(size: u64) -> Vec<u8> {
        let mut h = vec![0u8; 4096];
        h[0..4].copy_from_slice(&(0x6fu32 | (32 << 21)).to_le_bytes());
        h[8..16].copy_from_slice(&0x20_0000u64.to_le_bytes());
        h[16..24].copy_from_slice(&size.to_le_bytes());
        h[32..36].copy_from_slice(&2u32.to_le_bytes());
        h[48..56].copy_from_slice(&linux_image::MAGIC);
        h[56..60].copy_from_slice(&linux_image::MAGIC2);
        h
    }

    #[test]
    fn a_typical_image_fits_every_boards_load_addresses() {
        for b in Board::all(&root()).unwrap() {
            let c = Contents {
                image: image_of(24 << 20),
                initrd: vec![0; 4 << 20],
                args: String::new(),
                dtb: None,
            };
            b.check_layout(&c)
                .unwrap_or_else(|e| panic!("{}: {e}", b.name));
        }
    }

    #[test]
    fn an_image_too_big_for_the_gap_before_the_initrd_is_refused() {
        let b = Board::load(&root(), "visionfive2").unwrap();
        // VisionFive 2: the Image runs at 0x40200000, the initrd loads at 0x46100000.
        let c = Contents {
            image: image_of(100 << 20),
            initrd: vec![0; 1 << 20],
            args: String::new(),
            dtb: None,
        };
        let e = b.check_layout(&c).unwrap_err();
        assert!(e.contains("overlaps"), "{e}");
    }

    #[test]
    fn bad_board_data_is_an_error() {
        let text = std::fs::read_to_string(root().join("configs/boards/visionfive2.toml")).unwrap();
        let with = |from: &str, to: &str| {
            assert!(text.contains(from), "{from}");
            let mut b: Board = toml::from_str(&text.replace(from, to)).unwrap();
            b.name = "x".into();
            b.check().unwrap_err()
        };
        assert!(with("\"snps,dw-apb-uart\"", "\"arm,pl011\"").contains("not a UART"));
        assert!(with("\"sifive,plic-1.0.0\"", "\"riscv,aplic\"").contains("interrupt controller"));
        assert!(with("base = 0x4000_0000", "base = 0x4010_0000").contains("2 MiB"));
        assert!(
            with(
                "ramdisk_addr_r = 0x4610_0000",
                "ramdisk_addr_r = 0x3000_0000"
            )
            .contains("outside RAM")
        );
        assert!(with("mmu = \"sv39\"", "mmu = \"sv32\"").contains("sv39"));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn extlinux_conf_names_the_files_and_the_arguments() {
        let b = Board::load(&root(), "visionfive2").unwrap();
        let conf = b.extlinux_conf("log=debug", false);
        assert!(conf.contains("default atoll\n"));
        assert!(conf.contains("\tlinux /atoll/Image\n"));
        assert!(conf.contains("\tinitrd /atoll/initrd.cpio\n"));
        assert!(conf.contains("\tappend log=debug\n"));
        assert!(!conf.contains("fdt "));
        assert!(
            b.extlinux_conf("", true)
                .contains("\tfdt /atoll/board.dtb\n")
        );
    }

    #[test]
    fn a_board_disk_holds_the_boot_files_on_its_bootable_partition() {
        let b = Board::load(&root(), "qemu-virt").unwrap();
        let out = std::env::temp_dir().join(format!("board-test-{}.img", std::process::id()));
        let c = Contents {
            image: image_of(1 << 20),
            initrd: vec![7; 3000],
            args: "log=warn".into(),
            dtb: None,
        };
        b.write_image(&c, &out).unwrap();
        assert_eq!(esp_image::read_file(&out, IMAGE_PATH).unwrap(), c.image);
        assert_eq!(esp_image::read_file(&out, INITRD_PATH).unwrap(), c.initrd);
        let conf = String::from_utf8(esp_image::read_file(&out, EXTLINUX_PATH).unwrap()).unwrap();
        assert!(conf.contains("append log=warn"));
        std::fs::remove_file(&out).unwrap();

        let lpi = Board::load(&root(), "lichee-pi-4a").unwrap();
        let e = lpi.write_image(&c, &out).unwrap_err();
        assert!(e.contains("dtb=PATH"), "{e}");
    }
}
