//! The decoder seam and its ONNX Runtime implementation.
//!
//! The ONNX layout is the usual export of a decoder-only language model with a
//! KV cache: inputs `input_ids` [B,S] (int64), `attention_mask` [B,past+S]
//! (int64), optionally `position_ids` [B,S] (int64), and
//! `past_key_values.N.key/value` [B,kv_heads,past,head_dim] (float32); outputs
//! `logits` [B,S,vocab] and `present.N.key/value` (the cache with the new
//! positions appended). Weights may be INT8/INT4 (MatMulNBits or dynamically
//! quantized MatMul): that is invisible here.

use super::LmError;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, Tensor, ValueType};
use std::borrow::Cow;
use std::path::Path;

/// A language model that scores the next token.
pub trait Decoder: Send {
    /// Size of the logits vector.
    fn vocab_size(&self) -> usize;
    /// Forgets the cache (back to the saved prefix, if any).
    fn reset(&mut self);
    /// Runs `tokens` after those already cached and returns the logits of the
    /// last position.
    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>, LmError>;
    /// Positions in the cache.
    fn cached(&self) -> usize;
    /// Keeps the current cache as the prefix every [`Decoder::reset`] returns to.
    fn save_prefix(&mut self);
}

/// One cache entry per `past_key_values.*` input.
struct CacheSlot {
    input: String,
    output: String,
}

/// A decoder on ONNX Runtime with a growing KV cache.
pub struct OrtDecoder {
    session: Session,
    slots: Vec<CacheSlot>,
    /// [kv_heads, head_dim] of the cache tensors.
    kv_shape: (usize, usize),
    has_position_ids: bool,
    vocab: usize,
    /// The cache: one value per slot (empty before the first run).
    cache: Vec<DynValue>,
    len: usize,
    prefix: Vec<DynValue>,
    prefix_len: usize,
}

