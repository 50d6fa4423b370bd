//! Turns manifest cases into `Prepared` runs: finds each program's `.wasm`, reads its stdin,
//! and lays out fresh copies of its fixture directories for one runner, under
//! `<work>/<case>/dirN`, each beside a sentinel `outside.txt` that a program escaping its
//! preopen would find.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::manifest::{Case, StdinSource};
use super::runner::Prepared;

/// What a program sees next to its preopens if it gets out of them.
pub const OUTSIDE_TEXT: &[u8] = b"outside the preopen: a program must never read this\n";

/// Where things live in the repository.
pub struct Layout {
    /// `user/wasi-corpus/` (stdin files are relative to it).
    pub corpus: PathBuf,
    /// `user/wasi-corpus/fixtures/`.
    pub fixtures: PathBuf,
    /// Where programs are looked up, in order.
    pub program_dirs: Vec<PathBuf>,
}

impl Layout {
    pub fn new(root: &Path) -> Layout {
        let corpus = root.join("user/wasi-corpus");
        Layout {
            fixtures: corpus.join("fixtures"),
            corpus,
            program_dirs: vec![
                root.join("user/target/corpus"),
                root.join("user/target/wasm"),
            ],
        }
    }

    /// The `.wasm` of a program name.
    pub fn program(&self, name: &str) -> Result<PathBuf, String> {
        let found: Vec<PathBuf> = self
            .program_dirs
            .iter()
            .map(|d| d.join(format!("{name}.wasm")))
            .filter(|p| p.is_file())
            .collect();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(format!(
                "program `{name}` not found (did user/build.sh build it?)"
            )),
            _ => Err(format!(
                "program `{name}` is in more than one of {:?}",
                self.program_dirs
            )),
        }
    }

    /// A case's stdin bytes.
    pub fn stdin(&self, case: &Case) -> Result<Vec<u8>, String> {
        let once = match case.stdin_source() {
            StdinSource::Empty => Vec::new(),
            StdinSource::Inline(text) => text.as_bytes().to_vec(),
            StdinSource::File(f) => {
                let path = self.corpus.join(f);
                std::fs::read(&path)
                    .map_err(|e| format!("case `{}`: {}: {e}", case.name, path.display()))?
            }
        };
        Ok(once.repeat(case.stdin_repeat.unwrap_or(1)))
    }

    /// Lays out `case` under `work` (removing what an earlier run left there).
    pub fn prepare(&self, case: &Case, work: &Path) -> Result<Prepared, String> {
        let err = |what: &str, p: &Path, e: std::io::Error| {
            format!("case `{}`: {what} {}: {e}", case.name, p.display())
        };
        if work.exists() {
            std::fs::remove_dir_all(work).map_err(|e| err("removing", work, e))?;
        }
        std::fs::create_dir_all(work).map_err(|e| err("creating", work, e))?;
        let outside = work.join("outside.txt");
        std::fs::write(&outside, OUTSIDE_TEXT).map_err(|e| err("writing", &outside, e))?;
        let mut dirs = Vec::new();
        for (i, d) in case.dirs.iter().enumerate() {
            let host = work.join(format!("dir{i}"));
            match &d.fixture {
                Some(f) => {
                    let src = self.fixtures.join(f);
                    if !src.is_dir() {
                        return Err(format!(
                            "case `{}`: no fixture directory {}",
                            case.name,
                            src.display()
                        ));
                    }
                    copy_tree(&src, &host)?;
                }
                None => std::fs::create_dir(&host).map_err(|e| err("creating", &host, e))?,
            }
            dirs.push((host, d.guest.clone(), d.read_only));
        }
        Ok(Prepared {
            name: case.name.clone(),
            wasm: self.program(&case.program)?,
            argv: case.args.clone(),
            env: case.env.clone(),
            stdin: self.stdin(case)?,
            dirs,
            scratch: work.join("io"),
        })
    }
}

/// Copies the tree `src` to `dst` (which must not exist), keeping symlinks as symlinks.
pub fn copy_tree(src: &Path, dst: &Path) -> Result<(), String> {
    let err = |p: &Path, e: std::io::Error| format!("copying {}: {e}", p.display());
    std::fs::create_dir(dst).map_err(|e| err(dst, e))?;
    for entry in std::fs::read_dir(src).map_err(|e| err(src, e))? {
        let entry = entry.map_err(|e| err(src, e))?;
        let (from, to) = (entry.path(), dst.join(entry.file_name()));
        let ft = entry.file_type().map_err(|e| err(&from, e))?;
        if ft.is_dir() {
            copy_tree(&from, &to)?;
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&from).map_err(|e| err(&from, e))?;
            symlink(&target, &to).map_err(|e| err(&to, e))?;
        } else {
            std::fs::copy(&from, &to).map_err(|e| err(&from, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixture_copy_keeps_symlinks_and_nested_files() {
        let base = std::env::temp_dir().join(format!("xtask-prepare-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let src = base.join("src");
        std::fs::create_dir_all(src.join("a/b")).unwrap();
        std::fs::write(src.join("a/b/f"), b"x").unwrap();
        symlink("/nowhere", src.join("dangling")).unwrap();
        copy_tree(&src, &base.join("dst")).unwrap();
        assert_eq!(std::fs::read(base.join("dst/a/b/f")).unwrap(), b"x");
        assert_eq!(
            std::fs::read_link(base.join("dst/dangling")).unwrap(),
            Path::new("/nowhere")
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
}
