//! The vehicle simulator (`cabin-voice sim`) on a real broker: retained initial
//! state, applied actuations, speed control, malformed input, and the closed loop
//! with the assistant reading back what the simulator applied.

mod common;
mod support;

use common::Subscriber;
use serde_json::json;
use support::{start_sim, Rig, WAIT};

#[test]
fn the_simulator_publishes_retained_state_and_applies_actuations() {
    let rig = Rig::new(None, "");
    let mut sim = start_sim(&rig, Some(50.0));
    // A late subscriber gets every signal, retained.
    let mut state = Subscriber::new(rig.broker.port, "cabin/state/#");
    for (path, value) in [
        ("Vehicle.Speed", json!(50)),
        ("Vehicle.Powertrain.Range", json!(420)),
        ("Vehicle.Powertrain.FuelSystem.RelativeLevel", json!(63)),
        (
            "Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed",
            json!(80),
        ),
        (
            "Vehicle.Chassis.Axle.Row2.Wheel.Right.Tire.Pressure",
            json!(240),
        ),
        (
            "Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature",
            json!(22),
        ),
        (
            "Vehicle.Cabin.Door.Row1.DriverSide.Window.Position",
            json!(0),
        ),
        (
            "Vehicle.Cabin.Door.Row2.PassengerSide.IsLocked",
            json!(true),
        ),
        ("Vehicle.Exterior.AirTemperature", json!(12)),
    ] {
        let topic = format!("cabin/state/{path}");
        let m = state
            .wait_for(*WAIT, |m| m.topic == topic)
            .unwrap_or_else(|| panic!("{topic}"));
        assert!(m.retain, "{topic} retained");
        assert_eq!(m.payload, json!({ "value": value }), "{topic}");
    }
    // An actuation request is applied, printed and republished retained.
    let temp = "Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature";
    rig.sub.publish(
        &format!("cabin/actuate/{temp}"),
        br#"{"value": 21.5, "id": "t-1", "ts_ms": 1700000000000}"#,
        false,
    );
    let line = sim
        .stdout
        .wait_for(0, *WAIT, |l| l.starts_with("applied"))
        .expect("applied line");
    assert_eq!(line, format!("applied {temp} = 21.5 (id t-1)"));
    let topic = format!("cabin/state/{temp}");
    assert!(state
        .wait_for(*WAIT, |m| m.topic == topic && m.payload["value"] == 21.5)
        .is_some());
    let mut late = Subscriber::new(rig.broker.port, &format!("cabin/state/{temp}"));
    assert!(late
        .wait_for(*WAIT, |m| m.retain && m.payload["value"] == 21.5)
        .is_some());
}

#[test]
fn the_simulator_ignores_malformed_requests_and_keeps_serving() {
    let rig = Rig::new(None, "");
    let mut sim = start_sim(&rig, None);
    let sunroof = "cabin/actuate/Vehicle.Cabin.Sunroof.Position";
    for bad in [
        &b"not json"[..],
        br#"{"value": 40}"#,
        br#"{"value": 40, "id": "x"}"#,
        br#"{"value": null, "id": "x", "ts_ms": 1}"#,
        br#"{"value": true, "id": "x", "ts_ms": 1}"#,
        &[0xff, 0x00, 0x80][..],
    ] {
        rig.sub.publish(sunroof, bad, false);
    }
    rig.sub.publish(
        "cabin/actuate/Vehicle.Cabin..Sunroof",
        br#"{"value": 1, "id": "x", "ts_ms": 1}"#,
        false,
    );
    rig.sub
        .publish("cabin/sim/speed", br#"{"value": "fast"}"#, false);
    rig.sub.publish(
        sunroof,
        br#"{"value": 40, "id": "good", "ts_ms": 1}"#,
        false,
    );
    let line = sim
        .stdout
        .wait_for(0, *WAIT, |l| l.starts_with("applied"))
        .expect("the good request applied");
    assert_eq!(
        line,
        "applied Vehicle.Cabin.Sunroof.Position = 40 (id good)"
    );
    rig.sub
        .publish("cabin/sim/speed", br#"{"value": 100}"#, false);
    assert!(
        sim.stdout
            .wait_for(0, *WAIT, |l| l == "speed Vehicle.Speed = 100")
            .is_some(),
        "{:?}",
        sim.stdout.drain()
    );
    // Exactly one applied line: every malformed request was dropped, with a warning each.
    assert_eq!(
        sim.stdout
            .drain()
            .iter()
            .filter(|l| l.starts_with("applied"))
            .count(),
        1
    );
    let warned = sim
        .stderr
        .wait_count(*WAIT, 8, |l| l.contains("sim: ignored"));
    assert!(warned, "{:?}", sim.stderr.seen);
    assert!(sim.child.try_wait().unwrap().is_none(), "still running");
}

#[test]
fn the_assistant_reads_back_what_the_simulator_applied() {
    let mut rig = Rig::new(None, "");
    let _sim = start_sim(&rig, None);
    let temp = "Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature";
    let mut state = Subscriber::new(rig.broker.port, &format!("cabin/state/{temp}"));
    let t = rig.run_text("set the temperature to 25");
    assert_eq!(t.status(), "done", "{}", t.show());
    assert!(
        state
            .wait_for(*WAIT, |m| m.payload["value"] == 25)
            .is_some(),
        "the simulator applied 25"
    );
    // Relative change from the state the simulator holds, not from the default.
    let t = rig.run_text("make it a bit warmer");
    assert_eq!(t.mqtt, vec![(temp.to_string(), json!(26))], "{}", t.show());
    assert!(state
        .wait_for(*WAIT, |m| m.payload["value"] == 26)
        .is_some());
    let t = rig.run_text("what's the speed");
    assert_eq!(t.reply(), "The speed is 0 km/h.", "{}", t.show());
}

#[test]
fn sim_rejects_a_bad_speed() {
    let out = common::cabin_voice()
        .args(["sim", "--speed", "500", "--mqtt", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--speed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
