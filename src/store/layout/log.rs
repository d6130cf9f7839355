//! [`ChunkedLog`]: an append-only list of text lines in a tree, 64 lines per
//! entry. Entry `n` (from 0) lives in chunk [`ChunkNo`]`(n / 64)` at line
//! `n % 64`, each line ended by `\n`. The single writer appends (whole chunks
//! written back in its transaction); readers get one entry or walk forward
//! and back; the bulk loader fills chunks with an [`Appender`].

use std::collections::BTreeMap;

use super::super::error::StoreError;
use super::keys::ChunkNo;

/// Entries per chunk.
pub const CHUNK: u64 = 64;

/// The chunk that holds entry `n`, and the line in it.
pub fn chunk_of(n: u64) -> (ChunkNo, usize) {
    (ChunkNo(n / CHUNK), (n % CHUNK) as usize)
}

/// The lines of a chunk.
fn lines(chunk: &[u8]) -> Result<Vec<&str>, StoreError> {
    std::str::from_utf8(chunk)
        .map(|text| text.split_terminator('\n').collect())
        .map_err(|_| StoreError::Corrupt("unreadable log chunk".into()))
}

/// A chunk with `line` appended.
pub fn chunk_push(chunk: Option<&[u8]>, line: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.map_or(0, <[u8]>::len) + line.len() + 1);
    out.extend_from_slice(chunk.unwrap_or_default());
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
    out
}

/// Chunks to write back after an append: chunk number → whole chunk.
pub type ChunkWrites = BTreeMap<ChunkNo, Vec<u8>>;

/// A chunked log over one tree.
#[derive(Clone)]
pub struct ChunkedLog {
    /// The tree holding the chunks.
    tree: sled::Tree,
}

impl ChunkedLog {
    /// The log kept in `tree`.
    pub fn new(tree: sled::Tree) -> ChunkedLog {
        ChunkedLog { tree }
    }

    /// Entry `n`, if written.
    pub fn get(&self, n: u64) -> Result<Option<String>, StoreError> {
        let (chunk, line) = chunk_of(n);
        match self.tree.get(chunk.encode())? {
            Some(bytes) => Ok(lines(&bytes)?.get(line).map(|l| (*l).to_owned())),
            None => Ok(None),
        }
    }

    /// The chunks to write so that `new_lines` become entries `first`,
    /// `first + 1`, …. Reads the chunks as they are now: only the single
    /// writer appends, so nothing changes them before its transaction.
    pub fn plan_append(
        &self,
        first: u64,
        new_lines: impl IntoIterator<Item = String>,
    ) -> Result<ChunkWrites, StoreError> {
        let mut chunks = ChunkWrites::new();
        for (n, line) in (first..).zip(new_lines) {
            let (key, _) = chunk_of(n);
            let before = match chunks.remove(&key) {
                Some(chunk) => Some(chunk),
                None => self.tree.get(key.encode())?.map(|c| c.to_vec()),
            };
            chunks.insert(key, chunk_push(before.as_deref(), &line));
        }
        Ok(chunks)
    }

    /// Writes planned chunks inside a transaction over this log's tree.
    pub fn write_in(
        tree: &sled::transaction::TransactionalTree,
        chunks: &ChunkWrites,
    ) -> Result<(), sled::transaction::UnabortableTransactionError> {
        for (key, chunk) in chunks {
            tree.insert(&key.encode(), chunk.as_slice())?;
        }
        Ok(())
    }

    /// Entries `from ..= last`, oldest first (`last` bounds a log whose
    /// newest chunk may be ahead of its counter).
    pub fn forward(&self, from: u64, last: u64) -> impl Iterator<Item = Result<(u64, String), StoreError>> + '_ {
        let (first_chunk, _) = chunk_of(from);
        self.tree
            .range(first_chunk.encode()..)
            .flat_map(move |entry| chunk_entries(entry, false))
            .filter(move |e| e.as_ref().map_or(true, |(n, _)| *n >= from))
            .take_while(move |e| e.as_ref().map_or(true, |(n, _)| *n <= last))
    }

    /// Entries `newest`, `newest − 1`, … down to 0.
    pub fn backward(&self, newest: u64) -> impl Iterator<Item = Result<(u64, String), StoreError>> + '_ {
        let (last_chunk, _) = chunk_of(newest);
        self.tree
            .range(..=last_chunk.encode())
            .rev()
            .flat_map(|entry| chunk_entries(entry, true))
            .filter(move |e| e.as_ref().map_or(true, |(n, _)| *n <= newest))
    }

    /// Whether the log holds no entry.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// How many entries the log holds (walks its last chunk only).
    pub fn len(&self) -> Result<u64, StoreError> {
        match self.tree.last()? {
            Some((key, chunk)) => Ok(ChunkNo::decode(&key)?.0 * CHUNK + lines(&chunk)?.len() as u64),
            None => Ok(0),
        }
    }
}

