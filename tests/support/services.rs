//! Test services on a private D-Bus: an MPRIS player, the project's tuner and
//! navigation interfaces, and oFono's modem / voice call objects. Every call is
//! recorded so a test can assert what the assistant did. They run on their own
//! thread and runtime; dropping [`Services`] stops them.
//!
//! The tuner hangs (never answers in time) when asked for 87.5 MHz, to test
//! call timeouts.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zbus::{interface, OwnedObjectPath, OwnedVariant, Variant};

pub const PLAYER: &str = "org.mpris.MediaPlayer2.testplayer";
pub const MPRIS_PATH: &str = "/org/mpris/MediaPlayer2";
pub const RADIO: &str = "org.cabinvoice.Radio";
pub const RADIO_PATH: &str = "/org/cabinvoice/Radio";
pub const NAV: &str = "org.cabinvoice.Navigation";
pub const NAV_PATH: &str = "/org/cabinvoice/Navigation";
pub const OFONO: &str = "org.ofono";
pub const MODEM: &str = "/hfp/org/bluez/hci0/dev_00_11_22_33_44_55";
pub const CALL: &str = "/hfp/org/bluez/hci0/dev_00_11_22_33_44_55/voicecall01";
/// A frequency the test tuner never answers in time: it answers after
/// [`HANG`] times [`super::time_scale`], far beyond any call timeout.
pub const HANGING_FREQUENCY: f64 = 87.5;
/// How long the tuner hangs at [`HANGING_FREQUENCY`] at native speed.
pub const HANG: Duration = Duration::from_secs(30);

/// One recorded call: service, `Interface.Member`, arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub service: String,
    pub member: String,
    pub args: Vec<Value>,
}

#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Call>>>);

impl Log {
    fn push(&self, service: &str, member: &str, args: Vec<Value>) {
        self.0.lock().unwrap().push(Call {
            service: service.into(),
            member: member.into(),
            args,
        });
    }
    pub fn all(&self) -> Vec<Call> {
        self.0.lock().unwrap().clone()
    }
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// Which services to start.
#[derive(Debug, Clone)]
pub struct Options {
    /// Names of MPRIS players: (name suffix, initial PlaybackStatus).
    pub players: Vec<(&'static str, &'static str)>,
    pub radio: bool,
    pub navigation: bool,
    pub ofono: bool,
    /// oFono reports an incoming call.
    pub incoming_call: bool,
    pub volume: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            players: vec![("testplayer", "Stopped")],
            radio: true,
            navigation: true,
            ofono: true,
            incoming_call: true,
            volume: 0.8,
        }
    }
}

struct Player {
    name: String,
    log: Log,
    status: String,
    volume: Arc<Mutex<f64>>,
}

impl Player {
    fn rec(&self, member: &str, args: Vec<Value>) {
        self.log.push(
            &self.name,
            &format!("org.mpris.MediaPlayer2.Player.{member}"),
            args,
        );
    }
}

#[interface(name = "org.mpris.MediaPlayer2.Player")]
impl Player {
    fn play(&mut self) {
        self.rec("Play", vec![]);
        self.status = "Playing".into();
    }
    fn pause(&mut self) {
        self.rec("Pause", vec![]);
        self.status = "Paused".into();
    }
    fn play_pause(&mut self) {
        self.rec("PlayPause", vec![]);
        self.status = if self.status == "Playing" {
            "Paused"
        } else {
            "Playing"
        }
        .into();
    }
    fn stop(&mut self) {
        self.rec("Stop", vec![]);
        self.status = "Stopped".into();
    }
    fn next(&self) {
        self.rec("Next", vec![]);
    }
    fn previous(&self) {
        self.rec("Previous", vec![]);
    }
    fn open_uri(&mut self, uri: String) {
        self.rec("OpenUri", vec![json!(uri)]);
        self.status = "Playing".into();
    }
    #[zbus(property)]
    fn playback_status(&self) -> String {
        self.status.clone()
    }
    #[zbus(property)]
    fn volume(&self) -> f64 {
        *self.volume.lock().unwrap()
    }
    #[zbus(property)]
    fn set_volume(&mut self, v: f64) {
        self.rec("Volume", vec![json!(v)]);
        *self.volume.lock().unwrap() = v.clamp(0.0, 1.0);
    }
}

