//! External plugins (`kind = "external"`) end to end on a real broker: a plugin
//! written with the Rust SDK (compiled in from plugins/sdk) and the Python example
//! (plugins/examples/maintenance, over mosquitto_sub/mosquitto_pub) answer typed
//! commands; a plugin that never answers (or answers garbage) times out and the
//! assistant serves the next command; a plugin process that dies opens the
//! circuit breaker (immediate refusal), and after the cool-down a trial request
//! closes it again. Nothing sleeps for a fixed time: every wait polls with a deadline.

mod common;
mod support;

#[path = "../plugins/sdk/src/lib.rs"]
#[allow(dead_code)]
mod sdk;

use common::Subscriber;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{say, start_server, Proc, Rig, WAIT};

/// A plugins folder: `types.toml`, the built-in plugins, and `extra` manifests
/// (folder name, plugin.toml text).
fn plugins_with(dir: &Path, extra: &[(&str, String)]) -> PathBuf {
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
    for (name, text) in extra {
        std::fs::create_dir_all(to.join(name)).unwrap();
        std::fs::write(to.join(name).join("plugin.toml"), text).unwrap();
    }
    to
}

fn use_plugins(rig: &Rig, extra: &[(&str, String)]) {
    let plugins = plugins_with(rig.dir.path(), extra);
    rig.set_config(&format!(
        "[general]\nplugins_dir = {:?}\n",
        plugins.display().to_string()
    ));
}

const HELLO: &str = r#"[plugin]
name = "hello"
version = "0.1.0"
description = "Greets, from a plugin process written with the Rust SDK"

[[intents]]
name = "hello.greet"
slots.name = { type = "person" }
sentences.en = ["say hello to {name}", "greet [the] car"]
sentences.zh = ["向{name}问好", "跟车打招呼"]
reply.en = "Hello from the template."
reply.zh = "模板的问候。"

[types.person]
kind = "text"

[intents.action]
kind = "external"
timeout_ms = 3000
"#;

const SILENT: &str = r#"[plugin]
name = "silent"
version = "0.1.0"
description = "A plugin that never answers"

[[intents]]
name = "silent.ping"
sentences.en = ["ping the silent skill"]
sentences.zh = ["呼叫沉默技能"]
reply.en = "Pong."

[intents.action]
kind = "external"
timeout_ms = 400
"#;

/// The Python example's manifest with a short timeout and cool-down.
fn maintenance_manifest(timeout_ms: u64, cooldown_ms: u64) -> String {
    let text =
        std::fs::read_to_string(common::root().join("plugins/examples/maintenance/plugin.toml"))
            .unwrap();
    assert!(text.contains("timeout_ms = 2000"));
    text.replace(
        "timeout_ms = 2000",
        &format!("timeout_ms = {timeout_ms}\nbreaker_cooldown_ms = {cooldown_ms}"),
    )
}

/// The Python example plugin, ready (subscribed at the broker).
fn start_python_plugin(rig: &Rig) -> Proc {
    let mut cmd = Command::new("python3");
    cmd.arg(common::root().join("plugins/examples/maintenance/plugin.py"))
        .args(["--mqtt", &rig.broker.addr()]);
    let mut p = Proc::spawn(cmd);
    assert!(
        p.stdout.wait_for(0, *WAIT, |l| l == "ready").is_some(),
        "python plugin did not start: {:?}",
        p.stderr.drain()
    );
    p
}

/// The SDK plugin "hello" in a thread; returns a handle that stops it.
fn start_sdk_plugin(port: u16) -> (sdk::Stopper, std::thread::JoinHandle<()>) {
    let conn = sdk::Plugin::new("hello")
        .broker("127.0.0.1", port)
        .connect()
        .expect("SDK plugin connects");
    let stop = conn.stopper();
    let h = std::thread::spawn(move || {
        conn.serve(|req| {
            let who = req.slot("name").unwrap_or_else(|| "car".into());
            if who == "nobody" {
                sdk::Response::fail_with_reply("no one to greet", "There's no one to greet.")
            } else if req.is_zh() {
                sdk::Response::reply(format!("你好，{who}！"))
            } else if req.text.starts_with("greet") {
                sdk::Response::ok()
            } else {
                sdk::Response::reply(format!("Hello, {who}! (you said: {})", req.text))
            }
        })
        .expect("SDK plugin serves");
    });
    (stop, h)
}

