//! Noise suppression of a whole utterance before recognition (`asr.denoise`):
//! RNNoise (the `nnnoiseless` port) at its native 48 kHz, the 16 kHz clip
//! resampled up and back down.

use super::clip::resample_between;
use super::{AudioError, SAMPLE_RATE};
use nnnoiseless::DenoiseState;

const RATE: u32 = 48_000;
const FRAME: usize = DenoiseState::FRAME_SIZE;
/// RNNoise works on i16-scaled floats.
const SCALE: f32 = 32_767.0;

/// The clip (16 kHz mono, -1..1) with stationary noise suppressed; the same
/// length as the input.
pub fn denoise(samples: &[f32]) -> Result<Vec<f32>, AudioError> {
    if samples.is_empty() {
        return Ok(Vec::new());
    }
    let up = resample_between(samples, SAMPLE_RATE, RATE)?;
    let mut state = DenoiseState::new();
    // One frame of delay: the first output frame is dropped, a silent frame
    // at the end flushes the last one.
    let mut out = Vec::with_capacity(up.len() + 2 * FRAME);
    let (mut inb, mut outb) = ([0.0f32; FRAME], [0.0f32; FRAME]);
    for chunk in up.chunks(FRAME).chain(std::iter::once(&[][..])) {
        inb.fill(0.0);
        for (i, &s) in inb.iter_mut().zip(chunk) {
            *i = s * SCALE;
        }
        state.process_frame(&mut outb, &inb);
        out.extend(outb.iter().map(|&s| (s / SCALE).clamp(-1.0, 1.0)));
    }
    let clean = &out[FRAME.min(out.len())..(FRAME + up.len()).min(out.len())];
    let mut down = resample_between(clean, RATE, SAMPLE_RATE)?;
    down.resize(samples.len(), 0.0);
    Ok(down)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
    }

    /// Deterministic white-ish noise.
    fn noise(n: usize, amp: f32) -> Vec<f32> {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * amp
            })
            .collect()
    }

    #[test]
    fn keeps_the_length_and_removes_steady_noise() {
        let n = 2 * SAMPLE_RATE as usize;
        let hiss = noise(n, 0.05);
        let out = denoise(&hiss).unwrap();
        assert_eq!(out.len(), n);
        assert!(
            rms(&out[n / 2..]) < 0.5 * rms(&hiss[n / 2..]),
            "noise rms {} -> {}",
            rms(&hiss[n / 2..]),
            rms(&out[n / 2..])
        );
        assert!(denoise(&[]).unwrap().is_empty());
        assert_eq!(denoise(&[0.1; 100]).unwrap().len(), 100);
    }
}
