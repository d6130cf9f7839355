//! Group commit's bookkeeping: the replies parked until the flush that makes
//! their writes durable. One flush serves every write applied while the
//! previous one ran; a reply therefore means "on disk".

use tokio::sync::oneshot;

use super::error::StoreError;
use super::messages::Created;

/// Replies to a flush: `Ok` once the writes before it are on disk.
pub type FlushReply = oneshot::Sender<Result<(), StoreError>>;

/// Replies to a `CreateInvoice`.
pub type CreateReply = oneshot::Sender<Result<Created, StoreError>>;

/// A reply parked until the flush that makes its write durable.
pub enum Parked {
    /// A write whose replier waits for the flush result.
    Flush(FlushReply),
    /// A creation, answered with its invoice once flushed.
    Created(CreateReply, Box<Created>),
}

impl Parked {
    /// Answers with the result of the flush.
    fn send(self, result: &Result<(), StoreError>) {
        match self {
            Parked::Flush(tx) => drop(tx.send(result.clone())),
            Parked::Created(tx, created) => drop(tx.send(result.clone().map(|()| *created))),
        }
    }
}

/// The parked replies, and whether a flush runs.
#[derive(Default)]
pub struct GroupCommit {
    /// Replies of applied writes waiting for the next flush to start.
    waiting: Vec<Parked>,
    /// Replies of the writes the running flush will make durable.
    in_flight: Vec<Parked>,
    /// Whether a flush is running (new writes then wait for the next one).
    flushing: bool,
}

impl GroupCommit {
    /// Parks a reply for the next flush.
    pub fn park(&mut self, parked: Parked) {
        self.waiting.push(parked);
    }

    /// Whether a flush should start now: none runs and replies wait.
    pub fn should_flush(&self) -> bool {
        !self.flushing && !self.waiting.is_empty()
    }

    /// A flush starts: it takes every reply parked so far.
    pub fn begin(&mut self) {
        self.flushing = true;
        self.in_flight = std::mem::take(&mut self.waiting);
    }

    /// The running flush ended with `result`: its replies are answered.
    pub fn end(&mut self, result: &Result<(), StoreError>) {
        for parked in self.in_flight.drain(..) {
            parked.send(result);
        }
        self.flushing = false;
    }

    /// Answers every parked reply with `result` (a blocking flush at stop or
    /// restart); `false` when there was none.
    pub fn answer_all(&mut self, result: impl FnOnce() -> Result<(), StoreError>) -> bool {
        if self.waiting.is_empty() && self.in_flight.is_empty() {
            return false;
        }
        let result = result();
        for parked in self.in_flight.drain(..).chain(self.waiting.drain(..)) {
            parked.send(&result);
        }
        self.flushing = false;
        true
    }
}

/// The error of a reply whose writer went away.
pub fn stopped() -> StoreError {
    StoreError::WriterFailed("the store stopped before the write was flushed".into())
}

/// `value` once the flush behind `rx` has it on disk.
pub async fn durable<T>(value: T, rx: oneshot::Receiver<Result<(), StoreError>>) -> Result<T, StoreError> {
    match rx.await {
        Ok(Ok(())) => Ok(value),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(stopped()),
    }
}
