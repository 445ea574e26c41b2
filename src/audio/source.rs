//! Streaming audio sources: everything the listener reads is 16 kHz mono i16,
//! whatever it came from (WAV file, raw PCM on stdin, microphone).

use super::{AudioError, Clip, SAMPLE_RATE};
use std::io::Read;
use std::time::{Duration, Instant};

/// Counters a source keeps about itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceStats {
    /// Capture callbacks that found the ring full (samples were dropped).
    pub overruns: u64,
    /// Samples dropped by those overruns.
    pub dropped_samples: u64,
    /// Times the device was lost and opened again.
    pub reconnects: u64,
}

/// A stream of 16 kHz mono i16 samples.
pub trait AudioSource {
    /// A short name for logs and events (file name, `<stdin>`, device name).
    fn name(&self) -> &str;
    /// Blocks until at least one sample is available, then fills the start of
    /// `buf`; returns how many samples were written. `Ok(0)` is the end of the
    /// stream (a file or stdin at EOF; a microphone never ends).
    fn read(&mut self, buf: &mut [i16]) -> Result<usize, AudioError>;
    /// Overruns and reconnects so far.
    fn stats(&self) -> SourceStats {
        SourceStats::default()
    }
}

/// Converts [-1, 1] floats to i16 with saturation.
pub fn to_i16(x: f32) -> i16 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// A WAV file, read whole at open (any format, converted to 16 kHz mono), then
/// delivered as fast as asked or paced in real time like a microphone.
pub struct WavSource {
    name: String,
    samples: Vec<i16>,
    pos: usize,
    paced: Option<Instant>,
    chunk: usize,
}

impl WavSource {
    /// Opens `path`; `realtime` paces delivery at 16 kHz.
    pub fn open(path: &std::path::Path, realtime: bool) -> Result<WavSource, AudioError> {
        let clip = Clip::from_wav(path)?;
        Ok(WavSource::from_samples(
            path.display().to_string(),
            clip.samples.iter().map(|&s| to_i16(s)).collect(),
            realtime,
        ))
    }

    /// A source over samples already in memory.
    pub fn from_samples(name: String, samples: Vec<i16>, realtime: bool) -> WavSource {
        WavSource {
            name,
            samples,
            pos: 0,
            paced: realtime.then(Instant::now),
            // Real time: deliver 20 ms at a time, like a capture period.
            chunk: if realtime { 320 } else { usize::MAX },
        }
    }
}

impl AudioSource for WavSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&mut self, buf: &mut [i16]) -> Result<usize, AudioError> {
        let left = self.samples.len() - self.pos;
        let n = left.min(buf.len()).min(self.chunk);
        if n == 0 {
            return Ok(0);
        }
        if let Some(t0) = self.paced {
            // The samples up to pos + n are "captured" at (pos + n) / 16 kHz.
            let due = Duration::from_micros((self.pos + n) as u64 * 1_000_000 / SAMPLE_RATE as u64);
            if let Some(wait) = due.checked_sub(t0.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        buf[..n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Raw 16 kHz s16le mono PCM from a reader (stdin: `arecord ... | cabin-voice run --input -`).
pub struct RawSource<R: Read + Send> {
    name: String,
    reader: R,
    bytes: Vec<u8>,
    /// A byte of a sample split across reads.
    carry: Option<u8>,
}

impl<R: Read + Send> RawSource<R> {
    pub fn new(reader: R, name: &str) -> Self {
        RawSource {
            name: name.into(),
            reader,
            bytes: vec![0; 4096],
            carry: None,
        }
    }
}

impl<R: Read + Send> AudioSource for RawSource<R> {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&mut self, buf: &mut [i16]) -> Result<usize, AudioError> {
        let want = (buf.len() * 2).min(self.bytes.len());
        loop {
            let start = usize::from(self.carry.is_some());
            if let Some(b) = self.carry {
                self.bytes[0] = b;
            }
            let got = match self.reader.read(&mut self.bytes[start..want]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(AudioError::Io {
                        path: self.name.clone(),
                        err: e,
                    })
                }
            };
            if got == 0 {
                return Ok(0); // EOF (a trailing odd byte is dropped)
            }
            let total = start + got;
            let n = total / 2;
            for (i, s) in buf.iter_mut().take(n).enumerate() {
                *s = i16::from_le_bytes([self.bytes[2 * i], self.bytes[2 * i + 1]]);
            }
            self.carry = (total % 2 == 1).then(|| self.bytes[total - 1]);
            if n > 0 {
                return Ok(n);
            }
        }
    }
}

/// Opens `--input`: `-` is raw PCM on stdin, anything else a WAV file.
pub fn open_input(input: &str, realtime: bool) -> Result<Box<dyn AudioSource>, AudioError> {
    if input == "-" {
        Ok(Box::new(RawSource::new(std::io::stdin(), "<stdin>")))
    } else {
        Ok(Box::new(WavSource::open(
            std::path::Path::new(input),
            realtime,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns one byte per call (worst-case pipe).
    struct Trickle(Vec<u8>, usize);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 >= self.0.len() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[self.1];
            self.1 += 1;
            Ok(1)
        }
    }

    #[test]
    fn raw_source_reassembles_split_samples() {
        let samples: Vec<i16> = vec![1, -2, 300, -32768, 32767];
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut src = RawSource::new(Trickle(bytes, 0), "t");
        let mut out = Vec::new();
        let mut buf = [0i16; 3];
        loop {
            let n = src.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, samples);
    }

    #[test]
    fn wav_source_paces_in_real_time() {
        let mut src = WavSource::from_samples("m".into(), vec![0; 3200], true);
        let t0 = Instant::now();
        let mut buf = [0i16; 1024];
        let mut total = 0;
        loop {
            let n = src.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, 3200);
        let el = t0.elapsed();
        assert!(el >= Duration::from_millis(190), "{el:?}");
        let mut fast = WavSource::from_samples("f".into(), vec![0; 32000], false);
        let t0 = Instant::now();
        assert_eq!(fast.read(&mut vec![0; 40000]).unwrap(), 32000);
        assert!(t0.elapsed() < Duration::from_millis(50));
    }
}
