//! The SDK against a private mosquitto (free loopback port): a request published
//! on the plugin's topic is answered on its response topic with the same id; a
//! malformed request is skipped and the plugin keeps serving; a stopper ends it.

use cabin_voice_plugin_sdk::{request_topic, response_topic, Plugin, Response};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(8);

struct Broker {
    port: u16,
    child: Child,
    dir: std::path::PathBuf,
}

impl Broker {
    fn start() -> Broker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("cv-sdk-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("mosquitto.conf");
        let root = std::env::var("USER").is_ok_and(|u| u == "root")
            || std::fs::metadata("/proc/self")
                .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
                .unwrap_or(false);
        let mut text =
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n");
        if root {
            text.push_str("user root\n");
        }
        std::fs::write(&conf, text).unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto must be installed");
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t0.elapsed() < WAIT, "mosquitto did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker { port, child, dir }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn requests_are_answered_with_their_id() {
    let broker = Broker::start();
    // The host side: subscribed to the responses before anything is asked.
    let mut opts = MqttOptions::new("sdk-test-host", "127.0.0.1", broker.port);
    opts.set_keep_alive(Duration::from_secs(5));
    let (host, mut conn) = Client::new(opts, 16);
    host.subscribe(response_topic("cabin", "hello"), QoS::AtLeastOnce)
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for ev in conn.iter() {
            match ev {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = ready_tx.send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
                    if tx.send(v).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    ready_rx.recv_timeout(WAIT).expect("host subscribed");

    let plugin = Plugin::new("hello")
        .broker("127.0.0.1", broker.port)
        .connect()
        .expect("plugin connects");
    let stop = plugin.stopper();
    let served = std::thread::spawn(move || {
        plugin.serve(|req| match req.slot("name") {
            Some(n) if req.is_zh() => Response::reply(format!("你好，{n}")),
            Some(n) => Response::reply(format!("Hello, {n}")),
            None => Response::fail("nobody to greet"),
        })
    });

    let ask = |payload: &str| {
        host.publish(
            request_topic("cabin", "hello"),
            QoS::AtLeastOnce,
            false,
            payload.as_bytes().to_vec(),
        )
        .unwrap();
    };
    ask("{not json");
    ask(
        r#"{"id": "a-1", "intent": "hello.greet", "slots": {"name": "Ada"}, "lang": "en", "text": "say hello to ada", "ts_ms": 1}"#,
    );
    ask(
        r#"{"id": "a-2", "intent": "hello.greet", "slots": {"name": "小明"}, "lang": "zh", "text": "向小明问好", "ts_ms": 2}"#,
    );
    ask(
        r#"{"id": "a-3", "intent": "hello.greet", "slots": {}, "lang": "en", "text": "say hello", "ts_ms": 3}"#,
    );
    let got: Vec<serde_json::Value> = (0..3)
        .map(|_| rx.recv_timeout(WAIT).expect("a response"))
        .collect();
    assert_eq!(
        got,
        vec![
            serde_json::json!({"id": "a-1", "ok": true, "reply": "Hello, Ada"}),
            serde_json::json!({"id": "a-2", "ok": true, "reply": "你好，小明"}),
            serde_json::json!({"id": "a-3", "ok": false, "error": "nobody to greet"}),
        ]
    );
    stop.stop();
    assert!(served.join().unwrap().is_ok());
}
