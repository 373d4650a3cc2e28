//! The spool: a render's stdout, held until the whole run has succeeded.
//!
//! Nothing may reach stdout before every cluster has rendered without error (a failed render
//! prints nothing), yet holding a large stream in memory makes peak memory grow with the
//! output. The spool takes the text in pieces, in output order, as clusters finish: it keeps
//! them in memory up to a threshold ([`DEFAULT_THRESHOLD`]), then moves everything into an
//! unnamed temporary file (`tempfile::tempfile()`, in `TMPDIR`, gone when closed, even if the
//! process is killed) and appends there. Only after success does the binary copy it to stdout
//! ([`Spool::write_to`]; from a file, `std::io::copy` lets the kernel move the bytes). On any
//! error the spool is dropped and stdout stays empty. If the temporary file cannot be made or
//! written, the text stays in memory: a render never fails for want of a temporary file.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Text held in memory before the spool moves to a temporary file.
pub const DEFAULT_THRESHOLD: usize = 4 << 20;

/// Text for stdout, in memory or in an unnamed temporary file.
#[derive(Debug)]
pub struct Spool {
    /// The pieces not in the file; empty while there is a file.
    memory: Vec<String>,
    /// Bytes held in `memory`.
    in_memory: usize,
    file: Option<File>,
    /// Bytes in the file, every one of them written.
    on_disk: usize,
    /// Past this many bytes in memory, the text moves to a temporary file.
    threshold: usize,
    /// The file failed and what it held could not be read back: the text is incomplete.
    lost: Option<io::Error>,
}

impl Default for Spool {
    /// A spool that never leaves memory (short texts).
    fn default() -> Spool {
        Spool::new(usize::MAX)
    }
}

impl Spool {
    /// An empty spool that moves to a temporary file past `threshold` bytes.
    pub fn new(threshold: usize) -> Spool {
        Spool {
            memory: Vec::new(),
            in_memory: 0,
            file: None,
            on_disk: 0,
            threshold,
            lost: None,
        }
    }

    /// Every byte pushed so far.
    pub fn len(&self) -> usize {
        self.on_disk.saturating_add(self.in_memory)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the text is in a temporary file.
    pub fn is_on_disk(&self) -> bool {
        self.file.is_some()
    }

    /// Appends `piece`. Where a temporary file cannot be made or written, the text stays in
    /// memory.
    pub fn push(&mut self, piece: String) {
        if let Some(file) = &mut self.file {
            if file.write_all(piece.as_bytes()).is_ok() {
                self.on_disk = self.on_disk.saturating_add(piece.len());
                return;
            }
            self.back_to_memory();
        }
        self.in_memory = self.in_memory.saturating_add(piece.len());
        self.memory.push(piece);
        if self.in_memory > self.threshold {
            self.move_to_disk();
        }
    }

    /// Moves the text held in memory into a new temporary file; where that fails, keeps it in
    /// memory and stops trying.
    fn move_to_disk(&mut self) {
        let Ok(mut file) = tempfile::tempfile() else {
            self.threshold = usize::MAX;
            return;
        };
        let mut on_disk = 0usize;
        for piece in &self.memory {
            if file.write_all(piece.as_bytes()).is_err() {
                self.threshold = usize::MAX;
                return;
            }
            on_disk = on_disk.saturating_add(piece.len());
        }
        self.memory = Vec::new();
        self.in_memory = 0;
        self.file = Some(file);
        self.on_disk = on_disk;
    }

    /// After a failed write to the file (a full TMPDIR): the bytes written before it come back
    /// into memory and the spool stays there. Should they not read back whole, the loss is
    /// kept for [`Spool::write_to`] to report: never a silently shortened stream.
    fn back_to_memory(&mut self) {
        self.threshold = usize::MAX;
        let Some(mut file) = self.file.take() else {
            return;
        };
        let wanted = self.on_disk;
        let mut text = String::with_capacity(wanted);
        let read = file.seek(SeekFrom::Start(0)).and_then(|_| {
            let limit = u64::try_from(wanted).unwrap_or(u64::MAX);
            (&mut file).take(limit).read_to_string(&mut text)
        });
        match read {
            Ok(count) if count == wanted => {}
            Ok(_) => self.lost = Some(io::ErrorKind::UnexpectedEof.into()),
            Err(error) => self.lost = Some(error),
        }
        self.on_disk = 0;
        self.in_memory = text.len();
        self.memory = vec![text];
    }

    /// Writes the whole text to `out` and flushes it: the file copied from its start (by the
    /// kernel, where `out` is a file or a pipe), or the pieces held in memory. Nothing is
    /// written when part of the text was lost.
    pub fn write_to<W: Write>(self, out: &mut W) -> io::Result<()> {
        if let Some(error) = self.lost {
            let message = format!("the temporary file holding the output failed: {error}");
            return Err(io::Error::new(error.kind(), message));
        }
        if let Some(mut file) = self.file {
            file.seek(SeekFrom::Start(0))?;
            out.flush()?;
            io::copy(&mut file, out)?;
        }
        for piece in &self.memory {
            out.write_all(piece.as_bytes())?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces() -> Vec<String> {
        (0..50).map(|i| format!("---\npiece: {i}\n")).collect()
    }

    fn written(spool: Spool) -> String {
        let mut out = Vec::new();
        spool.write_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn past_the_threshold_the_text_moves_to_a_file_and_comes_back_whole() {
        let mut spool = Spool::new(64);
        for piece in pieces() {
            spool.push(piece);
        }
        assert!(spool.is_on_disk());
        assert_eq!(spool.len(), pieces().concat().len());
        assert_eq!(written(spool), pieces().concat());
    }

    #[test]
    fn below_the_threshold_the_text_stays_in_memory() {
        let mut spool = Spool::default();
        for piece in pieces() {
            spool.push(piece);
        }
        assert!(!spool.is_on_disk());
        assert_eq!(written(spool), pieces().concat());
    }

    #[test]
    fn a_failing_file_sends_the_text_back_to_memory_whole() {
        let mut spool = Spool::new(64);
        let all = pieces();
        let (first, rest) = all.split_at(20);
        for piece in first {
            spool.push(piece.clone());
        }
        assert!(spool.is_on_disk());
        // A file opened for reading only: the next write fails, as on a full TMPDIR.
        let path = tempfile::NamedTempFile::new().unwrap();
        let mut readable = File::create(path.path()).unwrap();
        readable.write_all(first.concat().as_bytes()).unwrap();
        spool.file = Some(File::open(path.path()).unwrap());
        for piece in rest {
            spool.push(piece.clone());
        }
        assert!(!spool.is_on_disk());
        assert_eq!(written(spool), all.concat());
    }
}
