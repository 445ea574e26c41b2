//! Execution providers: the ordered list from `[onnxruntime] execution_providers`,
//! matched against what the loaded ONNX Runtime library was built with.
//!
//! Every ONNX model of the assistant (intent model, wake word, VAD, language
//! model) builds its session with [`session_builder`], so one config line moves
//! all of them to an NPU. Providers the library lacks are skipped; when none of
//! the configured accelerators is there the session runs on the CPU and one
//! warning says so (once per process).

use ort::ep::{self, ExecutionProvider, ExecutionProviderDispatch};
use ort::session::builder::SessionBuilder;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

/// One execution provider the config may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ep {
    /// Qualcomm AI Engine (Snapdragon automotive SoCs, HTP/NPU).
    Qnn,
    /// VeriSilicon NPU (NXP i.MX 8M Plus and others).
    VsiNpu,
    /// Rockchip NPU (RK3588).
    Rknpu,
    /// Arm Compute Library (Mali GPU / NEON).
    Acl,
    /// NVIDIA CUDA (Jetson / DRIVE).
    Cuda,
    /// NVIDIA TensorRT.
    TensorRt,
    /// Intel OpenVINO.
    OpenVino,
    /// XNNPACK (optimised CPU kernels for Arm and x86).
    Xnnpack,
    /// ONNX Runtime's default CPU provider (always there).
    Cpu,
}

/// Every provider the config accepts, in documentation order.
pub const ALL: [Ep; 9] = [
    Ep::Qnn,
    Ep::VsiNpu,
    Ep::Rknpu,
    Ep::Acl,
    Ep::Cuda,
    Ep::TensorRt,
    Ep::OpenVino,
    Ep::Xnnpack,
    Ep::Cpu,
];

/// A provider name the config may not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown execution provider {name:?}; known: {known}")]
pub struct UnknownEp {
    pub name: String,
    pub known: String,
}

impl Ep {
    /// The name used in the config file.
    pub fn config_name(self) -> &'static str {
        match self {
            Ep::Qnn => "qnn",
            Ep::VsiNpu => "vsinpu",
            Ep::Rknpu => "rknpu",
            Ep::Acl => "acl",
            Ep::Cuda => "cuda",
            Ep::TensorRt => "tensorrt",
            Ep::OpenVino => "openvino",
            Ep::Xnnpack => "xnnpack",
            Ep::Cpu => "cpu",
        }
    }

    /// The name ONNX Runtime reports (`GetAvailableProviders`).
    pub fn runtime_name(self) -> &'static str {
        match self {
            Ep::Qnn => ep::QNN::NAME,
            Ep::VsiNpu => ep::VSINPU::NAME,
            Ep::Rknpu => ep::RKNPU::NAME,
            Ep::Acl => ep::ACL::NAME,
            Ep::Cuda => ep::CUDA::NAME,
            Ep::TensorRt => ep::TensorRT::NAME,
            Ep::OpenVino => ep::OpenVINO::NAME,
            Ep::Xnnpack => ep::XNNPACK::NAME,
            Ep::Cpu => ep::CPU::NAME,
        }
    }

    /// Parses a config name (case-insensitive, `-`/`_` ignored).
    pub fn parse(name: &str) -> Result<Ep, UnknownEp> {
        let key: String = name
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        ALL.iter()
            .copied()
            .find(|e| e.config_name() == key)
            .ok_or_else(|| UnknownEp {
                name: name.to_string(),
                known: ALL.map(Ep::config_name).join(", "),
            })
    }

    /// Whether the loaded ONNX Runtime library was built with this provider.
    /// Needs the library loaded ([`super::init`]); false when it is not.
    pub fn is_available(self) -> bool {
        let r = match self {
            Ep::Qnn => ep::QNN::is_available(),
            Ep::VsiNpu => ep::VSINPU::is_available(),
            Ep::Rknpu => ep::RKNPU::is_available(),
            Ep::Acl => ep::ACL::is_available(),
            Ep::Cuda => ep::CUDA::is_available(),
            Ep::TensorRt => ep::TensorRT::is_available(),
            Ep::OpenVino => ep::OpenVINO::is_available(),
            Ep::Xnnpack => ep::XNNPACK::is_available(),
            Ep::Cpu => return true,
        };
        r.unwrap_or(false)
    }

    fn dispatch(self) -> ExecutionProviderDispatch {
        match self {
            Ep::Qnn => ep::QNN::default().build(),
            Ep::VsiNpu => ep::VSINPU.build(),
            Ep::Rknpu => ep::RKNPU::default().build(),
            Ep::Acl => ep::ACL::default().build(),
            Ep::Cuda => ep::CUDA::default().build(),
            Ep::TensorRt => ep::TensorRT::default().build(),
            Ep::OpenVino => ep::OpenVINO::default().build(),
            Ep::Xnnpack => ep::XNNPACK::default().build(),
            Ep::Cpu => ep::CPU::default().build(),
        }
    }
}