fn event<'a>(t: &'a support::Turn, kind: &str) -> Option<&'a Value> {
    t.events.iter().find(|e| e["event"] == kind)
}

#[test]
fn sdk_plugin_answers_run_text_commands() {
    let mut rig = Rig::new(None, "");
    use_plugins(&rig, &[("hello", HELLO.to_string())]);
    let mut requests = Subscriber::new(rig.broker.port, "cabin/plugin/+/request");
    let (stop, h) = start_sdk_plugin(rig.broker.port);

    let t = rig.run_text("say hello to ada");
    assert_eq!(t.code, 0, "{}", t.show());
    assert_eq!(t.intent(), "hello.greet", "{}", t.show());
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(
        t.reply(),
        "Hello, ada! (you said: say hello to ada)",
        "{}",
        t.show()
    );
    let a = t.actions();
    assert_eq!(a.len(), 1, "{}", t.show());
    assert_eq!(a[0]["kind"], "external");
    assert_eq!(a[0]["target"], "cabin/plugin/hello/request");
    // The request on the wire: the documented fields.
    let req = requests
        .wait_for(*WAIT, |m| m.payload["text"] == "say hello to ada")
        .expect("request published");
    assert_eq!(req.topic, "cabin/plugin/hello/request");
    let p = &req.payload;
    assert!(p["id"].as_str().is_some_and(|s| !s.is_empty()), "{p}");
    assert_eq!(p["intent"], "hello.greet");
    assert_eq!(p["slots"], serde_json::json!({"name": "ada"}));
    assert_eq!(p["lang"], "en");
    assert!(p["ts_ms"].as_u64().is_some_and(|t| t > 0), "{p}");
    assert_eq!(p, &a[0]["payload"]);

    // Chinese.
    let t = rig.run_text("向小明问好");
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(t.reply(), "你好，小明！", "{}", t.show());
    // No reply of the plugin's own: the manifest's template.
    let t = rig.run_text("greet the car");
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(t.reply(), "Hello from the template.", "{}", t.show());
    // "ok": false: failed, the plugin's reply spoken, its error logged.
    let t = rig.run_text("say hello to nobody");
    assert_eq!(t.status(), "failed", "{}", t.show());
    assert_eq!(t.reply(), "There's no one to greet.", "{}", t.show());
    assert!(t.reason().contains("no one to greet"), "{}", t.show());

    stop.stop();
    h.join().unwrap();
}

#[test]
fn python_plugin_answers_end_to_end() {
    let mut rig = Rig::new(None, "");
    use_plugins(&rig, &[("maintenance", maintenance_manifest(3000, 30_000))]);
    rig.sub.publish(
        "cabin/state/Vehicle.Service.DistanceToService",
        br#"{"value": 1234}"#,
        true,
    );
    let mut plugin = start_python_plugin(&rig);
    let t = rig.run_text("when is my next service");
    assert_eq!(t.intent(), "maintenance.next_service", "{}", t.show());
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(
        t.reply(),
        "Your next service is due in 1234 km.",
        "{}",
        t.show()
    );
    assert_eq!(event(&t, "action").unwrap()["kind"], "external");
    let t = rig.run_text("下次保养是什么时候");
    assert_eq!(t.status(), "done", "{}", t.show());
    assert_eq!(t.reply(), "距离下次保养还有1234公里。", "{}", t.show());
    assert!(
        plugin
            .stdout
            .wait_count(*WAIT, 2, |l| l.starts_with("answered ")),
        "{:?}",
        plugin.stdout.drain()
    );
}