impl OrtDecoder {
    /// Loads `path` on the process's ONNX Runtime environment; checks its inputs
    /// and outputs so a wrong file is one clear error.
    pub fn load(
        path: &Path,
        env: &ort::environment::Environment,
        threads: usize,
    ) -> Result<OrtDecoder, LmError> {
        let bad = |msg: String| LmError::Model {
            file: path.display().to_string(),
            msg,
        };
        if !path.is_file() {
            return Err(bad(
                "not found (install it with `python3 models/install.py --only lm`)".into(),
            ));
        }
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let session = crate::onnx::session_builder(env)
            .map_err(|e| bad(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| bad(e.to_string()))?
            .with_intra_threads(threads)
            .map_err(|e| bad(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| bad(format!("not a usable ONNX model: {e}")))?;
        let names =
            |v: &[ort::value::Outlet]| v.iter().map(|o| o.name().to_string()).collect::<Vec<_>>();
        let inputs = names(session.inputs());
        let outputs = names(session.outputs());
        for need in ["input_ids", "attention_mask"] {
            if !inputs.iter().any(|i| i == need) {
                return Err(bad(format!(
                    "no input {need:?} (inputs: {})",
                    inputs.join(", ")
                )));
            }
        }
        if !outputs.iter().any(|o| o == "logits") {
            return Err(bad(format!(
                "no output \"logits\" (outputs: {})",
                outputs.join(", ")
            )));
        }
        let mut slots = Vec::new();
        let mut kv_shape = None;
        for o in session.inputs() {
            let Some(rest) = o.name().strip_prefix("past_key_values.") else {
                continue;
            };
            let output = format!("present.{rest}");
            if !outputs.contains(&output) {
                return Err(bad(format!("input {} has no output {output}", o.name())));
            }
            match o.dtype() {
                ValueType::Tensor { ty, shape, .. } => {
                    if !matches!(ty, ort::value::TensorElementType::Float32) {
                        return Err(bad(format!(
                            "{}: cache type {ty:?}, expected float32",
                            o.name()
                        )));
                    }
                    if shape.len() != 4 {
                        return Err(bad(format!(
                            "{}: cache shape {shape:?}, expected [batch, kv_heads, past, head_dim]",
                            o.name()
                        )));
                    }
                    let dims = if shape[1] > 0 && shape[3] > 0 {
                        (shape[1] as usize, shape[3] as usize)
                    } else {
                        // Symbolic in the graph: the export's genai_config.json says.
                        sidecar_kv_shape(path).map_err(|m| bad(format!("{}: {m}", o.name())))?
                    };
                    kv_shape = Some(dims);
                }
                other => return Err(bad(format!("{}: not a tensor ({other:?})", o.name()))),
            }
            slots.push(CacheSlot {
                input: o.name().to_string(),
                output,
            });
        }
        let Some(kv_shape) = kv_shape else {
            return Err(bad(
                "no past_key_values.* inputs (a model without KV cache)".into(),
            ));
        };
        let vocab = match session
            .outputs()
            .iter()
            .find(|o| o.name() == "logits")
            .map(|o| o.dtype())
        {
            Some(ValueType::Tensor { shape, .. }) if shape.len() == 3 && shape[2] > 0 => {
                shape[2] as usize
            }
            other => {
                return Err(bad(format!(
                    "logits: shape {other:?}, expected [batch, seq, vocab]"
                )))
            }
        };
        let has_position_ids = inputs.iter().any(|i| i == "position_ids");
        tracing::info!(
            file = %path.display(),
            layers = slots.len() / 2,
            kv_heads = kv_shape.0,
            head_dim = kv_shape.1,
            vocab,
            threads,
            "language model loaded"
        );
        Ok(OrtDecoder {
            session,
            slots,
            kv_shape,
            has_position_ids,
            vocab,
            cache: Vec::new(),
            len: 0,
            prefix: Vec::new(),
            prefix_len: 0,
        })
    }
}

impl Decoder for OrtDecoder {
    fn vocab_size(&self) -> usize {
        self.vocab
    }

    fn reset(&mut self) {
        self.cache.clear();
        self.len = self.prefix_len;
    }

    fn cached(&self) -> usize {
        self.len
    }

    fn save_prefix(&mut self) {
        self.prefix = std::mem::take(&mut self.cache);
        self.prefix_len = self.len;
    }

    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>, LmError> {
        if tokens.is_empty() {
            return Err(LmError::Run("forward with no tokens".into()));
        }
        let run = |e: ort::Error| LmError::Run(e.to_string());
        let n = tokens.len();
        let total = self.len + n;
        let ids: Vec<i64> = tokens.iter().map(|&t| t as i64).collect();
        let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> =
            Vec::with_capacity(3 + self.slots.len());
        inputs.push((
            "input_ids".into(),
            Tensor::from_array(([1usize, n], ids)).map_err(run)?.into(),
        ));
        inputs.push((
            "attention_mask".into(),
            Tensor::from_array(([1usize, total], vec![1i64; total]))
                .map_err(run)?
                .into(),
        ));
        if self.has_position_ids {
            let pos: Vec<i64> = (self.len..total).map(|p| p as i64).collect();
            inputs.push((
                "position_ids".into(),
                Tensor::from_array(([1usize, n], pos)).map_err(run)?.into(),
            ));
        }
        let (heads, dim) = self.kv_shape;
        let cache = std::mem::take(&mut self.cache);
        let from_prefix = cache.is_empty() && self.prefix_len > 0 && self.len == self.prefix_len;
        if cache.is_empty() && !from_prefix {
            for s in &self.slots {
                let empty = Tensor::<f32>::from_array(([1usize, heads, 0, dim], Vec::<f32>::new()))
                    .map_err(run)?;
                inputs.push((s.input.as_str().into(), empty.into()));
            }
        } else if from_prefix {
            for (s, v) in self.slots.iter().zip(&self.prefix) {
                inputs.push((s.input.as_str().into(), v.into()));
            }
        } else {
            for (s, v) in self.slots.iter().zip(cache) {
                inputs.push((s.input.as_str().into(), v.into()));
            }
        }
        let mut outputs = self.session.run(inputs).map_err(run)?;
        let logits = {
            let (shape, data) = outputs["logits"].try_extract_tensor::<f32>().map_err(run)?;
            let v = *shape.last().unwrap_or(&0) as usize;
            if v == 0 || data.len() < v {
                return Err(LmError::Run(format!("logits of shape {shape:?}")));
            }
            data[data.len() - v..].to_vec()
        };
        let mut cache = Vec::with_capacity(self.slots.len());
        for s in &self.slots {
            let v = outputs
                .remove(&s.output)
                .ok_or_else(|| LmError::Run(format!("no output {}", s.output)))?;
            cache.push(v);
        }
        drop(outputs);
        self.cache = cache;
        self.len = total;
        Ok(logits)
    }
}

/// `[kv_heads, head_dim]` from the `genai_config.json` written next to the model
/// by the ONNX Runtime GenAI model builder.
fn sidecar_kv_shape(model: &Path) -> Result<(usize, usize), String> {
    let cfg = model.with_file_name("genai_config.json");
    let text = std::fs::read_to_string(&cfg).map_err(|e| {
        format!(
            "cache dimensions are symbolic and {} is unreadable ({e})",
            cfg.display()
        )
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", cfg.display()))?;
    let d = &v["model"]["decoder"];
    match (d["num_key_value_heads"].as_u64(), d["head_size"].as_u64()) {
        (Some(h), Some(s)) if h > 0 && s > 0 => Ok((h as usize, s as usize)),
        _ => Err(format!(
            "{}: no model.decoder.num_key_value_heads / head_size",
            cfg.display()
        )),
    }
}
