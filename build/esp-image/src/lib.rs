//! Builds bootable disk images: a GPT disk whose FAT partition holds the
//! boot files. Pure Rust (`gpt` + `fatfs`): no `mkfs`, `sgdisk` or `mtools`.
//!
//! - [`EspImage`], for x86_64 UEFI: one EFI system partition with the loader
//!   at the removable-media boot path `EFI/BOOT/BOOTX64.EFI`, the kernel at
//!   `atoll/kernel` and, optionally, `atoll/initrd` and `atoll/cmdline`.
//! - [`FatDisk`] with [`PartitionKind::Boot`], for RISC-V boards: a FAT
//!   partition marked legacy-BIOS-bootable, the flag U-Boot's distro boot
//!   scans for, holding whatever files the board's firmware reads (the
//!   loader `Image`, the initrd, `extlinux/extlinux.conf`, a device tree),
//!   optionally after placeholder partitions where a vendor U-Boot expects
//!   its boot files in a later partition.

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Where the firmware looks for a removable medium's boot loader.
pub const LOADER_PATH: &str = "EFI/BOOT/BOOTX64.EFI";
/// Where the loader looks for the kernel, the initrd and the command line.
pub const KERNEL_PATH: &str = "atoll/kernel";
pub const INITRD_PATH: &str = "atoll/initrd";
pub const CMDLINE_PATH: &str = "atoll/cmdline";

const MIB: u64 = 1 << 20;
const SECTOR: u64 = 512;
/// The partition starts 1 MiB in (the usual alignment).
const PARTITION_START: u64 = MIB;
/// Room after the partition for the backup GPT (header plus 128 entries).
const BACKUP_GPT: u64 = 33 * SECTOR;
/// Below this the ESP is FAT16: FAT32 needs 65525 clusters.
const FAT32_MIN: u64 = 48 * MIB;
/// Disk size when the files need less.
pub const DEFAULT_SIZE: u64 = 64 * MIB;
/// Free space left on the ESP beyond the files (FAT overhead and slack).
const SLACK: u64 = 8 * MIB;
/// Fixed GUIDs, so the same files always give the same bytes.
const DISK_GUID: uuid::Uuid = uuid::uuid!("a7011a7e-0000-4000-8000-000000000001");
const ESP_GUID: uuid::Uuid = uuid::uuid!("a7011a7e-0000-4000-8000-000000000002");

