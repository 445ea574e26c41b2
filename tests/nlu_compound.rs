//! Compound requests through the real understanding stack (the plugins'
//! grammar and the intent model, no language model): clauses understood on
//! their own give several calls in order; a compound with a clause nobody
//! understands gives `none`, never half of it.

use cabin_voice::app::{build_router, load_registry};
use cabin_voice::config::Config;
use cabin_voice::nlu::Router;
use serde_json::{json, Value};

fn router() -> Router {
    let mut cfg = Config::default();
    cfg.lm.enabled = false;
    let reg = load_registry(&cfg).expect("plugins load");
    build_router(&cfg, &reg).expect("router builds")
}

fn calls(r: &Router, text: &str) -> Vec<(String, Value)> {
    r.understand_all(text)
        .into_iter()
        .map(|i| (i.intent.clone(), serde_json::to_value(&i.slots).unwrap()))
        .collect()
}

#[test]
fn compound_requests_give_every_call_in_order_in_both_languages() {
    let r = router();
    assert_eq!(
        calls(&r, "open the sunroof and then turn on the ac"),
        [
            ("sunroof.open".to_string(), json!({})),
            ("climate.ac".to_string(), json!({"state": "on"})),
        ]
    );
    assert_eq!(
        calls(&r, "打开空调然后关上天窗"),
        [
            ("climate.ac".to_string(), json!({"state": "on"})),
            ("sunroof.close".to_string(), json!({})),
        ]
    );
    assert_eq!(
        calls(&r, "温度调到二十二度，再把车窗关上"),
        [
            ("climate.set_temperature".to_string(), json!({"value": 22})),
            ("window.close".to_string(), json!({})),
        ]
    );
    // The intent model alone would hear only the music here.
    assert_eq!(
        calls(&r, "太热了，然后放点音乐"),
        [
            (
                "climate.change_temperature".to_string(),
                json!({"direction": "down"})
            ),
            ("media.play".to_string(), json!({})),
        ]
    );
    assert_eq!(
        calls(&r, "lock the doors, and set the fan to three"),
        [
            ("doors.lock".to_string(), json!({})),
            ("climate.set_fan_speed".to_string(), json!({"level": 3})),
        ]
    );
}

#[test]
fn a_compound_with_a_clause_nobody_understands_is_none_not_half() {
    let r = router();
    for text in [
        "open the sunroof and tell me a story about dragons",
        "打开空调，然后给我讲个笑话吧",
        "周末我们去爬山吧，你觉得呢",
        "what a lovely evening, and the sky is so clear",
    ] {
        let got = calls(&r, text);
        assert_eq!(got.len(), 1, "{text:?} -> {got:?}");
        assert_eq!(got[0].0, "none", "{text:?} -> {got:?}");
    }
    // Code-switched, as many drivers speak.
    assert_eq!(
        calls(&r, "打开空调 and 把窗户 close"),
        [
            ("climate.ac".to_string(), json!({"state": "on"})),
            ("window.close".to_string(), json!({})),
        ]
    );
    // The same call twice is one request.
    assert_eq!(
        calls(&r, "打开空调，然后打开空调"),
        [("climate.ac".to_string(), json!({"state": "on"}))]
    );
    // A clause that only restates the one before adds no call.
    assert_eq!(
        calls(&r, "前挡风玻璃除雾，除一下雾"),
        [(
            "climate.defrost".to_string(),
            json!({"state": "on", "target": "front"})
        )]
    );
    // Two windows are two calls.
    assert_eq!(
        calls(
            &r,
            "open the driver window and then open the passenger window"
        )
        .len(),
        2
    );
    // A request understood whole is never split.
    assert_eq!(
        calls(&r, "set the temperature to 22 degrees"),
        [("climate.set_temperature".to_string(), json!({"value": 22}))]
    );
}
