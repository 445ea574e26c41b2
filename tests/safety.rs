//! Safety gates and faults, end to end on a real broker: speed limits (from the
//! simulator or a retained state published by the test), refusals while moving,
//! the spoken confirmation flow and its timeout, out-of-range values, plugin
//! permission violations, a malformed manifest, malformed vehicle state.

mod common;
mod support;

use common::Subscriber;
use serde_json::json;
use std::time::{Duration, Instant};
use support::services::Options;
use support::{say, start_server, start_sim, Rig, WAIT};

fn assert_refused(t: &support::Turn, reason: &str, reply: &str) {
    assert_eq!(t.code, 0, "{}", t.show());
    assert_eq!(t.status(), "refused", "{}", t.show());
    assert!(
        t.reason().contains(reason),
        "reason {:?} lacks {reason:?}: {}",
        t.reason(),
        t.show()
    );
    assert_eq!(t.reply(), reply, "{}", t.show());
    assert!(
        t.mqtt.is_empty() && t.actions().is_empty(),
        "nothing actuated: {}",
        t.show()
    );
    assert!(t.dbus.is_empty(), "{}", t.show());
}

#[test]
fn window_open_is_refused_at_100_kmh_and_allowed_when_parked() {
    let mut rig = Rig::new(None, "");
    let mut sim = start_sim(&rig, Some(100.0));
    let too_fast = "For safety I won't open that above 80 km/h.";
    assert_refused(
        &rig.run_text("open my window halfway"),
        "above 80 km/h (100 km/h)",
        too_fast,
    );
    assert_refused(&rig.run_text("open the sunroof"), "above 80 km/h", too_fast);
    assert_refused(
        &rig.run_text("把副驾车窗打开一半"),
        "above 80 km/h",
        "车速超过80公里每小时，为了安全暂不打开。",
    );
    // Closing is always fine.
    let t = rig.run_text("close the sunroof");
    assert_eq!(
        t.mqtt,
        vec![("Vehicle.Cabin.Sunroof.Position".to_string(), json!(0))],
        "{}",
        t.show()
    );
    // Stop the car through the simulator's speed control.
    let mut speed = Subscriber::new(rig.broker.port, "cabin/state/Vehicle.Speed");
    rig.sub
        .publish("cabin/sim/speed", br#"{"value": 0}"#, false);
    assert!(
        speed.wait_for(*WAIT, |m| m.payload["value"] == 0).is_some(),
        "speed 0 published"
    );
    let t = rig.run_text("open my window halfway");
    assert_eq!(t.status(), "done", "{}", t.show());
    let path = "Vehicle.Cabin.Door.Row1.DriverSide.Window.Position";
    assert_eq!(t.mqtt, vec![(path.to_string(), json!(50))], "{}", t.show());
    // The simulator applied it.
    assert!(
        sim.stdout
            .wait_for(0, *WAIT, |l| l.starts_with(&format!("applied {path} = 50")))
            .is_some(),
        "{:?}",
        sim.stdout.drain()
    );
}

#[test]
fn trunk_and_unlock_are_refused_while_moving() {
    let mut rig = Rig::new(None, "");
    rig.sub
        .publish("cabin/state/Vehicle.Speed", br#"{"value": 30}"#, true);
    let moving = "I can't do that while the car is moving.";
    let moving_zh = "车辆行驶中，不能执行这个操作。";
    for (text, reply) in [
        ("open the trunk", moving),
        ("打开后备箱", moving_zh),
        ("unlock the doors", moving),
        ("解锁车门", moving_zh),
    ] {
        assert_refused(&rig.run_text(text), "refused while moving (30 km/h)", reply);
    }
    // Below the window limit, windows still open.
    let t = rig.run_text("open my window halfway");
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(t.mqtt.len(), 1, "{}", t.show());
}

#[test]
fn the_speed_gate_holds_for_a_command_handled_right_after_start() {
    let mut rig = Rig::new(None, "");
    // Lots of retained state ahead of the speed: a command must not be handled
    // before the retained state has arrived.
    let filler = format!(r#"{{"value": "{}"}}"#, "x".repeat(8000));
    for i in 0..900 {
        let topic = format!("cabin/state/Vehicle.Aux.Signal{i:04}");
        rig.sub.publish(&topic, filler.as_bytes(), true);
    }
    rig.sub
        .publish("cabin/state/Vehicle.Speed", br#"{"value": 120}"#, true);
    let mut speed = Subscriber::new(rig.broker.port, "cabin/state/Vehicle.Speed");
    assert!(speed
        .wait_for(*WAIT, |m| m.payload["value"] == 120)
        .is_some());
    assert_refused(
        &rig.run_text("open the trunk"),
        "refused while moving (120 km/h)",
        "I can't do that while the car is moving.",
    );
    assert_refused(
        &rig.run_text("open my window halfway"),
        "above 80 km/h (120 km/h)",
        "For safety I won't open that above 80 km/h.",
    );
}

#[test]
fn unlock_and_trunk_need_a_spoken_confirmation() {
    let mut rig = Rig::new(None, "");
    let mut events = Subscriber::new(rig.broker.port, "cabin/assistant/events");
    // Parked (the gates need a known speed of 0).
    rig.sub
        .publish("cabin/state/Vehicle.Speed", br#"{"value": 0}"#, true);
    let mut server = start_server(&rig);
    let mark = rig.sub.drain().len();
    let (_, r) = say(&rig, &mut server, "unlock the doors");
    assert_eq!(r["status"], "needs_confirmation", "{r}");
    assert_eq!(
        r["text"],
        "Do you want me to unlock the doors? Say yes to confirm."
    );
    let turn = r["turn"].clone();
    assert!(
        events
            .wait_for(*WAIT, |m| m.payload["event"] == "reply"
                && m.payload["turn"] == turn
                && m.payload["status"] == "needs_confirmation")
            .is_some(),
        "the question is published on cabin/assistant/events too"
    );
    rig.assert_no_more_actuations(mark, "before yes");
    let (_, r) = say(&rig, &mut server, "yes");
    assert_eq!(
        (r["intent"].as_str(), r["status"].as_str()),
        (Some("doors.unlock"), Some("done")),
        "{r}"
    );
    let deadline = Instant::now() + *WAIT;
    while rig.sub.drain()[mark..].len() < 4 && Instant::now() < deadline {
        rig.sub.wait_for(Duration::from_millis(20), |_| false);
    }
    let mut got: Vec<(String, serde_json::Value)> = rig.sub.drain()[mark..]
        .iter()
        .map(|m| (m.topic.clone(), m.payload["value"].clone()))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let want: Vec<_> = [
        "Row1.DriverSide",
        "Row1.PassengerSide",
        "Row2.DriverSide",
        "Row2.PassengerSide",
    ]
    .iter()
    .map(|s| {
        (
            format!("cabin/actuate/Vehicle.Cabin.Door.{s}.IsLocked"),
            json!(false),
        )
    })
    .collect();
    assert_eq!(got, want);
    // Chinese, denied: nothing happens.
    let mark = rig.sub.drain().len();
    let (_, r) = say(&rig, &mut server, "解锁车门");
    assert_eq!(r["text"], "确定要解锁车门吗？", "{r}");
    let (_, r) = say(&rig, &mut server, "不用了");
    assert_eq!(r["status"], "cancelled", "{r}");
    let (_, r) = say(&rig, &mut server, "确定");
    assert_eq!(
        r["status"], "not_understood",
        "nothing pending after a no: {r}"
    );
    rig.assert_no_more_actuations(mark, "after a no");
    // The trunk, confirmed in Chinese.
    let (_, r) = say(&rig, &mut server, "open the trunk");
    assert_eq!(r["status"], "needs_confirmation", "{r}");
    let (_, r) = say(&rig, &mut server, "确定");
    assert_eq!(
        (r["intent"].as_str(), r["status"].as_str()),
        (Some("trunk.open"), Some("done")),
        "{r}"
    );
    let m = rig.sub.wait_for(*WAIT, |m| {
        m.topic == "cabin/actuate/Vehicle.Body.Trunk.Rear.IsOpen"
    });
    assert_eq!(m.expect("trunk actuation").payload["value"], true);
}

#[test]
fn a_confirmation_expires_after_the_timeout() {
    let mut rig = Rig::new(None, "[safety]\nconfirm_timeout_s = 1\n");
    // Parked (the gates need a known speed of 0).
    rig.sub
        .publish("cabin/state/Vehicle.Speed", br#"{"value": 0}"#, true);
    let mut server = start_server(&rig);
    let mark = rig.sub.drain().len();
    let (_, r) = say(&rig, &mut server, "unlock the doors");
    assert_eq!(r["status"], "needs_confirmation", "{r}");
    let asked = Instant::now();
    // Watch the broker (nothing may be actuated) until the question is stale.
    while asked.elapsed() < Duration::from_millis(1300) {
        rig.sub.wait_for(Duration::from_millis(50), |_| false);
    }
    let (_, r) = say(&rig, &mut server, "yes");
    assert_eq!(
        r["status"], "not_understood",
        "a late yes confirms nothing: {r}"
    );
    assert_eq!(r["text"], "There is nothing to confirm.");
    rig.assert_no_more_actuations(mark, "after the timeout");
}

#[test]
fn out_of_range_values_are_refused_with_a_reason() {
    let mut rig = Rig::new(Some(Options::default()), "");
    assert_refused(
        &rig.run_text("set the temperature to 60"),
        "value = 60 is outside 16..30",
        "60 is out of range; I can set 16 to 30.",
    );
    assert_refused(
        &rig.run_text("温度调到六十度"),
        "value = 60 is outside 16..30",
        "60超出了范围，可以设置16到30。",
    );
    // D-Bus actions are checked the same way before any call.
    let t = rig.run_text("volume to 150");
    assert_refused(
        &t,
        "value = 150 is outside 0..100",
        "150 is out of range; I can set 0 to 100.",
    );
    assert!((rig.services().volume() - 0.8).abs() < 1e-9);
}

/// A copy of the built-in plugins plus a plugin that reaches outside its
/// permissions (VSS and D-Bus) and one malformed manifest.
fn plugins_with_bad_ones(dir: &std::path::Path) -> std::path::PathBuf {
    let root = common::root().join("plugins");
    let to = dir.join("plugins");
    std::fs::create_dir_all(&to).unwrap();
    std::fs::copy(root.join("types.toml"), to.join("types.toml")).unwrap();
    for e in std::fs::read_dir(&root).unwrap() {
        let p = e.unwrap().path();
        if p.join("plugin.toml").is_file() {
            let d = to.join(p.file_name().unwrap());
            std::fs::create_dir_all(&d).unwrap();
            std::fs::copy(p.join("plugin.toml"), d.join("plugin.toml")).unwrap();
        }
    }
    std::fs::create_dir_all(to.join("rogue")).unwrap();
    std::fs::write(
        to.join("rogue/plugin.toml"),
        r#"[plugin]
name = "rogue"
version = "0.1.0"
description = "Declares the lights, then tries the door locks and the phone"

[permissions]
vss = ["Vehicle.Cabin.Light.**"]
dbus = ["org.mpris.MediaPlayer2.*"]

[[intents]]
name = "rogue.unlock"
sentences.en = ["rogue pop the locks"]
sentences.zh = ["流氓开锁"]
reply.en = "Popped."

[intents.action]
kind = "vss"
[[intents.action.set]]
path = "Vehicle.Cabin.Light.AmbientLight.Row1.DriverSide.IsLightOn"
value = "true"
[[intents.action.set]]
path = "Vehicle.Cabin.Door.Row1.DriverSide.IsLocked"
value = "false"

[[intents]]
name = "rogue.dial"
sentences.en = ["rogue dial home"]
sentences.zh = ["流氓打电话"]

[intents.action]
kind = "dbus"
bus = "system"
service = "org.ofono"
path = "*"
interface = "org.ofono.VoiceCallManager"
method = "Dial"
args = ["900", "default"]
"#,
    )
    .unwrap();
    std::fs::create_dir_all(to.join("broken")).unwrap();
    std::fs::write(to.join("broken/plugin.toml"), "[plugin\nname = broken\n").unwrap();
    to
}

#[test]
fn permission_violations_are_refused_and_a_malformed_manifest_is_skipped() {
    let mut rig = Rig::new(Some(Options::default()), "");
    let plugins = plugins_with_bad_ones(rig.dir.path());
    rig.set_config(&format!(
        "[general]\nplugins_dir = {:?}\n",
        plugins.display().to_string()
    ));
    let t = rig.run_text("rogue pop the locks");
    assert_eq!(t.intent(), "rogue.unlock", "{}", t.show());
    // All or nothing: the permitted light is not switched either.
    assert_refused(
        &t,
        "plugin rogue may not actuate Vehicle.Cabin.Door.Row1.DriverSide.IsLocked",
        "Sorry, I'm not allowed to do that.",
    );
    let t = rig.run_text("流氓打电话");
    assert_refused(
        &t,
        "plugin rogue may not call D-Bus service org.ofono",
        "抱歉，这个操作不被允许。",
    );
    assert!(rig.services().log.all().is_empty());
    // The broken manifest is reported (naming the file) and skipped ...
    assert!(
        t.stderr.contains("plugin skipped") && t.stderr.contains("broken/plugin.toml"),
        "{}",
        t.stderr
    );
    // ... while the other plugins work, on both buses.
    let t = rig.run_text("set the temperature to 21");
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(
        t.mqtt,
        vec![(
            "Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature".to_string(),
            json!(21)
        )]
    );
    let t = rig.run_text("next song");
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(t.dbus.len(), 1, "{}", t.show());
}

#[test]
fn malformed_vehicle_state_is_ignored_and_the_next_command_works() {
    let mut rig = Rig::new(None, "");
    rig.sub
        .publish("cabin/state/Vehicle.Powertrain.Range", b"{not json", true);
    rig.sub.publish(
        "cabin/state/Vehicle.Exterior.AirTemperature",
        br#"{"val": 3}"#,
        true,
    );
    rig.sub.publish(
        "cabin/state/Vehicle.Powertrain.FuelSystem.RelativeLevel",
        &[0xff, 0xfe, 0x00],
        true,
    );
    let t = rig.run_text("how much range do I have");
    assert_eq!(t.code, 0, "{}", t.show());
    assert_eq!(t.status(), "failed", "{}", t.show());
    assert_eq!(t.reply(), "Sorry, I don't know that right now.");
    assert!(
        t.stderr.contains("ignored malformed vehicle state"),
        "{}",
        t.stderr
    );
    let t = rig.run_text("set the temperature to 21");
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(t.mqtt.len(), 1, "{}", t.show());
    // A long-running assistant shrugs off garbage arriving while it serves.
    let mut server = start_server(&rig);
    rig.sub
        .publish("cabin/state/Vehicle.Speed", b"\"fast\"", false);
    rig.sub
        .publish("cabin/state/Vehicle.Speed", &[0x80; 16], false);
    rig.sub.publish("cabin/assistant/say", &[0xff, 0xff], false);
    let (_, r) = say(&rig, &mut server, "turn on the AC");
    assert_eq!(r["status"], "done", "{r}");
    assert!(server.child.try_wait().unwrap().is_none(), "still running");
}

#[test]
fn trunk_and_unlock_refused_when_speed_is_unknown() {
    // No Vehicle.Speed on the bus: the car may be moving, so the gates stay shut.
    let mut rig = Rig::new(None, "[safety]\nconfirm = []\n");
    for text in ["open the trunk", "解锁车门"] {
        let t = rig.run_text(text);
        assert_eq!(t.code, 0, "{}", t.show());
        assert_eq!(t.status(), "refused", "{}", t.show());
        assert!(t.reason().contains("speed unknown"), "{}", t.show());
        assert!(t.mqtt.is_empty(), "nothing actuated: {}", t.show());
    }
}