#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    Gpt(gpt::GptError),
    /// A file path that FAT or the image layout cannot hold.
    BadPath(String),
    /// The requested size is too small for the files.
    TooSmall {
        requested: u64,
        needed: u64,
    },
    NotFound(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O: {e}"),
            Self::Gpt(e) => write!(f, "GPT: {e}"),
            Self::BadPath(p) => write!(f, "bad path on the ESP: {p:?}"),
            Self::TooSmall { requested, needed } => write!(
                f,
                "disk of {requested} bytes is too small: the files need {needed}"
            ),
            Self::NotFound(p) => write!(f, "{p} not found on the ESP"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<gpt::GptError> for Error {
    fn from(e: gpt::GptError) -> Self {
        Self::Gpt(e)
    }
}

/// What the FAT partition is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKind {
    /// An EFI system partition (UEFI firmware boots from it).
    Esp,
    /// A "basic data" partition with GPT attribute bit 2 (legacy BIOS
    /// bootable), which U-Boot's `part list -bootable` and distro boot use
    /// to pick the partition to search for `extlinux/extlinux.conf`.
    Boot,
}

/// GPT attribute bit 2: legacy BIOS bootable.
pub const LEGACY_BIOS_BOOTABLE: u64 = 1 << 2;
/// Each placeholder partition before the FAT one (see [`FatDisk::partition_number`]).
pub const PLACEHOLDER_SIZE: u64 = 2 * MIB;

/// A GPT disk with one FAT partition and the files on it.
#[derive(Debug, Clone)]
pub struct FatDisk {
    files: Vec<(String, Vec<u8>)>,
    size: Option<u64>,
    kind: PartitionKind,
    label: [u8; 11],
    number: u32,
}

/// The files of an ESP and the disk size.
#[derive(Debug, Clone)]
pub struct EspImage {
    disk: FatDisk,
}

impl EspImage {
    /// An image booting `loader` (a PE32+ UEFI application) and `kernel` (an ELF).
    pub fn new(loader: Vec<u8>, kernel: Vec<u8>) -> Self {
        let disk = FatDisk::new(PartitionKind::Esp, "ATOLL ESP")
            .file(LOADER_PATH, loader)
            .file(KERNEL_PATH, kernel);
        Self { disk }
    }

    pub fn initrd(mut self, initrd: Vec<u8>) -> Self {
        self.disk = self.disk.file(INITRD_PATH, initrd);
        self
    }

    pub fn cmdline(mut self, cmdline: &str) -> Self {
        self.disk = self.disk.file(CMDLINE_PATH, cmdline.as_bytes().to_vec());
        self
    }

    /// Any other file, at a `/`-separated path.
    pub fn file(mut self, path: &str, data: Vec<u8>) -> Self {
        self.disk = self.disk.file(path, data);
        self
    }

    /// The disk size in bytes (rounded up to a MiB); by default 64 MiB or
    /// whatever the files need beyond that.
    pub fn size(mut self, bytes: u64) -> Self {
        self.disk = self.disk.size(bytes);
        self
    }

    #[cfg(test)]
    fn disk_size(&self) -> Result<u64, Error> {
        self.disk.disk_size()
    }

    /// Writes the disk image to `out`, replacing it.
    pub fn write_to(&self, out: &Path) -> Result<(), Error> {
        self.disk.write_to(out)
    }
}

impl FatDisk {
    /// An empty disk of `kind` whose FAT volume is labelled `label` (up to
    /// 11 characters; FAT labels are upper case).
    pub fn new(kind: PartitionKind, label: &str) -> Self {
        let mut l = [b' '; 11];
        for (dst, src) in l.iter_mut().zip(label.bytes()) {
            *dst = src.to_ascii_uppercase();
        }
        Self {
            files: Vec::new(),
            size: None,
            kind,
            label: l,
            number: 1,
        }
    }

    /// A file at a `/`-separated path.
    pub fn file(mut self, path: &str, data: Vec<u8>) -> Self {
        self.files.push((path.into(), data));
        self
    }

    /// The disk size in bytes (rounded up to a MiB); by default 64 MiB or
    /// whatever the files need beyond that.
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = Some(bytes);
        self
    }

    /// Makes the FAT partition number `n` (from 1): `n - 1` empty
    /// placeholder partitions of [`PLACEHOLDER_SIZE`] come first, for
    /// firmware that reads its boot files from a fixed later partition.
    pub fn partition_number(mut self, n: u32) -> Self {
        self.number = n.max(1);
        self
    }

    /// Where the FAT partition starts.
    fn partition_start(&self) -> u64 {
        PARTITION_START + u64::from(self.number - 1) * PLACEHOLDER_SIZE
    }

    fn disk_size(&self) -> Result<u64, Error> {
        let payload: u64 = self.files.iter().map(|(_, d)| d.len() as u64).sum();
        let needed = (self.partition_start() + payload + SLACK + BACKUP_GPT).next_multiple_of(MIB);
        match self.size {
            Some(s) if s < needed => Err(Error::TooSmall {
                requested: s,
                needed,
            }),
            Some(s) => Ok(s.next_multiple_of(MIB)),
            None => Ok(needed.max(DEFAULT_SIZE)),
        }
    }

    /// Writes the disk image to `out`, replacing it.
    pub fn write_to(&self, out: &Path) -> Result<(), Error> {
        for (path, _) in &self.files {
            check_path(path)?;
        }
        let size = self.disk_size()?;
        let start = self.partition_start();
        let part_len = (size - start - BACKUP_GPT) / MIB * MIB;
        let fat = self.build_fat(part_len)?;

        let mut disk = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(out)?;
        disk.set_len(size)?;
        let sectors = size / SECTOR;
        let mbr =
            gpt::mbr::ProtectiveMBR::with_lb_size(u32::try_from(sectors - 1).unwrap_or(u32::MAX));
        mbr.overwrite_lba0(&mut disk)
            .map_err(|e| Error::Io(io::Error::other(e.to_string())))?;
        let mut gpt = gpt::GptConfig::new()
            .writable(true)
            .logical_block_size(gpt::disk::LogicalBlockSize::Lb512)
            .create_from_device(disk, Some(DISK_GUID))?;
        for n in 1..self.number {
            gpt.add_partition_at(
                "reserved",
                n,
                (PARTITION_START + u64::from(n - 1) * PLACEHOLDER_SIZE) / SECTOR,
                PLACEHOLDER_SIZE / SECTOR,
                gpt::partition_types::LINUX_RESERVED,
                0,
            )?;
        }
        let (name, part_type, attributes) = match self.kind {
            PartitionKind::Esp => ("EFI system partition", gpt::partition_types::EFI, 0),
            PartitionKind::Boot => ("boot", gpt::partition_types::BASIC, LEGACY_BIOS_BOOTABLE),
        };
        gpt.add_partition_at(
            name,
            self.number,
            start / SECTOR,
            part_len / SECTOR,
            part_type,
            attributes,
        )?;
        let mut parts = gpt.take_partitions();
        for (n, p) in parts.iter_mut() {
            // Fixed GUIDs, so the same files always give the same bytes.
            p.part_guid = if *n == self.number {
                ESP_GUID
            } else {
                uuid::Uuid::from_u128(ESP_GUID.as_u128() + 0x100 + u128::from(*n))
            };
        }
        gpt.update_partitions(parts)?;
        let mut disk = gpt.write()?;
        disk.seek(SeekFrom::Start(start))?;
        disk.write_all(&fat)?;
        disk.sync_all()?;
        Ok(())
    }

    /// The FAT volume, `len` bytes, with every file in place.
    fn build_fat(&self, len: u64) -> Result<Vec<u8>, Error> {
        let mut volume = Cursor::new(vec![0u8; len as usize]);
        let mut options = fatfs::FormatVolumeOptions::new().volume_label(self.label);
        if len >= FAT32_MIN {
            options = options.fat_type(fatfs::FatType::Fat32);
        }
        fatfs::format_volume(&mut volume, options)?;
        {
            let fs = fatfs::FileSystem::new(&mut volume, fatfs::FsOptions::new())?;
            let root = fs.root_dir();
            for (path, data) in &self.files {
                let (dirs, name) = match path.rsplit_once('/') {
                    Some((dirs, name)) => (Some(dirs), name),
                    None => (None, path.as_str()),
                };
                let mut dir = root.clone();
                for part in dirs.into_iter().flat_map(|d| d.split('/')) {
                    dir = dir.create_dir(part)?;
                }
                let mut file = dir.create_file(name)?;
                file.truncate()?;
                file.write_all(data)?;
            }
        }
        Ok(volume.into_inner())
    }
}

