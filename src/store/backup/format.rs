//! The backup file, version 1 (documented in `docs/backup.md`): pure bytes,
//! no sled. A [`Writer`] streams records into any `Write`; [`verify`] checks
//! a whole file (header, checksum) and [`Reader`] replays its records.
//!
//! ```text
//! header   "BCHPAYBK" | format version u32 BE | schema version u32 BE | taken at, unix seconds i64 BE
//! body     one zstd frame of records:
//!            0x01 len u16 BE, tree name       the records that follow belong to this tree
//!            0x02 len u32 BE, key, len u32 BE, value   key = value
//!            0x03 len u32 BE, key             key removed (the changes made while the dump ran)
//!            0x04 count u64 BE                the end: how many records came before it
//! trailer  SHA-256 of header ‖ body (32 bytes)
//! ```
//!
//! Replaying the records in order gives the store as of one instant. The
//! magic and the format version sit at the same place in every version, so a
//! reader can always tell "not a backup" and "newer than me" apart from damage.

use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

/// The first bytes of every backup.
pub const MAGIC: &[u8; 8] = b"BCHPAYBK";
/// The format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Header bytes: magic, format version, schema version, time taken.
pub const HEADER_LEN: u64 = 8 + 4 + 4 + 8;
/// Trailer bytes: the SHA-256.
pub const TRAILER_LEN: u64 = 32;
/// zstd's level: its default, fast enough to keep up with a dump.
const LEVEL: i32 = 3;
/// The longest key or value a reader accepts (a store's values are a few KiB).
const MAX_FIELD: u32 = 256 * 1024 * 1024;

const TREE: u8 = 1;
const PUT: u8 = 2;
const DEL: u8 = 3;
const END: u8 = 4;

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The file format's version.
    pub format: u32,
    /// The store's `SCHEMA_VERSION` when it was taken.
    pub schema: u32,
    /// When it was taken (unix seconds, UTC).
    pub taken_at: i64,
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&self.format.to_be_bytes());
        bytes.extend_from_slice(&self.schema.to_be_bytes());
        bytes.extend_from_slice(&self.taken_at.to_be_bytes());
        bytes
    }

    /// Reads a header, refusing what is not a backup and a newer format.
    fn decode(bytes: &[u8]) -> Result<Header, FormatError> {
        if bytes.len() < HEADER_LEN as usize || &bytes[..8] != MAGIC {
            return Err(FormatError::NotABackup);
        }
        let u32_at = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let format = u32_at(8);
        if format > FORMAT_VERSION || format == 0 {
            return Err(FormatError::NewerFormat(format));
        }
        let mut taken = [0u8; 8];
        taken.copy_from_slice(&bytes[16..24]);
        Ok(Header {
            format,
            schema: u32_at(12),
            taken_at: i64::from_be_bytes(taken),
        })
    }
}

/// One record of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// The records that follow belong to this tree.
    Tree(String),
    /// `key = value` in the current tree.
    Put(Vec<u8>, Vec<u8>),
    /// `key` removed from the current tree.
    Del(Vec<u8>),
}

/// Why a file cannot be read as a backup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// It does not start like a backup.
    #[error("not a bchpay backup (it does not start with {MAGIC:?})")]
    NotABackup,
    /// Written by a newer bchpay.
    #[error("backup format version {0}: this bchpay reads version {FORMAT_VERSION}; restore it with a newer bchpay")]
    NewerFormat(u32),
    /// The checksum does not match: damaged or cut short.
    #[error("the backup is damaged or incomplete: its SHA-256 checksum does not match its content")]
    Checksum,
    /// The checksum matches but a record does not read (a bug in the writer).
    #[error("the backup's content does not read: {0}")]
    Corrupt(String),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(String),
}

impl From<io::Error> for FormatError {
    fn from(e: io::Error) -> Self {
        FormatError::Io(e.to_string())
    }
}

/// Passes bytes through, hashing and counting them.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What a finished [`Writer`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Bytes of the whole file.
    pub bytes: u64,
    /// Records before the end record.
    pub records: u64,
}

/// Streams a backup into `W`.
pub struct Writer<W: Write> {
    /// The compressor over the hashing sink.
    encoder: zstd::stream::write::Encoder<'static, Hashing<W>>,
    /// Records written so far.
    records: u64,
}

impl<W: Write> Writer<W> {
    /// Writes the header and opens the body.
    pub fn new(out: W, header: &Header) -> io::Result<Writer<W>> {
        let mut sink = Hashing {
            inner: out,
            hasher: Sha256::new(),
            bytes: 0,
        };
        sink.write_all(&header.encode())?;
        Ok(Writer {
            encoder: zstd::stream::write::Encoder::new(sink, LEVEL)?,
            records: 0,
        })
    }

    /// The records that follow belong to `name`.
    pub fn tree(&mut self, name: &str) -> io::Result<()> {
        let len = u16::try_from(name.len()).map_err(|_| io::Error::other("tree name too long"))?;
        self.encoder.write_all(&[TREE])?;
        self.encoder.write_all(&len.to_be_bytes())?;
        self.encoder.write_all(name.as_bytes())?;
        self.records += 1;
        Ok(())
    }

