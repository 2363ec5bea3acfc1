//! The JSON-lines record file (`--record`): one line per record, appended with `O_APPEND`
//! before the answer is sent, so a process killed with SIGKILL has already handed every
//! acknowledged push to the kernel.
//!
//! A write that fails (a full disk: ENOSPC) is reported, so the push is not acknowledged. A
//! file deleted or replaced while the mock runs (by hand, a clean-up job, log rotation) is
//! noticed before and after each write, by comparing the path's inode with the open file's:
//! the mock then opens the path again (creating it) and writes the line there. The choice is
//! to reopen rather than refuse pushes: a rotated record goes on, and nothing acknowledged is
//! only in a file no one can read any more. A line written during a rotation may also be in
//! the rotated file. The checks cost two `stat`s per record.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

/// The record file, reopened when its path stops naming it.
#[derive(Debug)]
pub(crate) struct RecordFile {
    path: PathBuf,
    current: ArcSwap<Opened>,
    /// Serialises reopening, so a burst of writers after a deletion opens the path once.
    reopening: Mutex<()>,
}

/// One opened file and the identity it had when opened.
#[derive(Debug)]
struct Opened {
    file: File,
    /// `(device, inode)`: what the path must still name for writes to reach it.
    identity: (u64, u64),
}

impl RecordFile {
    /// Opens (creating) `path` for appending.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        Ok(Self {
            path: path.to_owned(),
            current: ArcSwap::from_pointee(Opened::open(path)?),
            reopening: Mutex::new(()),
        })
    }

    /// The path records go to.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line` (which ends with `\n`) to the file the path names now. `Err` means the
    /// line is not there, and says why.
    pub(crate) fn append(&self, line: &[u8]) -> io::Result<()> {
        // A guard, not a clone of the `Arc`: no shared count to bump per record.
        let current = self.current.load();
        let reopened;
        // Checked before writing, so a rotated file does not get the next record too, and
        // after, for a deletion or rotation during the write.
        let opened = if identity_at(&self.path)? == Some(current.identity) {
            &*current
        } else {
            reopened = self.reopen(&current)?;
            &reopened
        };
        write_line(&opened.file, line)?;
        if identity_at(&self.path)? == Some(opened.identity) {
            return Ok(());
        }
        let fresh = self.reopen(opened)?;
        write_line(&fresh.file, line)
    }

    /// The file at the path, opened anew unless another writer already did.
    fn reopen(&self, stale: &Arc<Opened>) -> io::Result<Arc<Opened>> {
        let _one_at_a_time = self.reopening.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.current.load_full();
        if !Arc::ptr_eq(&current, stale) && identity_at(&self.path)? == Some(current.identity) {
            return Ok(current);
        }
        let fresh = Arc::new(Opened::open(&self.path)?);
        self.current.store(fresh.clone());
        tracing::warn!(
            "record file {}: deleted or replaced while running; records now go to a new file at \
             that path",
            self.path.display()
        );
        Ok(fresh)
    }
}

impl Opened {
    fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        if ends_cut(path) {
            write_line(&file, b"\n")?;
        }
        let identity = identity(&file.metadata()?);
        Ok(Self { file, identity })
    }
}

/// Whether the file at `path` ends in a cut line. A process killed during a write (SIGKILL,
/// the OOM killer) can leave its last line cut: the kernel stops copying a write at a fatal
/// signal. That push was never acknowledged, but the next record appended would be glued to
/// the cut line and unreadable with it, so a newline goes first. A path that cannot be read
/// back or sought (a pipe, `/dev/stdout`) is taken to end cleanly.
fn ends_cut(path: &Path) -> bool {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let mut last = [0u8; 1];
    match file.seek(SeekFrom::End(0)) {
        Ok(len) if len > 0 => {}
        _ => return false,
    }
    file.seek(SeekFrom::End(-1)).is_ok() && file.read_exact(&mut last).is_ok() && last[0] != b'\n'
}

/// Writes the whole line. If the disk fills up part-way, a newline is attempted so that the
/// next record starts a line of its own; the cut line is not valid JSON.
fn write_line(mut file: &File, line: &[u8]) -> io::Result<()> {
    let mut rest = line;
    while !rest.is_empty() {
        match file.write(rest) {
            Ok(0) => {
                return Err(end_cut_line(
                    file,
                    line,
                    rest,
                    io::ErrorKind::WriteZero.into(),
                ))
            }
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(end_cut_line(file, line, rest, e)),
        }
    }
    Ok(())
}

fn end_cut_line(mut file: &File, line: &[u8], rest: &[u8], e: io::Error) -> io::Error {
    if rest.len() < line.len() {
        let _ = file.write(b"\n");
    }
    e
}

/// `(device, inode)` of what `path` names now; `None` when nothing does.
fn identity_at(path: &Path) -> io::Result<Option<(u64, u64)>> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some(identity(&meta))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt as _;
    (meta.dev(), meta.ino())
}

/// Elsewhere there is no inode to compare: the file is taken to be the one opened.
#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_written_after_the_file_was_deleted_is_in_a_new_file_at_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let file = RecordFile::open(&path).unwrap();
        file.append(b"one\n").unwrap();

        std::fs::remove_file(&path).unwrap();
        file.append(b"two\n").unwrap();
        file.append(b"three\n").unwrap();

        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\nthree\n");
    }

    #[test]
    fn a_line_cut_by_a_kill_is_ended_before_the_next_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        std::fs::write(&path, "{\"id\":1}\n{\"id\":2,\"rece").unwrap();

        RecordFile::open(&path)
            .unwrap()
            .append(b"{\"id\":3}\n")
            .unwrap();
        RecordFile::open(&path)
            .unwrap()
            .append(b"{\"id\":4}\n")
            .unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\"id\":1}\n{\"id\":2,\"rece\n{\"id\":3}\n{\"id\":4}\n"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_device_is_an_error() {
        let file = RecordFile::open(Path::new("/dev/full")).unwrap();

        let written = file.append(b"{}\n");

        let e = written.expect_err("/dev/full takes no bytes");
        assert_eq!(e.raw_os_error(), Some(28), "ENOSPC: {e}");
    }
}
