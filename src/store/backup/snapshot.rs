//! Taking a backup: [`online`] (the engine serves meanwhile) and [`offline`]
//! (a stopped store, opened here).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use actix::Addr;

use super::super::actor::InvoiceStore;
use super::super::error::StoreError;
use super::super::layout::keys::MetaKey;
use super::super::layout::trees::TREES;
use super::super::layout::values;
use super::super::messages::BetweenWrites;
use super::super::open::open_db;
use super::super::reader::StoreReader;
use super::changes::{Changes, Cut};
use super::format::{Header, Writer, Written, FORMAT_VERSION};
use super::BackupError;

/// How long the writer may take to run the cut before the backup gives up.
const CUT_WAIT: Duration = Duration::from_secs(60);

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Its header.
    pub header: Header,
    /// Its size and records.
    pub written: Written,
    /// Entries dumped per tree (before the changes made meanwhile).
    pub entries: Vec<(String, u64)>,
    /// Writes to single keys made while it ran, laid over the dump.
    pub changes: u64,
    /// How long the writer paused for the cut.
    pub cut: Duration,
    /// From the first read to the last byte.
    pub took: Duration,
}

fn output(e: std::io::Error) -> BackupError {
    BackupError::Output(e.to_string())
}

/// The schema version the `meta` tree holds.
fn schema_of(meta: &sled::Tree) -> Result<u32, BackupError> {
    match meta.get(MetaKey::SchemaVersion.encode()).map_err(StoreError::from)? {
        Some(v) => Ok(values::decode_schema_version(&v)?),
        None => Err(StoreError::Corrupt("the store holds no schema version".into()).into()),
    }
}

fn header(schema: u32) -> Header {
    Header {
        format: FORMAT_VERSION,
        schema,
        taken_at: chrono::Utc::now().timestamp(),
    }
}

/// Every entry of `trees`, tree by tree, as they read now.
fn dump<W: Write>(w: &mut Writer<W>, trees: &[(String, sled::Tree)]) -> Result<Vec<(String, u64)>, BackupError> {
    let mut entries = Vec::with_capacity(trees.len());
    for (name, tree) in trees {
        w.tree(name).map_err(output)?;
        let mut n = 0u64;
        for kv in tree.iter() {
            let (k, v) = kv.map_err(StoreError::from)?;
            w.put(&k, &v).map_err(output)?;
            n += 1;
        }
        entries.push((name.clone(), n));
    }
    Ok(entries)
}

/// A backup of the store the engine serves, written to `out`; blocks, so
/// run it on a thread of its own (never on the writer's or an HTTP worker).
///
/// Writes go on while every tree is read; `writer` then runs the cut between
/// two writes, and the changes made meanwhile follow the dump: the file
/// replays to the store as of that instant.
pub fn online<W: Write>(writer: &Addr<InvoiceStore>, reader: &StoreReader, out: W) -> Result<Summary, BackupError> {
    online_with(writer, reader, out, || {}).map(|(_, summary)| summary)
}

/// [`online`], running `after_dump` between the dump and the cut (tests
/// write there); hands back the sink too.
pub(super) fn online_with<W: Write>(
    writer: &Addr<InvoiceStore>,
    reader: &StoreReader,
    out: W,
    after_dump: impl FnOnce(),
) -> Result<(W, Summary), BackupError> {
    let started = Instant::now();
    let generation = reader.generation();
    let trees = reader.trees()?;
    let named: Vec<(String, sled::Tree)> = trees
        .all()
        .into_iter()
        .map(|(n, t)| (n.to_owned(), t.clone()))
        .collect();
    let changes = Changes::watch(&trees.all()).map_err(output)?;
    let head = header(schema_of(&trees.meta)?);
    let mut w = Writer::new(out, &head).map_err(output)?;
    let entries = dump(&mut w, &named)?;
    after_dump();

    let (tx, rx) = std::sync::mpsc::channel();
    let now = reader.clone();
    writer.do_send(BetweenWrites(Box::new(move || {
        let start = Instant::now();
        let cut = if now.generation() == generation {
            changes.cut()
        } else {
            Err(StoreError::WriterFailed(
                "the store was reopened while the backup ran (after a disk error): take it again".into(),
            ))
        };
        let _ = tx.send((cut, start.elapsed()));
    })));
    let (cut, paused) = rx
        .recv_timeout(CUT_WAIT)
        .map_err(|_| StoreError::WriterFailed("the store writer did not run the backup's cut".into()))?;
    let Cut { latest, events } = cut?;
    for (name, keys) in &latest {
        w.tree(name).map_err(output)?;
        for (key, value) in keys {
            match value {
                Some(v) => w.put(key, v),
                None => w.del(key),
            }
            .map_err(output)?;
        }
    }
    let (sink, written) = w.finish().map_err(output)?;
    Ok((
        sink,
        Summary {
            header: head,
            written,
            entries,
            changes: events,
            cut: paused,
            took: started.elapsed(),
        },
    ))
}

/// A backup of the stopped store in `dir`, written to `out`: every tree the
/// directory holds, whatever its schema (a restore migrates an older one).
pub fn offline<W: Write>(dir: &Path, out: W) -> Result<Summary, BackupError> {
    if !dir.join("conf").is_file() && !dir.join("db").is_file() {
        return Err(StoreError::Io(format!("no bchpay store at {}", dir.display())).into());
    }
    let started = Instant::now();
    let db = open_db(dir, sled::Config::new())?;
    let mut named = Vec::new();
    for name in db.tree_names() {
        if name.as_ref() == b"__sled__default" {
            continue;
        }
        let text = String::from_utf8(name.to_vec())
            .map_err(|_| StoreError::Corrupt(format!("a tree whose name is not UTF-8: {name:?}")))?;
        named.push((text, db.open_tree(&name).map_err(StoreError::from)?));
    }
    // The layout's order first (as a running store is dumped), then any other tree by name.
    let rank = |name: &str| TREES.iter().position(|t| *t == name).unwrap_or(TREES.len());
    named.sort_by(|(a, _), (b, _)| (rank(a), a).cmp(&(rank(b), b)));
    let meta = named
        .iter()
        .find(|(n, _)| n == "meta")
        .map(|(_, t)| t.clone())
        .ok_or_else(|| StoreError::Corrupt("the store holds no meta tree".into()))?;
    let head = header(schema_of(&meta)?);
    let mut w = Writer::new(out, &head).map_err(output)?;
    let entries = dump(&mut w, &named)?;
    let (_, written) = w.finish().map_err(output)?;
    Ok(Summary {
        header: head,
        written,
        entries,
        changes: 0,
        cut: Duration::ZERO,
        took: started.elapsed(),
    })
}
