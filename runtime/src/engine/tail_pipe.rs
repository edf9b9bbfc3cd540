//! A plugin's standard error: an in-memory pipe that keeps only its last
//! bytes and never fills.
//!
//! wasmtime-wasi's `MemoryOutputPipe` has a fixed capacity for its whole
//! life: once a plugin had written that much (16 KiB of `eprintln!` over
//! many batches), every later write failed, Rust's `eprintln!` panicked
//! inside the plugin and every batch after failed. This pipe accepts every
//! write, keeps the tail (what a failure report quotes) and is cleared at
//! the start of each call, so the tail belongs to the call that failed.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// How much a single write may hand over at once (WASI's `check-write`).
const WRITE_PERMIT: usize = 64 * 1024;

/// Keeps the last `capacity` bytes written to it.
#[derive(Clone, Debug)]
pub struct TailPipe {
    tail: Arc<Mutex<VecDeque<u8>>>,
    capacity: usize,
}

impl TailPipe {
    /// A pipe that keeps the last `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        TailPipe {
            tail: Arc::new(Mutex::new(VecDeque::with_capacity(capacity))),
            capacity,
        }
    }

    /// The bytes kept, oldest first.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().iter().copied().collect()
    }

    /// Forget what was written (at the start of a call).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn push(&self, bytes: &[u8]) {
        let mut tail = self.lock();
        let keep = bytes.len().min(self.capacity);
        let overflow = (tail.len() + keep).saturating_sub(self.capacity);
        tail.drain(..overflow);
        tail.extend(&bytes[bytes.len() - keep..]);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<u8>> {
        // A panic while holding the lock cannot leave the bytes invalid.
        self.tail
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl OutputStream for TailPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for TailPipe {
    async fn ready(&mut self) {}
}

impl AsyncWrite for TailPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for TailPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for TailPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_tail_and_never_fills() {
        let mut pipe = TailPipe::new(8);
        for _ in 0..10_000 {
            pipe.write(Bytes::from_static(b"abc")).unwrap();
            assert_eq!(pipe.check_write().unwrap(), WRITE_PERMIT);
        }
        pipe.write(Bytes::from_static(b"0123456789")).unwrap();
        assert_eq!(pipe.contents(), b"23456789");
        pipe.write(Bytes::from_static(b"xy")).unwrap();
        assert_eq!(pipe.contents(), b"456789xy");
        pipe.clear();
        assert!(pipe.contents().is_empty());
        pipe.write(Bytes::from_static(b"new")).unwrap();
        assert_eq!(pipe.contents(), b"new");
    }
}
