//! Chinese transcripts with a near-homophone of a domain word (one pinyin letter
//! off, as whisper writes them) parse with `nlu.near_homophones`; with the
//! default settings out-of-domain speech stays `none`.

use cabin_voice::app::{build_router, load_registry};
use cabin_voice::config::Config;
use cabin_voice::nlu::Router;
use serde_json::{json, Value};

fn router(near: bool) -> Router {
    let mut cfg = Config::default();
    cfg.nlu.near_homophones = near;
    let reg = load_registry(&cfg).expect("plugins load");
    build_router(&cfg, &reg).expect("router builds")
}

fn parse(r: &Router, text: &str) -> (String, Value) {
    let i = r.understand(text);
    (i.intent.clone(), serde_json::to_value(&i.slots).unwrap())
}

#[test]
fn one_near_homophone_is_tolerated_when_enabled() {
    let on = router(true);
    let cases = [
        // 速 su heard as 锁 suo
        ("风锁调到三档", "climate.set_fan_speed", json!({"level": 3})),
        // 循 xun heard as 心 xin
        (
            "打开内心环",
            "climate.recirculation",
            json!({"state": "on"}),
        ),
    ];
    for (text, intent, slots) in cases {
        assert_eq!(parse(&on, text), (intent.to_string(), slots), "{text}");
    }
    // Sound-alike matching (same toneless pinyin) needs no lever.
    assert_eq!(
        parse(&router(false), "复价空调二十三度"),
        (
            "climate.set_temperature".to_string(),
            json!({"zone": "passenger", "value": 23})
        )
    );
}

#[test]
fn out_of_domain_stays_none_by_default() {
    let r = router(Config::default().nlu.near_homophones);
    for text in [
        "给我讲个笑话",
        "我想吃火锅",
        "关上我的心",
        "锁好心情",
        "我觉得有点累",
        "他的车窗很脏",
        "今天晚上吃什么好呢",
    ] {
        assert_eq!(parse(&r, text).0, "none", "{text}");
    }
}
