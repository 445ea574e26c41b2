//! D-Bus plugins end to end: every media, radio, navigation and phone intent of
//! the catalogue, typed in English and in Chinese through `cabin-voice run --text`,
//! reaches the right method or property of a test service on a private bus; plus
//! what happens when D-Bus is missing, slow, or a name is not in the phone book.

mod common;
mod support;

use serde_json::{json, Value};
use support::services::{self, Options, CALL, HANG, HANGING_FREQUENCY, NAV, OFONO, PLAYER, RADIO};
use support::{enc, say, start_server, time_scale, Rig, Turn};

const PLAYER_IFACE: &str = "org.mpris.MediaPlayer2.Player";

/// Runs `text`, asserts the intent and exactly one D-Bus call of `member` on
/// `service` with `args`, and that nothing went to MQTT.
fn expect_call(
    rig: &mut Rig,
    text: &str,
    intent: &str,
    service: &str,
    member: &str,
    args: Value,
) -> Turn {
    let t = rig.run_text(text);
    assert_eq!(t.code, 0, "{}", t.show());
    assert_eq!(t.intent(), intent, "{}", t.show());
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(t.dbus.len(), 1, "exactly one call: {}", t.show());
    let c = &t.dbus[0];
    assert_eq!(
        (c.service.as_str(), c.member.as_str()),
        (service, member),
        "{}",
        t.show()
    );
    assert_eq!(Value::Array(c.args.clone()), args, "{}", t.show());
    assert!(t.mqtt.is_empty(), "no MQTT actuation: {}", t.show());
    // The action event names the concrete call.
    let acts = t.actions();
    assert_eq!(acts.len(), 1, "{}", t.show());
    assert_eq!(acts[0]["kind"], "dbus", "{}", t.show());
    assert!(
        acts[0]["target"].as_str().unwrap().starts_with(service),
        "{}",
        t.show()
    );
    t
}

fn volume_set(rig: &mut Rig, text: &str, want: f64) {
    let t = rig.run_text(text);
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(t.intent().split('.').next(), Some("media"), "{}", t.show());
    let sets: Vec<_> = t
        .dbus
        .iter()
        .filter(|c| c.member == format!("{PLAYER_IFACE}.Volume"))
        .collect();
    assert_eq!(sets.len(), 1, "one Volume write: {}", t.show());
    let got = sets[0].args[0].as_f64().unwrap();
    assert!(
        (got - want).abs() < 1e-6,
        "Volume {got}, want {want}: {}",
        t.show()
    );
    assert!((rig.services().volume() - want).abs() < 1e-6);
    let a = &t.actions()[0];
    assert_eq!(
        a["target"],
        format!("{PLAYER} /org/mpris/MediaPlayer2 org.freedesktop.DBus.Properties.Set")
    );
    assert_eq!(a["payload"][0], PLAYER_IFACE);
    assert_eq!(a["payload"][1], "Volume");
}

#[test]
fn media_playback_intents_in_both_languages_drive_the_mpris_player() {
    let mut rig = Rig::new(Some(Options::default()), "");
    let m = |x: &str| format!("{PLAYER_IFACE}.{x}");
    for (text, query) in [("play some jazz", "jazz"), ("播放周杰伦的歌", "周杰伦")] {
        let uri = format!("cabinvoice-media:play?source=&query={}", enc(query));
        let t = expect_call(
            &mut rig,
            text,
            "media.play",
            PLAYER,
            &m("OpenUri"),
            json!([uri]),
        );
        assert_eq!(t.slots()["query"], query, "{}", t.show());
    }
    for (texts, intent, member) in [
        (["pause the music", "暂停播放"], "media.pause", "Pause"),
        (["resume", "继续播放"], "media.resume", "Play"),
        (["next song", "下一首"], "media.next", "Next"),
        (["previous track", "上一首"], "media.previous", "Previous"),
    ] {
        for text in texts {
            expect_call(&mut rig, text, intent, PLAYER, &m(member), json!([]));
        }
    }
}

#[test]
fn media_volume_intents_in_both_languages_write_the_mpris_volume() {
    let mut rig = Rig::new(Some(Options::default()), "");
    // Volume is a double 0..1 on MPRIS; the catalogue speaks 0..100.
    volume_set(&mut rig, "volume to 30", 0.3);
    volume_set(&mut rig, "音量调到五十", 0.5);
    volume_set(&mut rig, "turn it up", 0.6);
    volume_set(&mut rig, "声音小一点", 0.5);
    volume_set(&mut rig, "mute", 0.0);
    // A fresh process has no saved volume: unmute falls back to the manifest's base.
    volume_set(&mut rig, "unmute", 0.5);
    volume_set(&mut rig, "静音", 0.0);
    volume_set(&mut rig, "取消静音", 0.5);
    // Relative changes are clamped to 0..1.
    volume_set(&mut rig, "volume to 95", 0.95);
    volume_set(&mut rig, "turn it up", 1.0);
}

