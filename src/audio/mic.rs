//! The microphone through cpal: any native rate, format and channel count,
//! converted to 16 kHz mono i16. The capture callback only copies into the
//! lock-free ring ([`super::ring`]); the reader downmixes, resamples, watches
//! for a lost device and reopens it with exponential backoff.

use super::resample::StreamResampler;
use super::ring::{capture_ring, CaptureReader, CaptureWriter, RingStats};
use super::source::{AudioSource, SourceStats};
use super::AudioError;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the microphone is chosen and kept.
#[derive(Debug, Clone)]
pub struct MicSettings {
    /// Device name as `cabin-voice devices` prints it; empty: the default input.
    pub device: String,
    /// First reopen delay after the device was lost; doubles up to `reconnect_max_ms`.
    pub reconnect_initial_ms: u64,
    pub reconnect_max_ms: u64,
    /// No samples for this long while open counts as a lost device.
    pub stall_ms: u64,
}

impl Default for MicSettings {
    fn default() -> Self {
        MicSettings {
            device: String::new(),
            reconnect_initial_ms: 250,
            reconnect_max_ms: 5000,
            stall_ms: 2000,
        }
    }
}

/// One open capture stream.
struct Open {
    // Field order: the stream (and with it the callback owning the writer)
    // is dropped first.
    _stream: cpal::Stream,
    reader: CaptureReader,
    resampler: StreamResampler,
    lost: Arc<AtomicBool>,
    last_data: Instant,
}

/// The microphone as an [`AudioSource`].
pub struct MicSource {
    settings: MicSettings,
    name: String,
    open: Option<Open>,
    ring_stats: Arc<RingStats>,
    errors: Arc<AtomicU64>,
    reconnects: u64,
    backoff_ms: u64,
    scratch: Vec<f32>,
    ready: VecDeque<i16>,
}

impl MicSource {
    /// Opens the configured device now (an error if it is not there at start).
    pub fn open(settings: MicSettings) -> Result<MicSource, AudioError> {
        let mut m = MicSource {
            name: if settings.device.is_empty() {
                "default input".into()
            } else {
                settings.device.clone()
            },
            backoff_ms: settings.reconnect_initial_ms.max(1),
            settings,
            open: None,
            ring_stats: Arc::new(RingStats::default()),
            errors: Arc::new(AtomicU64::new(0)),
            reconnects: 0,
            scratch: vec![0.0; 8192],
            ready: VecDeque::with_capacity(1 << 15),
        };
        m.open = Some(m.try_open()?);
        Ok(m)
    }

    fn find_device(&self) -> Result<cpal::Device, AudioError> {
        let host = cpal::default_host();
        let unavailable = |msg: String| AudioError::Device {
            device: self.name.clone(),
            msg,
        };
        if self.settings.device.is_empty() {
            return host
                .default_input_device()
                .ok_or_else(|| unavailable("no default input device".into()));
        }
        let devices = host
            .input_devices()
            .map_err(|e| unavailable(e.to_string()))?;
        let mut seen = Vec::new();
        for d in devices {
            let name = d
                .description()
                .map(|x| x.name().to_string())
                .unwrap_or_default();
            if name == self.settings.device {
                return Ok(d);
            }
            seen.push(name);
        }
        Err(unavailable(format!(
            "not found (inputs: {})",
            if seen.is_empty() {
                "none".to_string()
            } else {
                seen.join(", ")
            }
        )))
    }