/// Parses the config's list; an empty list means `["cpu"]`.
pub fn parse_list(names: &[String]) -> Result<Vec<Ep>, UnknownEp> {
    if names.is_empty() {
        return Ok(vec![Ep::Cpu]);
    }
    names.iter().map(|n| Ep::parse(n)).collect()
}

/// What the configured list resolves to on the loaded library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Configured providers the library has, in the configured order.
    pub used: Vec<Ep>,
    /// Configured providers the library lacks.
    pub missing: Vec<Ep>,
}

impl Selection {
    /// True when an accelerator was asked for and none is there: plain CPU.
    pub fn fell_back_to_cpu(&self) -> bool {
        self.used.iter().all(|e| *e == Ep::Cpu) && self.missing.iter().any(|e| *e != Ep::Cpu)
    }
}

/// Splits `wanted` by availability (`has` answers for one provider).
pub fn select(wanted: &[Ep], has: impl Fn(Ep) -> bool) -> Selection {
    let mut used = Vec::new();
    let mut missing = Vec::new();
    for &e in wanted {
        if used.contains(&e) || missing.contains(&e) {
            continue;
        }
        if has(e) {
            used.push(e);
        } else {
            missing.push(e);
        }
    }
    Selection { used, missing }
}

/// Providers the loaded library was built with, among those the config knows.
pub fn available() -> Vec<Ep> {
    ALL.iter().copied().filter(|e| e.is_available()).collect()
}

static CONFIGURED: RwLock<Vec<Ep>> = RwLock::new(Vec::new());
static WARNED: AtomicBool = AtomicBool::new(false);

/// Sets the process-wide provider order (from the config, at start).
pub fn configure(eps: &[Ep]) {
    if let Ok(mut c) = CONFIGURED.write() {
        *c = eps.to_vec();
    }
}

/// The process-wide provider order; `["cpu"]` until [`configure`] ran.
pub fn configured() -> Vec<Ep> {
    match CONFIGURED.read() {
        Ok(c) if !c.is_empty() => c.clone(),
        _ => vec![Ep::Cpu],
    }
}

/// Registers the configured providers the library has on `builder`, in order.
/// ONNX Runtime assigns each graph node to the first provider that runs it,
/// and the rest to its CPU provider.
pub fn apply(builder: SessionBuilder) -> ort::Result<SessionBuilder> {
    let sel = select(&configured(), Ep::is_available);
    if sel.fell_back_to_cpu() && !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            missing = %sel.missing.iter().map(|e| e.config_name()).collect::<Vec<_>>().join(","),
            "none of the configured execution providers is in this ONNX Runtime build; running on the CPU"
        );
    }
    let eps: Vec<ExecutionProviderDispatch> = sel
        .used
        .iter()
        .filter(|e| **e != Ep::Cpu)
        .map(|e| e.dispatch())
        .collect();
    if eps.is_empty() {
        return Ok(builder);
    }
    builder
        .with_execution_providers(eps)
        .map_err(|e| ort::Error::new(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_both_ways() {
        for e in ALL {
            assert_eq!(Ep::parse(e.config_name()), Ok(e));
        }
        assert_eq!(Ep::parse("VSI-NPU"), Ok(Ep::VsiNpu));
        assert_eq!(Ep::parse("XNNPack"), Ok(Ep::Xnnpack));
        let e = Ep::parse("npu9000").unwrap_err().to_string();
        assert!(e.contains("npu9000") && e.contains("vsinpu"), "{e}");
    }

    #[test]
    fn empty_list_is_cpu_and_unknown_names_fail() {
        assert_eq!(parse_list(&[]).unwrap(), vec![Ep::Cpu]);
        let l = parse_list(&["qnn".into(), "cpu".into()]).unwrap();
        assert_eq!(l, vec![Ep::Qnn, Ep::Cpu]);
        assert!(parse_list(&["qnn".into(), "gpu".into()]).is_err());
    }

    #[test]
    fn selection_keeps_order_and_reports_fallback() {
        let wanted = [Ep::Qnn, Ep::VsiNpu, Ep::Xnnpack, Ep::Cpu];
        let s = select(&wanted, |e| matches!(e, Ep::Xnnpack | Ep::Cpu));
        assert_eq!(s.used, vec![Ep::Xnnpack, Ep::Cpu]);
        assert_eq!(s.missing, vec![Ep::Qnn, Ep::VsiNpu]);
        assert!(!s.fell_back_to_cpu());
        let s = select(&wanted, |e| e == Ep::Cpu);
        assert!(s.fell_back_to_cpu());
        let s = select(&[Ep::Cpu, Ep::Cpu], |_| true);
        assert_eq!(s.used, vec![Ep::Cpu]);
        assert!(!s.fell_back_to_cpu());
    }
}
