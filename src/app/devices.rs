//! `cabin-voice devices`: the audio capture devices cpal sees.

use cpal::traits::{DeviceTrait, HostTrait};

/// One input device.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InputDevice {
    pub name: String,
    pub default: bool,
    /// Native format, e.g. "48000 Hz, 2 ch, F32".
    pub config: String,
}

/// Lists input devices of the default host. An empty list is not an error.
pub fn input_devices() -> Result<Vec<InputDevice>, String> {
    let host = cpal::default_host();
    let default_name = host
        .default_input_device()
        .and_then(|d| d.description().ok())
        .map(|d| d.name().to_string());
    let devices = host.input_devices().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for d in devices {
        let name = d
            .description()
            .map(|x| x.name().to_string())
            .unwrap_or_else(|e| format!("<unnamed: {e}>"));
        let config = d
            .default_input_config()
            .map(|c| {
                format!(
                    "{} Hz, {} ch, {:?}",
                    c.sample_rate(),
                    c.channels(),
                    c.sample_format()
                )
            })
            .unwrap_or_else(|e| format!("no usable config: {e}"));
        out.push(InputDevice {
            default: default_name.as_deref() == Some(name.as_str()),
            name,
            config,
        });
    }
    Ok(out)
}
