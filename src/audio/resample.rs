//! Streaming conversion of interleaved native audio (any rate, any channel
//! count) to 16 kHz mono i16, with buffers allocated once at construction.

use super::source::to_i16;
use super::{AudioError, SAMPLE_RATE};
use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Input frames per resampler chunk.
const CHUNK: usize = 1024;

/// Downmix + resample, chunk by chunk.
pub struct StreamResampler {
    channels: usize,
    /// `None` when the input is already 16 kHz.
    fft: Option<Fft<f32>>,
    /// Mono input waiting for a full chunk.
    pending: Vec<f32>,
    pending_len: usize,
    /// Partial frame (fewer samples than channels) carried between pushes.
    frame: Vec<f32>,
    frame_len: usize,
    out: Vec<f32>,
}

impl StreamResampler {
    pub fn new(rate: u32, channels: usize) -> Result<StreamResampler, AudioError> {
        if rate == 0 || channels == 0 {
            return Err(AudioError::Resample(format!(
                "unusable input format: {rate} Hz, {channels} channels"
            )));
        }
        let fft = if rate == SAMPLE_RATE {
            None
        } else {
            Some(
                Fft::<f32>::new(
                    rate as usize,
                    SAMPLE_RATE as usize,
                    CHUNK,
                    2,
                    1,
                    FixedSync::Input,
                )
                .map_err(|e| AudioError::Resample(e.to_string()))?,
            )
        };
        let out_max = fft.as_ref().map_or(CHUNK, |f| f.output_frames_max());
        Ok(StreamResampler {
            channels,
            fft,
            pending: vec![0.0; CHUNK],
            pending_len: 0,
            frame: vec![0.0; channels],
            frame_len: 0,
            out: vec![0.0; out_max],
        })
    }

    /// Feeds interleaved samples; calls `emit` with each converted block.
    /// Allocation-free.
    pub fn push(
        &mut self,
        interleaved: &[f32],
        emit: &mut dyn FnMut(&[i16]),
    ) -> Result<(), AudioError> {
        let mut block = [0i16; 256];
        for &s in interleaved {
            self.frame[self.frame_len] = s;
            self.frame_len += 1;
            if self.frame_len < self.channels {
                continue;
            }
            self.frame_len = 0;
            let mono = self.frame.iter().sum::<f32>() / self.channels as f32;
            self.pending[self.pending_len] = mono;
            self.pending_len += 1;
            if self.pending_len < self.pending.len() {
                continue;
            }
            self.pending_len = 0;
            let produced = match self.fft.as_mut() {
                None => {
                    self.out[..CHUNK].copy_from_slice(&self.pending);
                    CHUNK
                }
                Some(fft) => {
                    let input = InterleavedSlice::new(&self.pending[..], 1, CHUNK)
                        .map_err(|e| AudioError::Resample(e.to_string()))?;
                    let n_out = self.out.len();
                    let mut output = InterleavedSlice::new_mut(&mut self.out[..], 1, n_out)
                        .map_err(|e| AudioError::Resample(e.to_string()))?;
                    let (_, written) = fft
                        .process_into_buffer(&input, &mut output, None)
                        .map_err(|e| AudioError::Resample(e.to_string()))?;
                    written
                }
            };
            for chunk in self.out[..produced].chunks(block.len()) {
                for (d, &x) in block.iter_mut().zip(chunk) {
                    *d = to_i16(x);
                }
                emit(&block[..chunk.len()]);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_48k_becomes_16k_mono() {
        let mut rs = StreamResampler::new(48_000, 2).unwrap();
        let secs = 2;
        let input: Vec<f32> = (0..48_000 * secs)
            .flat_map(|i| {
                let v = (i as f32 / 48_000.0 * 440.0 * std::f32::consts::TAU).sin() * 0.5;
                [v, v]
            })
            .collect();
        let mut out = Vec::new();
        // Odd-sized pushes split frames across calls.
        for piece in input.chunks(777) {
            rs.push(piece, &mut |b| out.extend_from_slice(b)).unwrap();
        }
        let want = 16_000 * secs;
        assert!(
            out.len() > want - 1500 && out.len() <= want,
            "{}",
            out.len()
        );
        let peak = out[4000..8000].iter().map(|s| s.abs()).max().unwrap();
        assert!((15_000..=17_500).contains(&peak), "{peak}");
    }

    #[test]
    fn native_16k_mono_passes_through() {
        let mut rs = StreamResampler::new(16_000, 1).unwrap();
        let mut out = Vec::new();
        let input: Vec<f32> = (0..4096).map(|i| (i % 100) as f32 / 1000.0).collect();
        rs.push(&input, &mut |b| out.extend_from_slice(b)).unwrap();
        assert_eq!(out.len(), 4096);
        assert_eq!(out[5], to_i16(0.005));
    }
}