/// The entries of one chunk, numbered, in order or reversed.
fn chunk_entries(
    entry: sled::Result<(sled::IVec, sled::IVec)>,
    reversed: bool,
) -> Vec<Result<(u64, String), StoreError>> {
    let decoded = entry.map_err(StoreError::from).and_then(|(key, chunk)| {
        let first = ChunkNo::decode(&key)?.0 * CHUNK;
        Ok(lines(&chunk)?
            .into_iter()
            .enumerate()
            .map(|(i, l)| (first + i as u64, l.to_owned()))
            .collect::<Vec<_>>())
    });
    match decoded {
        Ok(mut entries) => {
            if reversed {
                entries.reverse();
            }
            entries.into_iter().map(Ok).collect()
        }
        Err(e) => vec![Err(e)],
    }
}

/// Appends to a chunked log in bulk: the chunk being filled stays here and is
/// handed out once full ([`Appender::finish`] hands out the last one).
#[derive(Default)]
pub struct Appender {
    /// The chunk being filled and its number.
    open: Option<(ChunkNo, Vec<u8>)>,
}

impl Appender {
    /// Entry `n` (the one after the last pushed); a full chunk to write, if this filled one.
    pub fn push(&mut self, n: u64, line: &str) -> Option<([u8; 8], Vec<u8>)> {
        let (key, at) = chunk_of(n);
        let before = self.open.take().map(|(_, chunk)| chunk);
        let chunk = chunk_push(before.as_deref(), line);
        if at as u64 == CHUNK - 1 {
            Some((key.encode(), chunk))
        } else {
            self.open = Some((key, chunk));
            None
        }
    }

    /// The chunk still being filled, to write.
    pub fn finish(self) -> Option<([u8; 8], Vec<u8>)> {
        self.open.map(|(key, chunk)| (key.encode(), chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> (sled::Db, ChunkedLog) {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let log = ChunkedLog::new(db.open_tree("log").unwrap());
        (db, log)
    }

    #[test]
    fn appends_fill_the_last_chunk_then_start_the_next_and_read_back_both_ways() {
        let (_db, log) = log();
        let mut next = 0u64;
        for batch in [1u64, 62, 3, 64, 70] {
            let lines = (next..next + batch).map(|n| format!("line {n}"));
            for (key, chunk) in log.plan_append(next, lines).unwrap() {
                log.tree.insert(key.encode(), chunk).unwrap();
            }
            next += batch;
        }
        assert_eq!(log.tree.len() as u64, next.div_ceil(CHUNK));
        assert_eq!(log.len().unwrap(), next);
        for n in 0..next {
            assert_eq!(log.get(n).unwrap(), Some(format!("line {n}")));
        }
        assert_eq!(log.get(next).unwrap(), None);
        let forward: Vec<u64> = log.forward(60, 130).map(|e| e.unwrap().0).collect();
        assert_eq!(forward, (60..=130).collect::<Vec<_>>());
        let back: Vec<u64> = log.backward(129).map(|e| e.unwrap().0).collect();
        assert_eq!(back, (0..=129).rev().collect::<Vec<_>>());
    }

    #[test]
    fn the_bulk_appender_writes_the_same_chunks_as_appends() {
        let (_db, log) = log();
        let mut appender = Appender::default();
        let mut written = Vec::new();
        for n in 0..130u64 {
            written.extend(appender.push(n, &format!("line {n}")));
        }
        written.extend(appender.finish());
        let planned = log.plan_append(0, (0..130).map(|n| format!("line {n}"))).unwrap();
        let planned: Vec<_> = planned.into_iter().map(|(k, c)| (k.encode(), c)).collect();
        assert_eq!(written, planned);
    }
}
