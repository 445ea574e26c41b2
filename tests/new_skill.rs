//! A newcomer adds a skill without touching Rust (docs/PLUGINS.md): a plugin folder
//! written at test time, with sentences in both languages and a VSS action, is
//! understood and actuated by the unchanged binary.

mod common;

use common::*;
use std::time::Duration;

const MANIFEST: &str = r#"
[plugin]
name = "hazard"
version = "1.0.0"
description = "Hazard warning lights"

[permissions]
vss = ["Vehicle.Body.Lights.Hazard.IsSignaling"]

[[intents]]
name = "lights.hazard"
slots.state = { type = "state", required = true }
sentences.en = [
  "{state} [the] (hazard lights|hazards|warning lights|flashers)",
  "(hazard lights|hazards|flashers) {state}",
]
sentences.zh = [
  "{state}(双闪|危险报警灯|警示灯)",
  "(双闪|危险报警灯)(打开{state=on}|关闭{state=off}|关掉{state=off})",
]
reply.en = "Hazard lights {state}."
reply.zh = "好的，双闪已{state.say_zh}。"

[intents.action]
kind = "vss"
[[intents.action.set]]
path = "Vehicle.Body.Lights.Hazard.IsSignaling"
value = "{state.bool}"
"#;

#[test]
fn a_plugin_folder_added_at_run_time_is_a_new_skill() {
    let dir = TempDir::new("newskill");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(plugins.join("hazard")).unwrap();
    std::fs::copy(
        root().join("plugins/types.toml"),
        plugins.join("types.toml"),
    )
    .unwrap();
    std::fs::write(plugins.join("hazard/plugin.toml"), MANIFEST).unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!("[general]\nplugins_dir = \"{}\"\n", plugins.display()),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap().to_string();

    let (code, out, err) = output(cabin_voice().args(["--config", &cfg, "plugins"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("hazard") && out.contains("lights.hazard"),
        "{out}"
    );

    let broker = Mosquitto::start();
    let mut sub = Subscriber::new(broker.port, "cabin/actuate/#");
    let topic = "cabin/actuate/Vehicle.Body.Lights.Hazard.IsSignaling";
    for (text, value) in [
        ("turn on the hazard lights", true),
        ("打开双闪", true),
        ("双闪关掉", false),
    ] {
        let (code, out, err) = output(cabin_voice().args([
            "--config",
            &cfg,
            "run",
            "--text",
            text,
            "--mqtt",
            &broker.addr(),
            "--json",
        ]));
        assert_eq!(code, 0, "{text}: {err}");
        let evs = json_lines(&out);
        assert_eq!(evs[0]["intent"], "lights.hazard", "{text}: {out}");
        assert_eq!(evs.last().unwrap()["status"], "done", "{text}: {out}");
        let m = sub
            .wait_for(Duration::from_secs(5), |m| {
                m.topic == topic && m.payload["value"] == value
            })
            .unwrap_or_else(|| panic!("{text}: no {topic} = {value}"));
        assert!(m.payload["id"].is_string());
        sub.seen.clear();
    }
}
