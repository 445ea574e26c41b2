//! VSS plugins end to end: every climate, window, sunroof, seat, light, trunk,
//! wiper, door, vehicle-query and dialog intent of the catalogue, typed in English
//! and in Chinese through `cabin-voice run --text`, gives exactly the expected
//! actuation requests on a real broker (or the expected answer / no actuation).

mod common;
mod support;

use serde_json::{json, Value};
use support::{start_sim, Rig, Turn};

type Want = Vec<(String, Value)>;

fn one(path: &str, v: Value) -> Want {
    vec![(path.to_string(), v)]
}

fn four(fmt: &str, v: Value) -> Want {
    [
        "Row1.DriverSide",
        "Row1.PassengerSide",
        "Row2.DriverSide",
        "Row2.PassengerSide",
    ]
    .iter()
    .map(|s| (fmt.replace("{}", s), v.clone()))
    .collect()
}

/// Runs `text`; asserts the intent, status `done` and exactly `want` on the broker.
fn expect(rig: &mut Rig, text: &str, intent: &str, mut want: Want) -> Turn {
    let t = rig.run_text(text);
    assert_eq!(t.code, 0, "{}", t.show());
    assert_eq!(t.intent(), intent, "{}", t.show());
    assert_eq!(t.status(), "done", "{}", t.show());
    let mut got = t.mqtt.clone();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want, "{}", t.show());
    assert!(t.dbus.is_empty(), "{}", t.show());
    t
}

const HVAC: &str = "Vehicle.Cabin.HVAC";

#[test]
fn climate_intents_in_both_languages() {
    let mut rig = Rig::new(None, "");
    let temp = |st: &str| format!("{HVAC}.Station.{st}.Temperature");
    for text in ["set the temperature to 22", "温度调到二十二度"] {
        expect(
            &mut rig,
            text,
            "climate.set_temperature",
            one(&temp("Row1.Driver"), json!(22)),
        );
    }
    // Relative: no state on the broker, so from the manifest's base (22).
    expect(
        &mut rig,
        "make it a bit warmer",
        "climate.change_temperature",
        one(&temp("Row1.Driver"), json!(23)),
    );
    expect(
        &mut rig,
        "副驾温度调低两度",
        "climate.change_temperature",
        one(&temp("Row1.Passenger"), json!(20)),
    );
    for text in ["fan to level 3", "风量调到三档"] {
        expect(
            &mut rig,
            text,
            "climate.set_fan_speed",
            one(&format!("{HVAC}.Station.Row1.Driver.FanSpeed"), json!(30)),
        );
    }
    for text in ["turn on the AC", "打开空调"] {
        expect(
            &mut rig,
            text,
            "climate.ac",
            one(&format!("{HVAC}.IsAirConditioningActive"), json!(true)),
        );
    }
    expect(
        &mut rig,
        "defrost the windshield",
        "climate.defrost",
        one(&format!("{HVAC}.IsFrontDefrosterActive"), json!(true)),
    );
    expect(
        &mut rig,
        "打开后挡风除雾",
        "climate.defrost",
        one(&format!("{HVAC}.IsRearDefrosterActive"), json!(true)),
    );
    for text in ["recirculate the air", "打开内循环"] {
        expect(
            &mut rig,
            text,
            "climate.recirculation",
            one(&format!("{HVAC}.IsRecirculationActive"), json!(true)),
        );
    }
}

#[test]
fn window_and_sunroof_intents_in_both_languages() {
    let mut rig = Rig::new(None, "");
    let win = "Vehicle.Cabin.Door.{}.Window.Position";
    expect(
        &mut rig,
        "open my window halfway",
        "window.open",
        one(&win.replace("{}", "Row1.DriverSide"), json!(50)),
    );
    expect(
        &mut rig,
        "把副驾车窗打开一半",
        "window.open",
        one(&win.replace("{}", "Row1.PassengerSide"), json!(50)),
    );
    for text in ["close all the windows", "关闭所有车窗"] {
        expect(&mut rig, text, "window.close", four(win, json!(0)));
    }
    for text in ["open the sunroof", "打开天窗"] {
        expect(
            &mut rig,
            text,
            "sunroof.open",
            one("Vehicle.Cabin.Sunroof.Position", json!(100)),
        );
    }
    for text in ["close the sunroof", "关上天窗"] {
        expect(
            &mut rig,
            text,
            "sunroof.close",
            one("Vehicle.Cabin.Sunroof.Position", json!(0)),
        );
    }
}