fn check_path(path: &str) -> Result<(), Error> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == ".." || p.len() > 255)
        || path
            .chars()
            .any(|c| c.is_control() || "\\:*?\"<>|".contains(c));
    if bad {
        return Err(Error::BadPath(path.into()));
    }
    Ok(())
}

/// The FAT partition's bytes of a disk image written by [`EspImage`] or
/// [`FatDisk`] (its EFI system or boot partition).
fn read_esp(image: &Path) -> Result<Cursor<Vec<u8>>, Error> {
    let disk = gpt::GptConfig::new()
        .writable(false)
        .logical_block_size(gpt::disk::LogicalBlockSize::Lb512)
        .open(image)?;
    let esp = disk
        .partitions()
        .values()
        .find(|p| {
            p.part_type_guid == gpt::partition_types::EFI
                || p.part_type_guid == gpt::partition_types::BASIC
        })
        .ok_or_else(|| Error::NotFound("an EFI system or boot partition".into()))?;
    let lb = gpt::disk::LogicalBlockSize::Lb512;
    let start = esp.bytes_start(lb)?;
    let len = esp.bytes_len(lb)?;
    let mut file = File::open(image)?;
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = vec![0u8; len as usize];
    file.read_exact(&mut bytes)?;
    Ok(Cursor::new(bytes))
}

/// Reads a file back from the FAT partition of a disk image (for checks and tests).
pub fn read_file(image: &Path, path: &str) -> Result<Vec<u8>, Error> {
    let mut esp = read_esp(image)?;
    let fs = fatfs::FileSystem::new(&mut esp, fatfs::FsOptions::new())?;
    let mut file = fs.root_dir().open_file(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::NotFound(path.into()),
        _ => Error::Io(e),
    })?;
    let mut data = Vec::new();
    file.read_to_end(&mut data)?;
    Ok(data)
}