#[test]
fn radio_and_navigation_intents_in_both_languages() {
    let mut rig = Rig::new(Some(Options::default()), "");
    for text in ["tune to 101.7 FM", "调到调频一零一点七"] {
        expect_call(
            &mut rig,
            text,
            "radio.tune",
            RADIO,
            "org.cabinvoice.Radio1.Tune",
            json!([101.7, "fm"]),
        );
    }
    // The tuner refuses a frequency outside the band: a failure with its error.
    let t = rig.run_text("tune to 200 FM");
    assert_eq!(t.status(), "failed", "{}", t.show());
    assert!(
        t.reason()
            .contains("org.cabinvoice.Radio1.Error.InvalidFrequency"),
        "{}",
        t.show()
    );
    for (text, dest) in [
        ("take me to the airport", "the airport"),
        ("导航去首都机场", "首都机场"),
    ] {
        let t = expect_call(
            &mut rig,
            text,
            "nav.navigate",
            NAV,
            "org.cabinvoice.Navigation1.NavigateTo",
            json!([dest]),
        );
        assert_eq!(t.slots()["destination"], dest, "{}", t.show());
    }
    for text in ["find a charging station", "附近有没有充电桩"] {
        expect_call(
            &mut rig,
            text,
            "nav.find_poi",
            NAV,
            "org.cabinvoice.Navigation1.FindPoi",
            json!(["charging_station"]),
        );
    }
    for text in ["stop navigation", "退出导航"] {
        expect_call(
            &mut rig,
            text,
            "nav.cancel",
            NAV,
            "org.cabinvoice.Navigation1.Cancel",
            json!([]),
        );
    }
}

#[test]
fn phone_intents_in_both_languages_reach_ofono() {
    let mut rig = Rig::new(Some(Options::default()), "");
    // By name through the phone book, or by number; oFono lives on the system bus.
    let dial = "org.ofono.VoiceCallManager.Dial";
    let t = expect_call(
        &mut rig,
        "call mom",
        "phone.call",
        OFONO,
        dial,
        json!(["+8613800138000", "default"]),
    );
    assert!(
        t.actions()[0]["target"]
            .as_str()
            .unwrap()
            .contains(services::MODEM),
        "{}",
        t.show()
    );
    assert_eq!(t.reply(), "Calling mom.");
    expect_call(
        &mut rig,
        "打电话给张三",
        "phone.call",
        OFONO,
        dial,
        json!(["13912345678", "default"]),
    );
    expect_call(
        &mut rig,
        "call 13800138000",
        "phone.call",
        OFONO,
        dial,
        json!(["13800138000", "default"]),
    );
    // Answer goes to the incoming call object oFono lists.
    for text in ["answer the call", "接听电话"] {
        expect_call(
            &mut rig,
            text,
            "phone.answer",
            OFONO,
            "org.ofono.VoiceCall.Answer",
            json!([CALL]),
        );
    }
    for text in ["hang up", "挂断电话"] {
        expect_call(
            &mut rig,
            text,
            "phone.hang_up",
            OFONO,
            "org.ofono.VoiceCallManager.HangupAll",
            json!([]),
        );
    }
}

#[test]
fn the_playing_player_is_preferred_and_unmute_restores_the_saved_volume() {
    let opts = Options {
        players: vec![("testplayer", "Playing"), ("aaa", "Stopped")],
        ..Options::default()
    };
    let rig = Rig::new(Some(opts), "");
    // One long-running assistant remembers the volume across commands.
    let mut server = start_server(&rig);
    let since = rig.services().log.len();
    let (_, r) = say(&rig, &mut server, "next song");
    assert_eq!(r["status"], "done", "{r}");
    let calls = rig.services().since(since);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        calls[0].service, PLAYER,
        "the playing player, not the first by name"
    );
    let (_, r) = say(&rig, &mut server, "volume to 40");
    assert_eq!(r["status"], "done", "{r}");
    assert!((rig.services().volume() - 0.4).abs() < 1e-9);
    let (_, r) = say(&rig, &mut server, "mute");
    assert_eq!(r["text"], "Muted.", "{r}");
    assert_eq!(rig.services().volume(), 0.0);
    let (_, r) = say(&rig, &mut server, "unmute");
    assert_eq!(r["status"], "done", "{r}");
    assert!(
        (rig.services().volume() - 0.4).abs() < 1e-9,
        "restored to {}",
        rig.services().volume()
    );
}

