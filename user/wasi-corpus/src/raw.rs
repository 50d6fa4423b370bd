//! The raw `wasi_snapshot_preview1` imports, as the witx declares them (pointers as raw
//! pointers). `sys.rs` wraps them in safe functions over slices.

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    pub fn args_get(argv: *mut *mut u8, buf: *mut u8) -> u16;
    pub fn args_sizes_get(argc: *mut usize, size: *mut usize) -> u16;
    pub fn environ_get(environ: *mut *mut u8, buf: *mut u8) -> u16;
    pub fn environ_sizes_get(count: *mut usize, size: *mut usize) -> u16;
    pub fn clock_res_get(id: u32, out: *mut u64) -> u16;
    pub fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> u16;
    pub fn fd_advise(fd: u32, offset: u64, len: u64, advice: u8) -> u16;
    pub fn fd_allocate(fd: u32, offset: u64, len: u64) -> u16;
    pub fn fd_close(fd: u32) -> u16;
    pub fn fd_datasync(fd: u32) -> u16;
    pub fn fd_fdstat_get(fd: u32, out: *mut u8) -> u16;
    pub fn fd_fdstat_set_flags(fd: u32, flags: u16) -> u16;
    pub fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> u16;
    pub fn fd_filestat_get(fd: u32, out: *mut u8) -> u16;
    pub fn fd_filestat_set_size(fd: u32, size: u64) -> u16;
    pub fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, fstflags: u16) -> u16;
    pub fn fd_pread(fd: u32, iovs: *const u8, iovs_len: usize, offset: u64, n: *mut usize) -> u16;
    pub fn fd_prestat_get(fd: u32, out: *mut u8) -> u16;
    pub fn fd_prestat_dir_name(fd: u32, path: *mut u8, len: usize) -> u16;
    pub fn fd_pwrite(fd: u32, iovs: *const u8, iovs_len: usize, offset: u64, n: *mut usize) -> u16;
    pub fn fd_read(fd: u32, iovs: *const u8, iovs_len: usize, n: *mut usize) -> u16;
    pub fn fd_readdir(fd: u32, buf: *mut u8, len: usize, cookie: u64, used: *mut usize) -> u16;
    pub fn fd_renumber(from: u32, to: u32) -> u16;
    pub fn fd_seek(fd: u32, offset: i64, whence: u8, out: *mut u64) -> u16;
    pub fn fd_sync(fd: u32) -> u16;
    pub fn fd_tell(fd: u32, out: *mut u64) -> u16;
    pub fn fd_write(fd: u32, iovs: *const u8, iovs_len: usize, n: *mut usize) -> u16;
    pub fn path_create_directory(fd: u32, path: *const u8, len: usize) -> u16;
    pub fn path_filestat_get(fd: u32, flags: u32, path: *const u8, len: usize, out: *mut u8)
    -> u16;
    pub fn path_filestat_set_times(
        fd: u32,
        flags: u32,
        path: *const u8,
        len: usize,
        atim: u64,
        mtim: u64,
        fstflags: u16,
    ) -> u16;
    pub fn path_link(
        old_fd: u32,
        old_flags: u32,
        old: *const u8,
        old_len: usize,
        new_fd: u32,
        new: *const u8,
        new_len: usize,
    ) -> u16;
    pub fn path_open(
        fd: u32,
        dirflags: u32,
        path: *const u8,
        len: usize,
        oflags: u16,
        base: u64,
        inheriting: u64,
        fdflags: u16,
        out: *mut u32,
    ) -> u16;
    pub fn path_readlink(
        fd: u32,
        path: *const u8,
        len: usize,
        buf: *mut u8,
        buf_len: usize,
        used: *mut usize,
    ) -> u16;
    pub fn path_remove_directory(fd: u32, path: *const u8, len: usize) -> u16;
    pub fn path_rename(
        fd: u32,
        old: *const u8,
        old_len: usize,
        new_fd: u32,
        new: *const u8,
        new_len: usize,
    ) -> u16;
    pub fn path_symlink(old: *const u8, old_len: usize, fd: u32, new: *const u8, len: usize)
    -> u16;
    pub fn path_unlink_file(fd: u32, path: *const u8, len: usize) -> u16;
    pub fn poll_oneoff(subs: *const u8, events: *mut u8, nsubs: usize, nevents: *mut usize) -> u16;
    pub fn proc_exit(code: u32) -> !;
    pub fn random_get(buf: *mut u8, len: usize) -> u16;
    pub fn sched_yield() -> u16;
    pub fn sock_accept(fd: u32, flags: u16, out: *mut u32) -> u16;
    pub fn sock_shutdown(fd: u32, how: u8) -> u16;
}
