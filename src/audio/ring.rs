//! The capture ring: a fixed-capacity lock-free single-producer single-consumer
//! queue (`heapless::spsc`) between the audio callback and the reader thread.
//!
//! The producer side ([`CaptureWriter::push`]) is what runs inside the audio
//! callback: it copies samples, counts overruns in atomics, and never allocates,
//! locks or logs.

use heapless::spsc::{Consumer, Producer, Queue};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Samples the ring holds (interleaved, native channel count): ~0.68 s of
/// 48 kHz stereo, ~2 s of 16 kHz mono. One slot of the queue stays empty.
pub const RING_CAPACITY: usize = 1 << 16;

type Ring = Queue<f32, RING_CAPACITY>;

/// Overrun counters shared by both ends.
#[derive(Debug, Default)]
pub struct RingStats {
    pub overruns: AtomicU64,
    pub dropped: AtomicU64,
}

/// The producer end, moved into the audio callback.
pub struct CaptureWriter {
    producer: Producer<'static, f32>,
    stats: Arc<RingStats>,
}

/// The consumer end, kept by the reader.
pub struct CaptureReader {
    consumer: Consumer<'static, f32>,
    stats: Arc<RingStats>,
}

/// Allocates one ring (outside the callback) and splits it. The queue lives as
/// long as the process: a capture ring is made once per device (re)open, which
/// is rare, and a ring is 256 KiB.
pub fn capture_ring(stats: Arc<RingStats>) -> (CaptureWriter, CaptureReader) {
    let queue: &'static mut Ring = Box::leak(Box::new(Ring::new()));
    let (producer, consumer) = queue.split();
    (
        CaptureWriter {
            producer,
            stats: stats.clone(),
        },
        CaptureReader { consumer, stats },
    )
}

impl CaptureWriter {
    /// Copies `samples` (converted by `conv`) into the ring; what does not fit
    /// is dropped and counted. Allocation-, lock- and log-free.
    #[inline]
    pub fn push<T: Copy>(&mut self, samples: &[T], conv: impl Fn(T) -> f32) {
        let mut dropped = 0u64;
        for &s in samples {
            if self.producer.enqueue(conv(s)).is_err() {
                dropped += 1;
            }
        }
        if dropped > 0 {
            self.stats.overruns.fetch_add(1, Ordering::Relaxed);
            self.stats.dropped.fetch_add(dropped, Ordering::Relaxed);
        }
    }
}

impl CaptureReader {
    /// Moves up to `out.len()` samples out of the ring; returns how many.
    pub fn pop_into(&mut self, out: &mut [f32]) -> usize {
        let mut n = 0;
        while n < out.len() {
            match self.consumer.dequeue() {
                Some(s) => {
                    out[n] = s;
                    n += 1;
                }
                None => break,
            }
        }
        n
    }

    pub fn overruns(&self) -> (u64, u64) {
        (
            self.stats.overruns.load(Ordering::Relaxed),
            self.stats.dropped.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_overruns_and_keeps_order() {
        let stats = Arc::new(RingStats::default());
        let (mut w, mut r) = capture_ring(stats);
        let block: Vec<i16> = (0..1000).map(|i| i as i16).collect();
        w.push(&block, |s| s as f32);
        let mut out = vec![0.0; 600];
        assert_eq!(r.pop_into(&mut out), 600);
        assert_eq!(out[599], 599.0);
        assert_eq!(r.overruns(), (0, 0));
        // Fill past capacity: the excess is dropped and counted once per push.
        let big = vec![1i16; RING_CAPACITY + 10];
        w.push(&big, |s| s as f32);
        let (o, d) = r.overruns();
        assert_eq!(o, 1);
        assert_eq!(d as usize, 400 + 10 + 1);
    }
}