#[test]
fn without_d_bus_dbus_actions_fail_with_a_reason_and_mqtt_still_works() {
    let mut rig = Rig::new(None, "");
    let cmd = |text: &str| {
        let out = rig
            .cmd()
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/cabin-voice-test-bus",
            )
            .args([
                "run",
                "--text",
                text,
                "--mqtt",
                &rig.broker.addr(),
                "--json",
            ])
            .output()
            .unwrap();
        (
            out.status.code(),
            common::json_lines(&String::from_utf8_lossy(&out.stdout)),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, evs, err) = cmd("next song");
    assert_eq!(code, Some(0), "{err}");
    let reply = evs.iter().find(|e| e["event"] == "reply").unwrap();
    assert_eq!(reply["status"], "failed");
    assert_eq!(reply["text"], "Sorry, that function isn't available.");
    let error = evs.iter().find(|e| e["event"] == "error").unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no D-Bus connection"),
        "{error}"
    );
    assert_eq!(
        err.lines()
            .filter(|l| l.contains("D-Bus not available"))
            .count(),
        1,
        "one warning: {err}"
    );
    let (code, evs, err) = cmd("set the temperature to 21");
    assert_eq!(code, Some(0), "{err}");
    assert!(
        evs.iter()
            .any(|e| e["event"] == "reply" && e["status"] == "done"),
        "{evs:?}"
    );
    let m = rig.sub.wait_for(*support::WAIT, |m| {
        m.topic.ends_with("Row1.Driver.Temperature")
    });
    assert_eq!(m.expect("actuation").payload["value"], 21);
}

#[test]
fn a_service_that_does_not_answer_in_time_is_a_failure_naming_the_call() {
    let mut rig = Rig::new(Some(Options::default()), "[dbus]\ncall_timeout_ms = 300\n");
    let t0 = std::time::Instant::now();
    let t = rig.run_text(&format!("tune to {HANGING_FREQUENCY} FM"));
    // Start-up plus the 300 ms timeout, far less than the tuner's HANG; both
    // scale with CV_TEST_TIME_SCALE (emulated runs start up slowly).
    let bound = (HANG / 6).mul_f64(time_scale());
    assert!(t0.elapsed() < bound, "{:?}", t0.elapsed());
    assert_eq!(t.code, 0, "{}", t.show());
    assert_eq!(t.status(), "failed", "{}", t.show());
    assert_eq!(t.reply(), "Sorry, that didn't work.");
    let reason = t.reason();
    assert!(
        reason.contains("org.cabinvoice.Radio /org/cabinvoice/Radio org.cabinvoice.Radio1.Tune")
            && reason.contains("300 ms"),
        "{reason}"
    );
    // The next command is fine.
    expect_call(
        &mut rig,
        "stop navigation",
        "nav.cancel",
        NAV,
        "org.cabinvoice.Navigation1.Cancel",
        json!([]),
    );
}

#[test]
fn missing_services_unknown_contacts_and_no_incoming_call_are_explained() {
    let opts = Options {
        navigation: false,
        incoming_call: false,
        players: vec![],
        ..Options::default()
    };
    let mut rig = Rig::new(Some(opts), "");
    let t = rig.run_text("take me to the airport");
    assert_eq!(t.status(), "failed", "{}", t.show());
    assert!(t.reason().contains("org.cabinvoice.Navigation /org/cabinvoice/Navigation org.cabinvoice.Navigation1.NavigateTo"), "{}", t.show());
    let t = rig.run_text("next song");
    assert_eq!(t.status(), "failed", "{}", t.show());
    assert!(
        t.reason()
            .contains("no service named org.mpris.MediaPlayer2.*"),
        "{}",
        t.show()
    );
    let t = rig.run_text("call bob");
    assert_eq!(t.status(), "failed", "{}", t.show());
    assert_eq!(t.reply(), "I couldn't find bob in your contacts.");
    assert!(t.dbus.is_empty(), "{}", t.show());
    let t = rig.run_text("打电话给李四");
    assert_eq!(t.reply(), "通讯录里没有找到李四。", "{}", t.show());
    let t = rig.run_text("answer the call");
    assert_eq!(t.status(), "failed", "{}", t.show());
    assert!(t.reason().contains("no incoming call"), "{}", t.show());
    assert!(
        rig.services().log.all().is_empty(),
        "{:?}",
        rig.services().log.all()
    );
}
