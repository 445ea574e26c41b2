//! The microphone path through ALSA without sound hardware: an asoundrc (in a
//! temporary HOME) defines a capture device of the `file` plugin over the
//! `null` device, reading a 48 kHz stereo float file: cpal opens it by name,
//! the capture callback fills the ring, the reader downmixes and resamples to
//! 16 kHz mono. The null device is not paced in real time, so the ring overruns
//! (counted, not fatal): the stats show it.

use cabin_voice::audio::mic::{MicSettings, MicSource};
use cabin_voice::audio::AudioSource;
use std::io::Write;

#[test]
fn microphone_by_name_through_alsa_file_plugin() {
    let home = std::env::temp_dir().join(format!("cv-alsa-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    // 3 s of a 440 Hz tone, 48 kHz stereo f32 (the device's native format).
    let infile = home.join("in.raw");
    let mut f = std::fs::File::create(&infile).unwrap();
    for i in 0..48_000 * 3 {
        let v = (i as f32 / 48_000.0 * 440.0 * std::f32::consts::TAU).sin() * 0.25;
        f.write_all(&v.to_le_bytes()).unwrap();
        f.write_all(&v.to_le_bytes()).unwrap();
    }
    drop(f);
    std::fs::write(
        home.join(".asoundrc"),
        format!(
            "pcm.cabinmic {{\n type file\n slave.pcm \"null\"\n file \"/dev/null\"\n infile \"{}\"\n format \"raw\"\n hint {{ show on description \"cabin test mic\" }}\n}}\n",
            infile.display()
        ),
    )
    .unwrap();
    // alsa-lib reads ~/.asoundrc of $HOME when it first loads its configuration.
    std::env::set_var("HOME", &home);
    let mut mic = match MicSource::open(MicSettings {
        device: "cabin test mic".into(),
        ..MicSettings::default()
    }) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    let mut got: Vec<i16> = Vec::new();
    let mut buf = [0i16; 1024];
    while got.len() < 16_000 {
        let n = mic.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    // Past the resampler's start-up: a 440 Hz tone at a quarter of full scale.
    let tail = &got[4000..16_000];
    let peak = tail.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!((6000..=10_000).contains(&peak), "peak {peak}");
    let crossings = tail.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    let hz = crossings as f32 / 2.0 / (tail.len() as f32 / 16_000.0);
    assert!((400.0..480.0).contains(&hz), "{hz} Hz");
    let st = mic.stats();
    assert_eq!(st.reconnects, 0);
    eprintln!("mic stats: {st:?}");
    std::fs::remove_dir_all(&home).ok();
}