    /// `key = value` in the current tree.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.encoder.write_all(&[PUT])?;
        self.field(key)?;
        self.field(value)?;
        self.records += 1;
        Ok(())
    }

    /// `key` removed from the current tree.
    pub fn del(&mut self, key: &[u8]) -> io::Result<()> {
        self.encoder.write_all(&[DEL])?;
        self.field(key)?;
        self.records += 1;
        Ok(())
    }

    fn field(&mut self, bytes: &[u8]) -> io::Result<()> {
        let len = u32::try_from(bytes.len())
            .ok()
            .filter(|n| *n <= MAX_FIELD)
            .ok_or_else(|| io::Error::other("a key or value over 256 MiB"))?;
        self.encoder.write_all(&len.to_be_bytes())?;
        self.encoder.write_all(bytes)
    }

    /// Writes the end record, closes the body, appends the checksum; hands
    /// back the sink and what was written.
    pub fn finish(mut self) -> io::Result<(W, Written)> {
        self.encoder.write_all(&[END])?;
        self.encoder.write_all(&self.records.to_be_bytes())?;
        let mut sink = self.encoder.finish()?;
        let digest = sink.hasher.finalize_reset();
        sink.inner.write_all(&digest)?;
        sink.inner.flush()?;
        let written = Written {
            bytes: sink.bytes + TRAILER_LEN,
            records: self.records,
        };
        Ok((sink.inner, written))
    }
}

/// Checks a whole backup: its header (magic, format version) and its
/// checksum. Reads it once; the records are not decoded (see [`Reader`]).
pub fn verify<R: Read + Seek>(file: &mut R) -> Result<Header, FormatError> {
    let len = file.seek(SeekFrom::End(0))?;
    file.seek(SeekFrom::Start(0))?;
    let mut head = vec![0u8; HEADER_LEN.min(len) as usize];
    file.read_exact(&mut head)?;
    let header = Header::decode(&head)?;
    if len < HEADER_LEN + TRAILER_LEN {
        return Err(FormatError::Checksum);
    }
    let mut hasher = Sha256::new();
    hasher.update(&head);
    let mut body = (&mut *file).take(len - HEADER_LEN - TRAILER_LEN);
    io::copy(&mut body, &mut HashSink(&mut hasher))?;
    let mut trailer = [0u8; TRAILER_LEN as usize];
    file.read_exact(&mut trailer)?;
    if hasher.finalize().as_slice() != trailer {
        return Err(FormatError::Checksum);
    }
    Ok(header)
}

/// A `Write` into a hasher.
struct HashSink<'a>(&'a mut Sha256);

impl Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Replays the records of a backup that [`verify`] accepted.
pub struct Reader<R: Read> {
    /// The decompressed body.
    decoder: zstd::stream::read::Decoder<'static, BufReader<io::Take<R>>>,
    /// Records read so far.
    records: u64,
    /// Whether the end record was read.
    ended: bool,
}

impl<R: Read + Seek> Reader<R> {
    /// Opens the body of `file` (checked by [`verify`] first).
    pub fn open(mut file: R) -> Result<(Header, Reader<R>), FormatError> {
        let len = file.seek(SeekFrom::End(0))?;
        file.seek(SeekFrom::Start(0))?;
        let mut head = vec![0u8; HEADER_LEN.min(len) as usize];
        file.read_exact(&mut head)?;
        let header = Header::decode(&head)?;
        let body_len = len.checked_sub(HEADER_LEN + TRAILER_LEN).ok_or(FormatError::Checksum)?;
        let decoder = zstd::stream::read::Decoder::new(file.take(body_len))?;
        Ok((
            header,
            Reader {
                decoder,
                records: 0,
                ended: false,
            },
        ))
    }
}

impl<R: Read> Reader<R> {
    /// The next record; `None` after the end record (whose count must match).
    pub fn next_record(&mut self) -> Result<Option<Record>, FormatError> {
        if self.ended {
            return Ok(None);
        }
        let corrupt = |e: io::Error| FormatError::Corrupt(e.to_string());
        let mut tag = [0u8; 1];
        self.decoder.read_exact(&mut tag).map_err(corrupt)?;
        let record = match tag[0] {
            TREE => {
                let mut len = [0u8; 2];
                self.decoder.read_exact(&mut len).map_err(corrupt)?;
                let name = self.bytes(u16::from_be_bytes(len) as u32)?;
                Record::Tree(
                    String::from_utf8(name).map_err(|_| FormatError::Corrupt("a tree name is not UTF-8".into()))?,
                )
            }
            PUT => {
                let key = self.field()?;
                Record::Put(key, self.field()?)
            }
            DEL => Record::Del(self.field()?),
            END => {
                let mut count = [0u8; 8];
                self.decoder.read_exact(&mut count).map_err(corrupt)?;
                if u64::from_be_bytes(count) != self.records {
                    return Err(FormatError::Corrupt(format!(
                        "the end record counts {} records, {} came before it",
                        u64::from_be_bytes(count),
                        self.records
                    )));
                }
                self.ended = true;
                return Ok(None);
            }
            other => return Err(FormatError::Corrupt(format!("unknown record tag {other}"))),
        };
        self.records += 1;
        Ok(Some(record))
    }

    fn field(&mut self) -> Result<Vec<u8>, FormatError> {
        let mut len = [0u8; 4];
        self.decoder
            .read_exact(&mut len)
            .map_err(|e| FormatError::Corrupt(e.to_string()))?;
        let len = u32::from_be_bytes(len);
        if len > MAX_FIELD {
            return Err(FormatError::Corrupt(format!("a field of {len} bytes")));
        }
        self.bytes(len)
    }

    fn bytes(&mut self, len: u32) -> Result<Vec<u8>, FormatError> {
        let mut bytes = vec![0u8; len as usize];
        self.decoder
            .read_exact(&mut bytes)
            .map_err(|e| FormatError::Corrupt(e.to_string()))?;
        Ok(bytes)
    }
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