    fn try_open(&mut self) -> Result<Open, AudioError> {
        let device = self.find_device()?;
        let err = |msg: String| AudioError::Device {
            device: self.name.clone(),
            msg,
        };
        let supported = device
            .default_input_config()
            .map_err(|e| err(e.to_string()))?;
        let format = supported.sample_format();
        let config = supported.config();
        let (writer, reader) = capture_ring(self.ring_stats.clone());
        let lost = Arc::new(AtomicBool::new(false));
        let stream = match format {
            SampleFormat::I16 => build::<i16>(&device, &config, writer, &lost, &self.errors),
            SampleFormat::I32 => build::<i32>(&device, &config, writer, &lost, &self.errors),
            SampleFormat::U16 => build::<u16>(&device, &config, writer, &lost, &self.errors),
            SampleFormat::U8 => build::<u8>(&device, &config, writer, &lost, &self.errors),
            SampleFormat::I8 => build::<i8>(&device, &config, writer, &lost, &self.errors),
            SampleFormat::F32 => build::<f32>(&device, &config, writer, &lost, &self.errors),
            SampleFormat::F64 => build::<f64>(&device, &config, writer, &lost, &self.errors),
            other => return Err(err(format!("sample format {other:?} not supported"))),
        }
        .map_err(|e| err(e.to_string()))?;
        stream.play().map_err(|e| err(e.to_string()))?;
        tracing::info!(device = %self.name, rate = config.sample_rate, channels = config.channels,
            format = ?format, "microphone open");
        Ok(Open {
            _stream: stream,
            reader,
            resampler: StreamResampler::new(config.sample_rate, config.channels as usize)?,
            lost,
            last_data: Instant::now(),
        })
    }

    /// Drops the stream and reopens with backoff until it works; the caller
    /// (the listener thread) blocks meanwhile, the rest of the assistant runs.
    fn reconnect(&mut self) {
        self.open = None;
        self.ready.clear();
        loop {
            std::thread::sleep(Duration::from_millis(self.backoff_ms));
            match self.try_open() {
                Ok(o) => {
                    self.open = Some(o);
                    self.reconnects += 1;
                    self.backoff_ms = self.settings.reconnect_initial_ms.max(1);
                    tracing::warn!(device = %self.name, reconnects = self.reconnects, "microphone reopened");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_ms = self.backoff_ms, "microphone still unavailable");
                    self.backoff_ms =
                        (self.backoff_ms * 2).min(self.settings.reconnect_max_ms.max(1));
                }
            }
        }
    }
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    mut writer: CaptureWriter,
    lost: &Arc<AtomicBool>,
    errors: &Arc<AtomicU64>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + Send + 'static,
    f32: FromSample<T>,
{
    let lost = lost.clone();
    let errors = errors.clone();
    device.build_input_stream::<T, _, _>(
        *config,
        // The real-time callback: copy into the ring, nothing else.
        move |data: &[T], _| writer.push(data, f32::from_sample_),
        move |e: cpal::Error| {
            errors.fetch_add(1, Ordering::Relaxed);
            if e.kind() != cpal::ErrorKind::DeviceChanged {
                lost.store(true, Ordering::Relaxed);
            }
        },
        None,
    )
}

impl AudioSource for MicSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&mut self, buf: &mut [i16]) -> Result<usize, AudioError> {
        loop {
            if !self.ready.is_empty() {
                let n = buf.len().min(self.ready.len());
                for (d, s) in buf.iter_mut().zip(self.ready.drain(..n)) {
                    *d = s;
                }
                return Ok(n);
            }
            let stall = Duration::from_millis(self.settings.stall_ms.max(100));
            let Some(open) = self.open.as_mut() else {
                self.reconnect();
                continue;
            };
            if open.lost.load(Ordering::Relaxed) || open.last_data.elapsed() > stall {
                tracing::warn!(device = %self.name, "microphone lost; reopening");
                self.reconnect();
                continue;
            }
            let n = open.reader.pop_into(&mut self.scratch);
            if n == 0 {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            open.last_data = Instant::now();
            let ready = &mut self.ready;
            open.resampler
                .push(&self.scratch[..n], &mut |b| ready.extend(b.iter().copied()))?;
        }
    }

    fn stats(&self) -> SourceStats {
        let (overruns, dropped) = match &self.open {
            Some(o) => o.reader.overruns(),
            None => (
                self.ring_stats.overruns.load(Ordering::Relaxed),
                self.ring_stats.dropped.load(Ordering::Relaxed),
            ),
        };
        SourceStats {
            overruns,
            dropped_samples: dropped,
            reconnects: self.reconnects,
        }
    }
}
