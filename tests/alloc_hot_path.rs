//! The audio hot path allocates nothing: the capture callback's ring push, the
//! reader's pop, downmix + resampling to 16 kHz, endpointing and the
//! listener's per-frame work, counted by a global allocator in this test
//! binary (its own process, so other tests cannot disturb the count).

use cabin_voice::audio::resample::StreamResampler;
use cabin_voice::audio::ring::{capture_ring, RingStats};
use cabin_voice::listen::config::Listen;
use cabin_voice::listen::vad::{VoiceActivity, VAD_FRAME};
use cabin_voice::listen::{Heard, ListenError, ListenSettings, Listener};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Only the measuring thread counts (the test harness allocates on its own threads).
    static COUNTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn count() {
    if COUNTING.try_with(|c| c.get()).unwrap_or(false) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count();
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count();
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

/// A stand-in for the VAD model: speech when the frame is loud.
struct Energy;
impl VoiceActivity for Energy {
    fn probability(&mut self, frame: &[i16]) -> Result<f32, ListenError> {
        let e = frame.iter().map(|&s| (s as f32).abs()).sum::<f32>() / frame.len() as f32;
        Ok(if e > 1000.0 { 0.9 } else { 0.05 })
    }
    fn reset(&mut self) {}
}

#[test]
fn capture_resample_and_listen_without_allocating() {
    // Set up (allocation allowed).
    let (mut writer, mut reader) = capture_ring(Arc::new(RingStats::default()));
    let mut rs = StreamResampler::new(48_000, 2).unwrap();
    let period: Vec<f32> = (0..960)
        .map(|i| ((i / 2) as f32 * 0.05).sin() * 0.3)
        .collect();
    let mut scratch = vec![0.0f32; 8192];
    let ptt = Arc::new(AtomicBool::new(false));
    let mut listener = Listener::new(
        None,
        Box::new(Energy),
        ListenSettings {
            listen: Listen::default(),
            lang_hint: true,
        },
        ptt.clone(),
    );
    let quiet = vec![10i16; VAD_FRAME];
    let loud = vec![8000i16; VAD_FRAME];
    let mut heard = 0u32;
    let mut out = |h: Heard| {
        assert!(!matches!(h, Heard::Utterance { .. }), "no utterance yet");
        heard += 1;
        true
    };
    // Warm up every path once (first-call lazy work, e.g. FFT plans).
    for _ in 0..8 {
        writer.push(&period, |s| s);
        let n = reader.pop_into(&mut scratch);
        rs.push(&scratch[..n], &mut |_| {}).unwrap();
    }
    listener.push(&quiet, &mut out).unwrap();

    COUNTING.with(|c| c.set(true));
    let before = allocs();
    let mut produced = 0usize;
    for _ in 0..500 {
        // 10 ms periods of 48 kHz stereo f32 through callback -> ring -> reader -> resampler.
        writer.push(&period, |s| s);
        let n = reader.pop_into(&mut scratch);
        rs.push(&scratch[..n], &mut |b| produced += b.len())
            .unwrap();
    }
    // Listening after push-to-talk: silence, speech start, speech going on.
    for _ in 0..50 {
        listener.push(&quiet, &mut out).unwrap();
    }
    ptt.store(true, Ordering::Release);
    for i in 0..100 {
        let f = if i < 5 { &quiet } else { &loud };
        listener.push(f, &mut out).unwrap();
    }
    let during = allocs() - before;
    COUNTING.with(|c| c.set(false));
    assert!(produced > 70_000, "resampled {produced} samples");
    assert!(heard >= 2, "listening and speech_start reported");
    assert_eq!(during, 0, "allocations on the hot path");
}
