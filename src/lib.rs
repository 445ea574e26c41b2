//! cabin-voice: an offline, in-vehicle voice assistant.
//!
//! The crate is the assistant's library; `main.rs` is a thin CLI over it.
//!
//! - [`nlu`]: text -> intent (grammar fast path compiled from plugin sentences).
//! - [`plugin`]: plugin manifests, the registry, permissions.
pub mod nlu;
pub mod plugin;
pub mod bus;
pub mod config;
pub mod audio;
pub mod asr;
pub mod scheduler;
pub mod onnx;
pub mod app;
pub mod assistant;
pub mod events;
pub mod sim;
pub mod notify;
