//! A minimal external plugin: answers every request by repeating what was said.
//!
//! ```sh
//! cargo run -p cabin-voice-plugin-sdk --example echo -- --mqtt 127.0.0.1:1883 --name echo
//! ```
//! With a manifest `plugins/echo/plugin.toml` declaring `[plugin] name = "echo"`,
//! an intent with `[intents.action] kind = "external"`, the assistant says
//! "You said: <text>" (或 "你说的是：<text>").

use cabin_voice_plugin_sdk::{Plugin, Response};

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut host, mut port) = ("127.0.0.1".to_string(), 1883u16);
    let (mut name, mut prefix) = ("echo".to_string(), "cabin".to_string());
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--mqtt" => {
                let (h, p) = v.rsplit_once(':').unwrap_or((v.as_str(), "1883"));
                host = h.to_string();
                port = p.parse().unwrap_or_else(|_| {
                    eprintln!("--mqtt {v:?}: bad port");
                    std::process::exit(2)
                });
            }
            "--name" => name = v,
            "--prefix" => prefix = v,
            _ => {
                eprintln!("usage: echo [--mqtt HOST:PORT] [--name NAME] [--prefix PREFIX]");
                std::process::exit(2);
            }
        }
    }
    let conn = match Plugin::new(&name)
        .broker(&host, port)
        .prefix(&prefix)
        .connect()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("echo: {e}");
            std::process::exit(1);
        }
    };
    println!("ready");
    let result = conn.serve(|req| {
        if req.text.trim().is_empty() {
            return Response::fail("empty text");
        }
        if req.is_zh() {
            Response::reply(format!("你说的是：{}", req.text))
        } else {
            Response::reply(format!("You said: {}", req.text))
        }
    });
    if let Err(e) = result {
        eprintln!("echo: {e}");
        std::process::exit(1);
    }
}