#[test]
fn trunk_wiper_and_door_intents_in_both_languages() {
    // Confirmation is covered in tests/safety.rs; here the intents act at once.
    let mut rig = Rig::new(None, "[safety]\nconfirm = []\n");
    // Parked: the trunk and door gates need a known speed of 0.
    rig.sub
        .publish("cabin/state/Vehicle.Speed", br#"{"value": 0}"#, true);
    for text in ["open the trunk", "打开后备箱"] {
        expect(
            &mut rig,
            text,
            "trunk.open",
            one("Vehicle.Body.Trunk.Rear.IsOpen", json!(true)),
        );
    }
    for text in ["close the trunk", "关闭后备箱"] {
        expect(
            &mut rig,
            text,
            "trunk.close",
            one("Vehicle.Body.Trunk.Rear.IsOpen", json!(false)),
        );
    }
    let mode = "Vehicle.Body.Windshield.Front.Wiping.Mode";
    expect(
        &mut rig,
        "wipers on high",
        "wipers.set",
        one(mode, json!("FAST")),
    );
    expect(
        &mut rig,
        "打开雨刷",
        "wipers.set",
        one(mode, json!("MEDIUM")),
    );
    for text in ["lock the doors", "锁车门"] {
        expect(
            &mut rig,
            text,
            "doors.lock",
            four("Vehicle.Cabin.Door.{}.IsLocked", json!(true)),
        );
    }
    for text in ["unlock the doors", "解锁车门"] {
        expect(
            &mut rig,
            text,
            "doors.unlock",
            four("Vehicle.Cabin.Door.{}.IsLocked", json!(false)),
        );
    }
}

#[test]
fn seat_and_light_intents_in_both_languages() {
    let mut rig = Rig::new(None, "");
    let seat = "Vehicle.Cabin.Seat.{}.HeatingCooling";
    let s = |side: &str| seat.replace("{}", side);
    // Level 0..3 times 33 percent; ventilation is negative.
    expect(
        &mut rig,
        "turn on my seat heater",
        "seat.heat",
        one(&s("Row1.DriverSide"), json!(66)),
    );
    expect(
        &mut rig,
        "主驾座椅加热调到三档",
        "seat.heat",
        one(&s("Row1.DriverSide"), json!(99)),
    );
    expect(
        &mut rig,
        "cool the passenger seat",
        "seat.ventilate",
        one(&s("Row1.PassengerSide"), json!(-66)),
    );
    expect(
        &mut rig,
        "把副驾座椅通风打开",
        "seat.ventilate",
        one(&s("Row1.PassengerSide"), json!(-66)),
    );
    for text in ["ambient light blue", "氛围灯换成蓝色"] {
        expect(
            &mut rig,
            text,
            "lights.ambient",
            four(
                "Vehicle.Cabin.Light.AmbientLight.{}.Color",
                json!("#0050FF"),
            ),
        );
    }
    for text in ["turn on the reading light", "打开阅读灯"] {
        expect(
            &mut rig,
            text,
            "lights.reading",
            one(
                "Vehicle.Cabin.Light.Spotlight.Row1.DriverSide.IsLightOn",
                json!(true),
            ),
        );
    }
}

#[test]
fn vehicle_queries_answer_from_the_simulator() {
    let mut rig = Rig::new(None, "");
    let _sim = start_sim(&rig, None);
    for (text, answer) in [
        ("how much range do I have", "The remaining range is 420 km."),
        ("还能跑多少公里", "当前剩余续航：420公里。"),
        ("what's the tire pressure", "The tire pressure is 240 kPa."),
        ("胎压多少", "当前胎压：240千帕。"),
    ] {
        let t = expect(&mut rig, text, "vehicle.query", vec![]);
        assert_eq!(t.reply(), answer, "{}", t.show());
    }
}

#[test]
fn dialog_and_out_of_domain_intents_actuate_nothing() {
    let mut rig = Rig::new(None, "");
    // Nothing pending: confirm and deny say so, cancel cancels; none is not understood.
    for (text, intent, status) in [
        ("yes, do it", "dialog.confirm", "not_understood"),
        ("确定", "dialog.confirm", "not_understood"),
        ("no", "dialog.deny", "cancelled"),
        ("不用了", "dialog.deny", "cancelled"),
        ("never mind", "dialog.cancel", "cancelled"),
        ("算了", "dialog.cancel", "cancelled"),
        ("what's the meaning of life", "none", "not_understood"),
        ("今天股市怎么样", "none", "not_understood"),
    ] {
        let t = rig.run_text(text);
        assert_eq!(
            (t.intent().as_str(), t.status().as_str()),
            (intent, status),
            "{}",
            t.show()
        );
        assert!(t.mqtt.is_empty() && t.actions().is_empty(), "{}", t.show());
    }
}