#[test]
fn examples_are_not_loaded_by_default() {
    let (code, out, err) = common::output(common::cabin_voice().args(["plugins", "--json"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"climate\""), "{out}");
    assert!(!out.contains("maintenance"), "{out}");
    assert!(!out.contains("\"sdk\""), "{out}");
}

#[test]
fn silent_plugin_times_out_and_the_next_command_is_served() {
    let rig = Rig::new(None, "");
    use_plugins(&rig, &[("silent", SILENT.to_string())]);
    // Something answers the silent plugin's requests with garbage (and a wrong
    // plugin's topic): logged and ignored, so the request still times out.
    let mut requests = Subscriber::new(rig.broker.port, "cabin/plugin/silent/request");
    let mut server = start_server(&rig);
    let since = server.stdout.drain().len();
    rig.sub
        .publish("cabin/assistant/say", b"ping the silent skill", false);
    let req = requests
        .wait_for(*WAIT, |m| m.payload["intent"] == "silent.ping")
        .expect("request published");
    let id = req.payload["id"].as_str().unwrap().to_string();
    requests.publish("cabin/plugin/silent/response", b"{not json", false);
    requests.publish(
        "cabin/plugin/silent/response",
        format!(r#"{{"id": "{id}"}}"#).as_bytes(),
        false,
    );
    requests.publish(
        "cabin/plugin/hello/response",
        format!(r#"{{"id": "{id}", "ok": true, "reply": "spoofed"}}"#).as_bytes(),
        false,
    );
    let reply = server
        .wait_event(since, |e| {
            e["event"] == "reply" && e["intent"] == "silent.ping"
        })
        .unwrap_or_else(|| panic!("no reply: {:?}", server.stderr.drain()));
    assert_eq!(reply["status"], "failed", "{reply}");
    assert_eq!(reply["text"], "Sorry, that skill didn't answer in time.");
    let err = server
        .wait_event(since, |e| {
            e["event"] == "error" && e["turn"] == reply["turn"]
        })
        .unwrap();
    assert_eq!(err["message"], "plugin silent: no response within 400 ms");
    assert!(
        server
            .stderr
            .wait_for(0, *WAIT, |l| l
                .contains("ignored malformed plugin response"))
            .is_some(),
        "{:?}",
        server.stderr.drain()
    );
    // The assistant goes on serving.
    let (_, reply) = say(&rig, &mut server, "set the temperature to 21");
    assert_eq!(reply["status"], "done", "{reply}");
    let (_, reply) = say(&rig, &mut server, "呼叫沉默技能");
    assert_eq!(reply["text"], "抱歉，这个技能没有及时响应。", "{reply}");
}

#[test]
fn dying_plugin_opens_the_breaker_and_a_trial_after_the_cool_down_closes_it() {
    let timeout_ms = 800;
    let rig = Rig::new(None, "");
    use_plugins(
        &rig,
        &[("maintenance", maintenance_manifest(timeout_ms, 2000))],
    );
    rig.sub.publish(
        "cabin/state/Vehicle.TraveledDistance",
        br#"{"value": 44000}"#,
        true,
    );
    let plugin = start_python_plugin(&rig);
    let mut server = start_server(&rig);
    let cmd = "when is the next service";
    let (_, reply) = say(&rig, &mut server, cmd);
    assert_eq!(reply["status"], "done", "{reply}");
    assert_eq!(reply["text"], "Your next service is due in 1000 km.");

    drop(plugin); // killed
    for _ in 0..3 {
        let (_, reply) = say(&rig, &mut server, cmd);
        assert_eq!(reply["status"], "failed", "{reply}");
        assert_eq!(reply["text"], "Sorry, that skill didn't answer in time.");
    }
    // Open: refused at once, without waiting for the plugin.
    let (since, reply) = say(&rig, &mut server, cmd);
    assert_eq!(reply["status"], "refused", "{reply}");
    assert_eq!(reply["text"], "That skill isn't responding right now.");
    let act_ms = reply["timings"]["act_ms"].as_f64().unwrap();
    assert!(act_ms < timeout_ms as f64 / 4.0, "refusal took {act_ms} ms");
    let err = server
        .wait_event(since, |e| {
            e["event"] == "error" && e["turn"] == reply["turn"]
        })
        .unwrap();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("breaker open after 3 failures"),
        "{err}"
    );
    // Other plugins are not affected.
    let (_, reply) = say(&rig, &mut server, "set the temperature to 21");
    assert_eq!(reply["status"], "done", "{reply}");

    // The plugin comes back; after the cool-down a trial goes through.
    let _plugin = start_python_plugin(&rig);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, reply) = say(&rig, &mut server, cmd);
        if reply["status"] == "done" {
            assert_eq!(reply["text"], "Your next service is due in 1000 km.");
            break;
        }
        assert_eq!(reply["status"], "refused", "{reply}");
        assert!(Instant::now() < deadline, "breaker never closed");
        // Poll again (each refusal is immediate), without flooding the broker.
        std::thread::park_timeout(Duration::from_millis(50));
    }
    // Closed again: the next command goes straight through.
    let (_, reply) = say(&rig, &mut server, "下一次保养还有多久");
    assert_eq!(reply["status"], "done", "{reply}");
    assert_eq!(reply["text"], "距离下次保养还有1000公里。");
}