/// The FAT type of the ESP of a disk image.
pub fn fat_type(image: &Path) -> Result<fatfs::FatType, Error> {
    let mut esp = read_esp(image)?;
    let fs = fatfs::FileSystem::new(&mut esp, fatfs::FsOptions::new())?;
    Ok(fs.fat_type())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_image(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("esp-image-test-{}-{name}.img", std::process::id()))
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn files_round_trip_through_gpt_and_fat32() {
        let out = temp_image("round-trip");
        let loader = pattern(150_000, 1);
        let kernel = pattern(3_000_000, 2);
        let initrd = pattern(70_001, 3);
        EspImage::new(loader.clone(), kernel.clone())
            .initrd(initrd.clone())
            .cmdline("log=debug nokaslr")
            .write_to(&out)
            .unwrap();
        assert_eq!(std::fs::metadata(&out).unwrap().len(), DEFAULT_SIZE);
        assert_eq!(read_file(&out, LOADER_PATH).unwrap(), loader);
        assert_eq!(read_file(&out, "efi/boot/bootx64.efi").unwrap(), loader);
        assert_eq!(read_file(&out, KERNEL_PATH).unwrap(), kernel);
        assert_eq!(read_file(&out, INITRD_PATH).unwrap(), initrd);
        assert_eq!(read_file(&out, CMDLINE_PATH).unwrap(), b"log=debug nokaslr");
        assert!(matches!(
            read_file(&out, "atoll/missing"),
            Err(Error::NotFound(_))
        ));
        assert_eq!(fat_type(&out).unwrap(), fatfs::FatType::Fat32);

        // One EFI system partition from 1 MiB, and a protective MBR.
        let disk = gpt::GptConfig::new().open(&out).unwrap();
        let parts: Vec<_> = disk.partitions().values().collect();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].part_type_guid, gpt::partition_types::EFI);
        assert_eq!(parts[0].first_lba, PARTITION_START / SECTOR);
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[510..512], &[0x55, 0xaa]);
        assert_eq!(bytes[446 + 4], 0xee, "protective MBR partition type");
        assert_eq!(&bytes[512..520], b"EFI PART");

        // Reproducible: the same files give the same image.
        let again = temp_image("round-trip-again");
        EspImage::new(loader, kernel)
            .initrd(initrd)
            .cmdline("log=debug nokaslr")
            .write_to(&again)
            .unwrap();
        assert!(std::fs::read(&again).unwrap() == bytes, "images differ");
        std::fs::remove_file(&out).unwrap();
        std::fs::remove_file(&again).unwrap();
    }

    #[test]
    fn grows_for_large_files_and_rejects_small_sizes() {
        let big = EspImage::new(vec![1; 10], vec![2; (80 * MIB) as usize]);
        let size = big.disk_size().unwrap();
        assert!(size >= 80 * MIB + SLACK && size.is_multiple_of(MIB));
        assert!(matches!(
            big.clone().size(64 * MIB).disk_size(),
            Err(Error::TooSmall { .. })
        ));

        // Small disks get FAT16.
        let out = temp_image("small");
        EspImage::new(vec![7; 1000], vec![8; 5000])
            .size(16 * MIB)
            .write_to(&out)
            .unwrap();
        assert_eq!(fat_type(&out).unwrap(), fatfs::FatType::Fat16);
        assert_eq!(read_file(&out, KERNEL_PATH).unwrap(), vec![8; 5000]);
        std::fs::remove_file(&out).unwrap();
    }

    #[test]
    fn board_disks_mark_their_boot_partition_bootable_and_can_put_it_second() {
        let out = temp_image("board");
        FatDisk::new(PartitionKind::Boot, "atoll boot")
            .file("Image", pattern(400_000, 4))
            .file("extlinux/extlinux.conf", b"default atoll\n".to_vec())
            .partition_number(2)
            .write_to(&out)
            .unwrap();
        assert_eq!(read_file(&out, "Image").unwrap(), pattern(400_000, 4));
        assert_eq!(
            read_file(&out, "extlinux/extlinux.conf").unwrap(),
            b"default atoll\n"
        );
        let disk = gpt::GptConfig::new().open(&out).unwrap();
        let parts = disk.partitions();
        assert_eq!(parts.len(), 2);
        let boot = &parts[&2];
        assert_eq!(boot.part_type_guid, gpt::partition_types::BASIC);
        assert_eq!(boot.flags & LEGACY_BIOS_BOOTABLE, LEGACY_BIOS_BOOTABLE);
        assert_eq!(
            boot.first_lba,
            (PARTITION_START + PLACEHOLDER_SIZE) / SECTOR
        );
        assert_eq!(parts[&1].flags, 0, "the placeholder is not bootable");
        std::fs::remove_file(&out).unwrap();
    }

    #[test]
    fn rejects_bad_paths() {
        for path in ["", "/abs", "a//b", "a/../b", "a\\b", "x:y"] {
            let err = EspImage::new(vec![1], vec![2])
                .file(path, vec![3])
                .write_to(&temp_image("bad"));
            assert!(matches!(err, Err(Error::BadPath(_))), "{path:?}");
        }
    }
}
