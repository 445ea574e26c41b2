//! A whole utterance in memory: 16 kHz mono f32 in [-1, 1].

use super::AudioError;
use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use std::io::Read;
use std::path::Path;

/// The sample rate everything after the front end works at.
pub const SAMPLE_RATE: u32 = 16_000;

/// A mono clip at [`SAMPLE_RATE`].
#[derive(Debug, Clone, Default)]
pub struct Clip {
    pub samples: Vec<f32>,
}

impl Clip {
    /// Duration in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / SAMPLE_RATE as u64
    }

    /// Reads a WAV file of any common PCM/float format, channel count and rate.
    pub fn from_wav(path: &Path) -> Result<Clip, AudioError> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| AudioError::Io {
            path: name.clone(),
            err: e,
        })?;
        let reader =
            hound::WavReader::new(std::io::BufReader::new(file)).map_err(|e| AudioError::Wav {
                path: name.clone(),
                msg: e.to_string(),
            })?;
        let spec = reader.spec();
        let wav_err = |e: hound::Error| AudioError::Wav {
            path: name.clone(),
            msg: e.to_string(),
        };
        let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Float, 32) => reader
                .into_samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(wav_err)?,
            (hound::SampleFormat::Int, bits @ 8..=32) => {
                let scale = 1.0 / (1u64 << (bits - 1)) as f32;
                reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|v| v as f32 * scale))
                    .collect::<Result<_, _>>()
                    .map_err(wav_err)?
            }
            (fmt, bits) => {
                return Err(AudioError::Format {
                    path: name,
                    msg: format!("{fmt:?} {bits}-bit samples"),
                })
            }
        };
        if spec.channels == 0 {
            return Err(AudioError::Format {
                path: name,
                msg: "0 channels".into(),
            });
        }
        let ch = spec.channels as usize;
        let mono: Vec<f32> = interleaved
            .chunks_exact(ch)
            .map(|f| f.iter().sum::<f32>() / ch as f32)
            .collect();
        if mono.is_empty() {
            return Err(AudioError::Empty { path: name });
        }
        Ok(Clip {
            samples: resample(&mono, spec.sample_rate)?,
        })
    }

    /// Reads raw 16 kHz s16le mono PCM (e.g. from `arecord -f S16_LE -r 16000`).
    pub fn from_raw_s16le(mut input: impl Read, name: &str) -> Result<Clip, AudioError> {
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes).map_err(|e| AudioError::Io {
            path: name.into(),
            err: e,
        })?;
        let samples: Vec<f32> = bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0)
            .collect();
        if samples.is_empty() {
            return Err(AudioError::Empty { path: name.into() });
        }
        Ok(Clip { samples })
    }

    /// Reads `path`: `-` is raw PCM on stdin, anything else a WAV file.
    pub fn load(path: &str) -> Result<Clip, AudioError> {
        if path == "-" {
            Clip::from_raw_s16le(std::io::stdin().lock(), "<stdin>")
        } else {
            Clip::from_wav(Path::new(path))
        }
    }
}

/// Converts mono audio at `rate` to [`SAMPLE_RATE`].
fn resample(mono: &[f32], rate: u32) -> Result<Vec<f32>, AudioError> {
    resample_between(mono, rate, SAMPLE_RATE)
}

/// Converts a whole mono clip from `from` Hz to `to` Hz.
pub(crate) fn resample_between(mono: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == to {
        return Ok(mono.to_vec());
    }
    if from == 0 || to == 0 {
        return Err(AudioError::Resample("sample rate 0".into()));
    }
    let err = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
    let mut rs = Fft::<f32>::new(from as usize, to as usize, 1024, 2, 1, FixedSync::Input)
        .map_err(|e| err(&e))?;
    let input = InterleavedSlice::new(mono, 1, mono.len()).map_err(|e| err(&e))?;
    let out_len = rs.process_all_needed_output_len(mono.len());
    let mut out = vec![0.0f32; out_len];
    let mut output = InterleavedSlice::new_mut(&mut out, 1, out_len).map_err(|e| err(&e))?;
    let (_, written) = rs
        .process_all_into_buffer(&input, &mut output, mono.len(), None)
        .map_err(|e| err(&e))?;
    out.truncate(written);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, channels: u16, n: usize) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..n * channels as usize {
            let t = (i / channels as usize) as f32 / rate as f32;
            w.write_sample(((t * 440.0 * std::f32::consts::TAU).sin() * 8000.0) as i16)
                .unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn reads_and_resamples() {
        let dir = std::env::temp_dir().join(format!("cv-clip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.wav");
        write_wav(&p, 48000, 2, 48000);
        let c = Clip::from_wav(&p).unwrap();
        assert!(
            (c.samples.len() as i64 - 16000).abs() < 200,
            "{}",
            c.samples.len()
        );
        assert!(c.samples.iter().any(|s| s.abs() > 0.1));
        write_wav(&p, 16000, 1, 8000);
        assert_eq!(Clip::from_wav(&p).unwrap().samples.len(), 8000);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn rejects_bad_input() {
        let dir = std::env::temp_dir().join(format!("cv-clip-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.wav");
        std::fs::write(&p, b"this is not audio").unwrap();
        let e = Clip::from_wav(&p).unwrap_err().to_string();
        assert!(e.contains("not a readable WAV"), "{e}");
        write_wav(&p, 16000, 1, 0);
        assert!(matches!(Clip::from_wav(&p), Err(AudioError::Empty { .. })));
        assert!(matches!(
            Clip::from_raw_s16le(&b""[..], "-"),
            Err(AudioError::Empty { .. })
        ));
        let c = Clip::from_raw_s16le(&[0u8, 64, 0, 192][..], "-").unwrap();
        assert_eq!(c.samples, vec![0.5, -0.5]);
        std::fs::remove_dir_all(&dir).ok();
    }
}
