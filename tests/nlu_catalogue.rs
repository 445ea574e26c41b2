//! Every intent of the catalogue, in English and in Chinese, through the real
//! understanding stack (the plugins' grammar and the intent model), with the exact
//! slots the catalogue specifies. Plus number forms in both languages.

use cabin_voice::app::{build_router, load_registry};
use cabin_voice::config::Config;
use cabin_voice::nlu::Router;
use serde_json::{json, Value};

fn router() -> Router {
    let cfg = Config::default();
    let reg = load_registry(&cfg).expect("plugins load");
    build_router(&cfg, &reg).expect("router builds")
}

fn check(r: &Router, text: &str, intent: &str, slots: Value) {
    let got = r.understand(text);
    let got_slots = serde_json::to_value(&got.slots).unwrap();
    assert_eq!(
        (got.intent.as_str(), &got_slots),
        (intent, &slots),
        "{text:?} -> {} {} ({})",
        got.intent,
        got_slots,
        got.engine
    );
}

const CASES: &[(&str, &str, &str)] = &[
    // (text, intent, slots as JSON)
    (
        "set the temperature to 22 degrees",
        "climate.set_temperature",
        r#"{"value":22}"#,
    ),
    (
        "温度调到二十二度",
        "climate.set_temperature",
        r#"{"value":22}"#,
    ),
    (
        "set the passenger side to twenty one point five",
        "climate.set_temperature",
        r#"{"zone":"passenger","value":21.5}"#,
    ),
    (
        "副驾温度调到二十一点五度",
        "climate.set_temperature",
        r#"{"zone":"passenger","value":21.5}"#,
    ),
    (
        "make it a bit warmer",
        "climate.change_temperature",
        r#"{"direction":"up"}"#,
    ),
    (
        "副驾温度调低两度",
        "climate.change_temperature",
        r#"{"zone":"passenger","direction":"down","delta":2}"#,
    ),
    ("fan to level 3", "climate.set_fan_speed", r#"{"level":3}"#),
    ("风量调到三档", "climate.set_fan_speed", r#"{"level":3}"#),
    ("turn on the AC", "climate.ac", r#"{"state":"on"}"#),
    ("关闭空调", "climate.ac", r#"{"state":"off"}"#),
    (
        "defrost the windshield",
        "climate.defrost",
        r#"{"target":"front","state":"on"}"#,
    ),
    (
        "打开后挡风除雾",
        "climate.defrost",
        r#"{"target":"rear","state":"on"}"#,
    ),
    (
        "turn on recirculation",
        "climate.recirculation",
        r#"{"state":"on"}"#,
    ),
    ("打开内循环", "climate.recirculation", r#"{"state":"on"}"#),
    (
        "open my window halfway",
        "window.open",
        r#"{"position":"driver","percent":50}"#,
    ),
    (
        "把副驾车窗打开一半",
        "window.open",
        r#"{"position":"passenger","percent":50}"#,
    ),
    (
        "close all the windows",
        "window.close",
        r#"{"position":"all"}"#,
    ),
    ("关闭所有车窗", "window.close", r#"{"position":"all"}"#),
    ("open the sunroof", "sunroof.open", r#"{}"#),
    ("天窗打开百分之三十", "sunroof.open", r#"{"percent":30}"#),
    ("close the sunroof", "sunroof.close", r#"{}"#),
    ("关上天窗", "sunroof.close", r#"{}"#),
    (
        "heat the driver seat to level 2",
        "seat.heat",
        r#"{"seat":"driver","level":2}"#,
    ),
    (
        "主驾座椅加热调到二档",
        "seat.heat",
        r#"{"seat":"driver","level":2}"#,
    ),
    (
        "turn on the seat ventilation for the passenger",
        "seat.ventilate",
        r#"{"seat":"passenger"}"#,
    ),
    (
        "打开副驾座椅通风",
        "seat.ventilate",
        r#"{"seat":"passenger"}"#,
    ),
    (
        "change the ambient light to blue",
        "lights.ambient",
        r#"{"color":"blue"}"#,
    ),
    ("氛围灯换成红色", "lights.ambient", r#"{"color":"red"}"#),
    (
        "turn on the reading light",
        "lights.reading",
        r#"{"state":"on"}"#,
    ),
    ("打开阅读灯", "lights.reading", r#"{"state":"on"}"#),
    ("play some jazz", "media.play", r#"{"query":"jazz"}"#),
    ("播放周杰伦的歌", "media.play", r#"{"query":"周杰伦"}"#),
    ("pause the music", "media.pause", r#"{}"#),
    ("暂停播放", "media.pause", r#"{}"#),
    ("resume the music", "media.resume", r#"{}"#),
    ("继续播放", "media.resume", r#"{}"#),
    ("next song", "media.next", r#"{}"#),
    ("下一首", "media.next", r#"{}"#),
    ("previous track", "media.previous", r#"{}"#),
    ("上一首", "media.previous", r#"{}"#),
    (
        "set the volume to 30",
        "media.set_volume",
        r#"{"value":30}"#,
    ),
    ("音量调到三十", "media.set_volume", r#"{"value":30}"#),
    (
        "turn it down a little",
        "media.change_volume",
        r#"{"direction":"down"}"#,
    ),
    ("声音大一点", "media.change_volume", r#"{"direction":"up"}"#),
    ("mute", "media.mute", r#"{"state":"on"}"#),
    ("静音", "media.mute", r#"{"state":"on"}"#),
    (
        "tune to 101.7 FM",
        "radio.tune",
        r#"{"frequency":101.7,"band":"fm"}"#,
    ),
    (
        "调到调频一零一点七",
        "radio.tune",
        r#"{"frequency":101.7,"band":"fm"}"#,
    ),
    (
        "navigate to the airport",
        "nav.navigate",
        r#"{"destination":"the airport"}"#,
    ),
    (
        "导航去首都机场",
        "nav.navigate",
        r#"{"destination":"首都机场"}"#,
    ),
    (
        "find a charging station nearby",
        "nav.find_poi",
        r#"{"category":"charging_station"}"#,
    ),
    (
        "附近有没有加油站",
        "nav.find_poi",
        r#"{"category":"gas_station"}"#,
    ),
    ("stop navigation", "nav.cancel", r#"{}"#),
    ("退出导航", "nav.cancel", r#"{}"#),
    ("call mom", "phone.call", r#"{"contact":"mom"}"#),
    ("打电话给张三", "phone.call", r#"{"contact":"张三"}"#),
    (
        "拨打一三八零零一三八零零零",
        "phone.call",
        r#"{"number":"13800138000"}"#,
    ),
    ("answer the call", "phone.answer", r#"{}"#),
    ("接听电话", "phone.answer", r#"{}"#),
    ("hang up", "phone.hang_up", r#"{}"#),
    ("挂断电话", "phone.hang_up", r#"{}"#),
    (
        "how much range do I have left",
        "vehicle.query",
        r#"{"signal":"range"}"#,
    ),
    (
        "还剩多少电",
        "vehicle.query",
        r#"{"signal":"battery_level"}"#,
    ),
    ("open the trunk", "trunk.open", r#"{}"#),
    ("打开后备箱", "trunk.open", r#"{}"#),
    ("close the trunk", "trunk.close", r#"{}"#),
    ("关闭后备箱", "trunk.close", r#"{}"#),
    ("wipers on high", "wipers.set", r#"{"level":"high"}"#),
    ("打开雨刷", "wipers.set", r#"{"state":"on"}"#),
    ("lock the doors", "doors.lock", r#"{}"#),
    ("锁车门", "doors.lock", r#"{}"#),
    ("unlock the doors", "doors.unlock", r#"{}"#),
    ("解锁车门", "doors.unlock", r#"{}"#),
    ("yes, do it", "dialog.confirm", r#"{}"#),
    ("确定", "dialog.confirm", r#"{}"#),
    ("no", "dialog.deny", r#"{}"#),
    ("不用了", "dialog.deny", r#"{}"#),
    ("never mind", "dialog.cancel", r#"{}"#),
    ("算了", "dialog.cancel", r#"{}"#),
    ("what's the meaning of life", "none", r#"{}"#),
    ("今天股市怎么样", "none", r#"{}"#),
];

#[test]
fn every_catalogue_intent_in_both_languages() {
    let r = router();
    for (text, intent, slots) in CASES {
        check(&r, text, intent, serde_json::from_str(slots).unwrap());
    }
    // Both languages for every intent of the catalogue.
    let mut covered: std::collections::BTreeMap<&str, (bool, bool)> = Default::default();
    for (text, intent, _) in CASES {
        let e = covered.entry(intent).or_default();
        if cabin_voice::nlu::normalize::detect_lang(text) == "zh" {
            e.1 = true;
        } else {
            e.0 = true;
        }
    }
    assert_eq!(covered.len(), 39, "38 intents + none");
    assert!(covered.values().all(|&(en, zh)| en && zh), "{covered:?}");
}

#[test]
fn number_forms_in_both_languages() {
    let r = router();
    for (text, v) in [
        ("set the temperature to twenty one", json!(21)),
        ("set the temperature to 21", json!(21)),
        ("set the temperature to twenty one and a half", json!(21.5)),
        ("set the temperature to 21.5 degrees", json!(21.5)),
        ("温度调到二十一度", json!(21)),
        ("温度调到廿一度", json!(21)),
        ("温度调到21度", json!(21)),
        ("温度调到二十一点五度", json!(21.5)),
        ("温度调到十九度", json!(19)),
    ] {
        check(&r, text, "climate.set_temperature", json!({ "value": v }));
    }
    check(
        &r,
        "副驾温度调高两度",
        "climate.change_temperature",
        json!({"zone":"passenger","direction":"up","delta":2}),
    );
    check(
        &r,
        "open the passenger window halfway",
        "window.open",
        json!({"position":"passenger","percent":50}),
    );
    check(
        &r,
        "open the passenger window 30%",
        "window.open",
        json!({"position":"passenger","percent":30}),
    );
    check(
        &r,
        "副驾车窗打开百分之三十",
        "window.open",
        json!({"position":"passenger","percent":30}),
    );
    check(
        &r,
        "set the volume to the max",
        "media.set_volume",
        json!({"value":100}),
    );
    check(&r, "音量调到最大", "media.set_volume", json!({"value":100}));
    check(
        &r,
        "call one three eight zero zero one three eight zero zero zero",
        "phone.call",
        json!({"number":"13800138000"}),
    );
}

#[test]
fn asr_slips_still_parse() {
    let r = router();
    // Homophones of the domain words, as a Mandarin recogniser writes them.
    check(
        &r,
        "复价温度调到二十三度",
        "climate.set_temperature",
        json!({"zone":"passenger","value":23}),
    );
    // No articles, no punctuation, odd case.
    check(
        &r,
        "Set Temperature To 22 Degrees!",
        "climate.set_temperature",
        json!({"value":22}),
    );
    check(
        &r,
        "hey cabin, open my window halfway",
        "window.open",
        json!({"position":"driver","percent":50}),
    );
    check(
        &r,
        "你好小舱，空调调到二十二度",
        "climate.set_temperature",
        json!({"value":22}),
    );
}

#[test]
fn garbage_never_panics_and_is_none() {
    let r = router();
    let long = "打开".repeat(5000);
    for text in [
        "",
        " ",
        "???",
        "\u{0}\u{7f}",
        "asdf qwer",
        long.as_str(),
        "🚗🚗🚗",
        "打开 the 窗户 please 吧 123 ###",
    ] {
        let i = r.understand(text);
        assert!(i.intent == "none" || i.engine != "none", "{text:?}");
        if text.chars().count() > 1000 || text.trim().is_empty() {
            assert_eq!(i.intent, "none", "{text:?}");
        }
    }
}
