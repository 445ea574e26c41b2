//! cabin-voice: an offline, in-vehicle voice assistant.
//!
//! The crate is the assistant's library; `main.rs` is a thin CLI over it.
//!
//! - [`nlu`]: text -> intent (grammar fast path compiled from plugin sentences).
//! - [`plugin`]: plugin manifests, the registry, permissions.
pub mod app;
pub mod asr;
pub mod assistant;
pub mod audio;
pub mod bus;
pub mod config;
pub mod events;
pub mod listen;
pub mod lm;
pub mod nlu;
pub mod notify;
pub mod onnx;
pub mod plugin;
pub mod scheduler;
pub mod sim;
pub mod wake;