struct PlayerRoot;

#[interface(name = "org.mpris.MediaPlayer2")]
impl PlayerRoot {
    #[zbus(property)]
    fn identity(&self) -> String {
        "cabin-voice test player".into()
    }
}

struct Radio {
    log: Log,
    frequency: f64,
    band: String,
}

#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.cabinvoice.Radio1.Error")]
enum RadioError {
    InvalidFrequency(String),
}

#[interface(name = "org.cabinvoice.Radio1")]
impl Radio {
    async fn tune(&mut self, frequency: f64, band: String) -> Result<(), RadioError> {
        self.log.push(
            RADIO,
            "org.cabinvoice.Radio1.Tune",
            vec![json!(frequency), json!(band)],
        );
        if (frequency - HANGING_FREQUENCY).abs() < 1e-9 {
            tokio::time::sleep(HANG.mul_f64(super::time_scale())).await;
        }
        let band = match band.as_str() {
            "" if frequency <= 108.0 => "fm",
            "" => "am",
            b => b,
        };
        let ok = match band {
            "fm" => (87.5..=108.0).contains(&frequency),
            "am" => (520.0..=1710.0).contains(&frequency),
            _ => false,
        };
        if !ok {
            return Err(RadioError::InvalidFrequency(format!(
                "{frequency} is not on the {band} band"
            )));
        }
        self.frequency = frequency;
        self.band = band.to_string();
        Ok(())
    }
    #[zbus(property)]
    fn frequency(&self) -> f64 {
        self.frequency
    }
    #[zbus(property)]
    fn band(&self) -> String {
        self.band.clone()
    }
}

struct Navigation {
    log: Log,
}

#[interface(name = "org.cabinvoice.Navigation1")]
impl Navigation {
    fn navigate_to(&self, destination: String) {
        self.log.push(
            NAV,
            "org.cabinvoice.Navigation1.NavigateTo",
            vec![json!(destination)],
        );
    }
    fn find_poi(&self, category: String) {
        self.log.push(
            NAV,
            "org.cabinvoice.Navigation1.FindPoi",
            vec![json!(category)],
        );
    }
    fn cancel(&self) {
        self.log
            .push(NAV, "org.cabinvoice.Navigation1.Cancel", vec![]);
    }
}

type Objects = Vec<(OwnedObjectPath, HashMap<String, OwnedVariant>)>;

