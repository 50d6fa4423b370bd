//! Builds a bootable UEFI disk image: a GPT disk with one EFI system
//! partition (FAT) holding the loader at the removable-media boot path
//! `EFI/BOOT/BOOTX64.EFI`, the kernel at `atoll/kernel` and, optionally,
//! `atoll/initrd` and `atoll/cmdline`. Pure Rust (`gpt` + `fatfs`): no
//! `mkfs`, `sgdisk` or `mtools`.

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

/// The files of an ESP and the disk size.
#[derive(Debug, Clone, Default)]
pub struct EspImage {
    files: Vec<(String, Vec<u8>)>,
    size: Option<u64>,
}

impl EspImage {
    /// An image booting `loader` (a PE32+ UEFI application) and `kernel` (an ELF).
    pub fn new(loader: Vec<u8>, kernel: Vec<u8>) -> Self {
        let mut image = Self::default();
        image.files.push((LOADER_PATH.into(), loader));
        image.files.push((KERNEL_PATH.into(), kernel));
        image
    }

    pub fn initrd(mut self, initrd: Vec<u8>) -> Self {
        self.files.push((INITRD_PATH.into(), initrd));
        self
    }

    pub fn cmdline(mut self, cmdline: &str) -> Self {
        self.files
            .push((CMDLINE_PATH.into(), cmdline.as_bytes().to_vec()));
        self
    }

    /// Any other file, at a `/`-separated path.
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

    fn disk_size(&self) -> Result<u64, Error> {
        let payload: u64 = self.files.iter().map(|(_, d)| d.len() as u64).sum();
        let needed = (PARTITION_START + payload + SLACK + BACKUP_GPT).next_multiple_of(MIB);
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
        let part_len = (size - PARTITION_START - BACKUP_GPT) / MIB * MIB;
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
        gpt.add_partition_at(
            "EFI system partition",
            1,
            PARTITION_START / SECTOR,
            part_len / SECTOR,
            gpt::partition_types::EFI,
            0,
        )?;
        let mut parts = gpt.take_partitions();
        for p in parts.values_mut() {
            p.part_guid = ESP_GUID;
        }
        gpt.update_partitions(parts)?;
        let mut disk = gpt.write()?;
        disk.seek(SeekFrom::Start(PARTITION_START))?;
        disk.write_all(&fat)?;
        disk.sync_all()?;
        Ok(())
    }

    /// The FAT volume, `len` bytes, with every file in place.
    fn build_fat(&self, len: u64) -> Result<Vec<u8>, Error> {
        let mut volume = Cursor::new(vec![0u8; len as usize]);
        let mut options = fatfs::FormatVolumeOptions::new().volume_label(*b"ATOLL ESP  ");
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

/// The EFI system partition's bytes of a disk image written by [`EspImage`].
fn read_esp(image: &Path) -> Result<Cursor<Vec<u8>>, Error> {
    let disk = gpt::GptConfig::new()
        .writable(false)
        .logical_block_size(gpt::disk::LogicalBlockSize::Lb512)
        .open(image)?;
    let esp = disk
        .partitions()
        .values()
        .find(|p| p.part_type_guid == gpt::partition_types::EFI)
        .ok_or_else(|| Error::NotFound("an EFI system partition".into()))?;
    let lb = gpt::disk::LogicalBlockSize::Lb512;
    let start = esp.bytes_start(lb)?;
    let len = esp.bytes_len(lb)?;
    let mut file = File::open(image)?;
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = vec![0u8; len as usize];
    file.read_exact(&mut bytes)?;
    Ok(Cursor::new(bytes))
}

/// Reads a file back from the ESP of a disk image (for checks and tests).
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
    fn rejects_bad_paths() {
        for path in ["", "/abs", "a//b", "a/../b", "a\\b", "x:y"] {
            let err = EspImage::new(vec![1], vec![2])
                .file(path, vec![3])
                .write_to(&temp_image("bad"));
            assert!(matches!(err, Err(Error::BadPath(_))), "{path:?}");
        }
    }
}
