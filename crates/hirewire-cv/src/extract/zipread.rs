//! Reads entries of a ZIP-based document through a byte budget, so that a decompression bomb
//! is refused after inflating at most the limit, never the whole bomb.

use crate::{CvError, Limits};
use std::io::{Cursor, Read};
use zip::ZipArchive;
use zip::result::ZipError;

pub(crate) struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    budget: u64,
    format: &'static str,
    limit: u64,
    max_ratio: u64,
}

impl<'a> Archive<'a> {
    pub(crate) fn open(
        bytes: &'a [u8],
        limits: &Limits,
        format: &'static str,
    ) -> Result<Self, CvError> {
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(format, &e))?;
        let limit = limits.max_uncompressed;
        if zip.len() > limits.max_entries {
            return Err(CvError::Corrupt(format!(
                "the {format} has {} parts, more than the {} a document has",
                zip.len(),
                limits.max_entries
            )));
        }
        Ok(Archive {
            zip,
            budget: limit,
            format,
            limit,
            max_ratio: limits.max_entry_ratio.max(1),
        })
    }

    fn bomb(&self) -> CvError {
        CvError::Bomb {
            format: self.format,
            limit_mib: self.limit.div_ceil(1024 * 1024),
        }
    }

    /// Names of the entries, in archive order.
    pub(crate) fn names(&self) -> Vec<String> {
        self.zip
            .file_names_raw()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect()
    }

    /// The entry `name` as text, `None` when the archive has no such entry.
    pub(crate) fn read(&mut self, name: &str) -> Result<Option<String>, CvError> {
        let (budget, max_ratio, format) = (self.budget, self.max_ratio, self.format);
        let mut file = match self.zip.by_name(name) {
            Ok(f) => f,
            Err(ZipError::FileNotFound) => return Ok(None),
            Err(ZipError::UnsupportedArchive(m)) if m.to_ascii_lowercase().contains("password") => {
                return Err(CvError::Encrypted(format));
            }
            Err(e) => return Err(corrupt(format, &e)),
        };
        if file.encrypted() {
            return Err(CvError::Encrypted(format));
        }
        let declared = file.size();
        let compressed = file.compressed_size().max(1);
        // The declared size can lie; it only lets an honest bomb be refused before inflating.
        if declared > budget || (declared > 1 << 20 && declared / compressed > max_ratio) {
            drop(file);
            return Err(self.bomb());
        }
        // The declared size only sizes the first allocation, never beyond 1 MiB.
        let mut buf = Vec::with_capacity(declared.min(budget).min(1 << 20) as usize);
        let read = (&mut file).take(budget + 1).read_to_end(&mut buf);
        drop(file);
        match read {
            Ok(n) if n as u64 > budget => return Err(self.bomb()),
            Ok(n) => self.budget -= n as u64,
            Err(e) => {
                return Err(CvError::Corrupt(format!(
                    "the {format} is damaged ({name}: {e})"
                )));
            }
        }
        Ok(Some(match String::from_utf8(buf) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }))
    }
}

fn corrupt(format: &str, e: &ZipError) -> CvError {
    CvError::Corrupt(format!("the {format} is damaged or not a {format} ({e})"))
}