fn props(pairs: Vec<(&str, Variant<'static>)>) -> HashMap<String, OwnedVariant> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), OwnedVariant::try_from(v).unwrap()))
        .collect()
}

struct OfonoManager;

#[interface(name = "org.ofono.Manager")]
impl OfonoManager {
    fn get_modems(&self) -> Objects {
        let ifaces = vec![
            "org.ofono.Handsfree".to_string(),
            "org.ofono.VoiceCallManager".to_string(),
        ];
        vec![
            (
                OwnedObjectPath::try_from("/hfp/org/bluez/hci0/dev_66_66_66_66_66_66").unwrap(),
                props(vec![
                    ("Online", Variant::Bool(false)),
                    ("Interfaces", Variant::from(Vec::<String>::new())),
                ]),
            ),
            (
                OwnedObjectPath::try_from(MODEM).unwrap(),
                props(vec![
                    ("Online", Variant::Bool(true)),
                    ("Interfaces", Variant::from(ifaces)),
                ]),
            ),
        ]
    }
}

struct VoiceCallManager {
    log: Log,
    incoming: bool,
}

#[interface(name = "org.ofono.VoiceCallManager")]
impl VoiceCallManager {
    fn dial(&self, number: String, hide_callerid: String) -> OwnedObjectPath {
        self.log.push(
            OFONO,
            "org.ofono.VoiceCallManager.Dial",
            vec![json!(number), json!(hide_callerid)],
        );
        OwnedObjectPath::try_from(format!("{MODEM}/voicecall02")).unwrap()
    }
    fn hangup_all(&self) {
        self.log
            .push(OFONO, "org.ofono.VoiceCallManager.HangupAll", vec![]);
    }
    fn get_calls(&self) -> Objects {
        if !self.incoming {
            return Vec::new();
        }
        vec![(
            OwnedObjectPath::try_from(CALL).unwrap(),
            props(vec![
                ("State", Variant::from("incoming".to_string())),
                (
                    "LineIdentification",
                    Variant::from("+8613800138000".to_string()),
                ),
            ]),
        )]
    }
}

struct VoiceCall {
    log: Log,
}

#[interface(name = "org.ofono.VoiceCall")]
impl VoiceCall {
    fn answer(&self, #[zbus(header)] hdr: zbus::message::Header<'_>) {
        let path = hdr.path().map(|p| p.to_string()).unwrap_or_default();
        self.log
            .push(OFONO, "org.ofono.VoiceCall.Answer", vec![json!(path)]);
    }
}

/// The running services.
pub struct Services {
    pub log: Log,
    volume: Arc<Mutex<f64>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Services {
    /// Starts the services on the bus at `address`; returns once every name is owned.
    pub fn start(address: &str, opts: Options) -> Services {
        let log = Log::default();
        let volume = Arc::new(Mutex::new(opts.volume));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr, log2, vol2) = (address.to_string(), log.clone(), volume.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let built = build(&addr, &opts, &log2, &vol2).await;
                match built {
                    Ok(conns) => {
                        let _ = ready_tx.send(Ok(()));
                        let _ = stop_rx.await;
                        drop(conns);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                    }
                }
            });
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("test services started in time")
            .expect("test services");
        Services {
            log,
            volume,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The player's volume now.
    pub fn volume(&self) -> f64 {
        *self.volume.lock().unwrap()
    }

    /// Waits until a call recorded after the first `since` calls satisfies `pred`.
    pub fn wait_for(
        &self,
        since: usize,
        timeout: Duration,
        pred: impl Fn(&Call) -> bool,
    ) -> Option<Call> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(c) = self.log.all().into_iter().skip(since).find(|c| pred(c)) {
                return Some(c);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Calls recorded after the first `since`.
    pub fn since(&self, since: usize) -> Vec<Call> {
        self.log.all().into_iter().skip(since).collect()
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn build(
    addr: &str,
    opts: &Options,
    log: &Log,
    volume: &Arc<Mutex<f64>>,
) -> zbus::Result<Vec<zbus::Connection>> {
    use zbus::connection::Builder;
    let mut conns = Vec::new();
    for (suffix, status) in &opts.players {
        let name = format!("org.mpris.MediaPlayer2.{suffix}");
        let player = Player {
            name: name.clone(),
            log: log.clone(),
            status: status.to_string(),
            volume: if *suffix == "testplayer" {
                volume.clone()
            } else {
                Arc::new(Mutex::new(0.5))
            },
        };
        conns.push(
            Builder::address(addr)
                .serve_at(MPRIS_PATH, player)
                .serve_at(MPRIS_PATH, PlayerRoot)
                .name(name)
                .build()
                .await?,
        );
    }
    if opts.radio {
        let radio = Radio {
            log: log.clone(),
            frequency: 98.0,
            band: "fm".into(),
        };
        conns.push(
            Builder::address(addr)
                .serve_at(RADIO_PATH, radio)
                .name(RADIO)
                .build()
                .await?,
        );
    }
    if opts.navigation {
        conns.push(
            Builder::address(addr)
                .serve_at(NAV_PATH, Navigation { log: log.clone() })
                .name(NAV)
                .build()
                .await?,
        );
    }
    if opts.ofono {
        conns.push(
            Builder::address(addr)
                .serve_at("/", OfonoManager)
                .serve_at(
                    MODEM,
                    VoiceCallManager {
                        log: log.clone(),
                        incoming: opts.incoming_call,
                    },
                )
                .serve_at(CALL, VoiceCall { log: log.clone() })
                .name(OFONO)
                .build()
                .await?,
        );
    }
    Ok(conns)
}
