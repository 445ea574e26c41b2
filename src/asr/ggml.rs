//! A structural check of whisper.cpp model files before whisper.cpp sees them:
//! header, mel filters, vocabulary, then every tensor record up to the end of
//! the file. A truncated or foreign file becomes a clear error instead of
//! undefined behaviour inside the C++ loader. Seeks over tensor data: cheap.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const MAGIC: u32 = 0x6767_6d6c;

/// Bytes of `n` elements of ggml type `t`, if the type is known.
fn tensor_bytes(t: i32, n: u64) -> Option<u64> {
    // (block size, bytes per block) from ggml.h: F32, F16, Q4_0, Q4_1, -, -, Q5_0, Q5_1, Q8_0
    let (bs, bb) = match t {
        0 => (1, 4),
        1 => (1, 2),
        2 => (32, 18),
        3 => (32, 20),
        6 => (32, 22),
        7 => (32, 24),
        8 => (32, 34),
        _ => return None,
    };
    (n % bs == 0).then_some(n / bs * bb)
}

fn i32_le(r: &mut impl Read) -> std::io::Result<i32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(i32::from_le_bytes(b))
}

/// Checks the file; `Err` says what is wrong in words.
pub fn check(path: &Path) -> Result<(), String> {
    let f = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    let mut r = std::io::BufReader::new(f);
    let trunc = |what: &str| {
        format!("truncated or corrupt ({what}); reinstall with `python3 models/install.py`")
    };
    let magic = i32_le(&mut r).map_err(|_| trunc("no header"))? as u32;
    if magic != MAGIC {
        return Err(
            "not a whisper.cpp ggml model (bad magic); reinstall with `python3 models/install.py`"
                .into(),
        );
    }
    let mut hp = [0i32; 11];
    for h in hp.iter_mut() {
        *h = i32_le(&mut r).map_err(|_| trunc("header"))?;
    }
    let n_vocab = hp[0];
    if !(1..=1_000_000).contains(&n_vocab) || hp[1..10].iter().any(|&v| v <= 0 || v > 1 << 20) {
        return Err(trunc("implausible header values"));
    }
    let n_mel = i32_le(&mut r).map_err(|_| trunc("mel filters"))?;
    let n_fft = i32_le(&mut r).map_err(|_| trunc("mel filters"))?;
    if !(0..=1024).contains(&n_mel) || !(0..=4096).contains(&n_fft) {
        return Err(trunc("mel filter size"));
    }
    r.seek_relative(n_mel as i64 * n_fft as i64 * 4)
        .map_err(|_| trunc("mel filters"))?;
    let n_tokens = i32_le(&mut r).map_err(|_| trunc("vocabulary"))?;
    if !(0..=1_000_000).contains(&n_tokens) {
        return Err(trunc("vocabulary size"));
    }
    for _ in 0..n_tokens {
        let l = i32_le(&mut r).map_err(|_| trunc("vocabulary"))?;
        if !(0..=1024).contains(&l) {
            return Err(trunc("vocabulary entry"));
        }
        r.seek_relative(l as i64).map_err(|_| trunc("vocabulary"))?;
    }
    let mut tensors = 0;
    loop {
        let pos = r.stream_position().map_err(|e| e.to_string())?;
        if pos == len {
            break;
        }
        let n_dims = i32_le(&mut r).map_err(|_| trunc("tensor header"))?;
        let name_len = i32_le(&mut r).map_err(|_| trunc("tensor header"))?;
        let ttype = i32_le(&mut r).map_err(|_| trunc("tensor header"))?;
        if !(1..=4).contains(&n_dims) || !(1..=256).contains(&name_len) {
            return Err(trunc("tensor header"));
        }
        let mut n: u64 = 1;
        for _ in 0..n_dims {
            n = n.saturating_mul(i32_le(&mut r).map_err(|_| trunc("tensor shape"))?.max(0) as u64);
        }
        r.seek_relative(name_len as i64)
            .map_err(|_| trunc("tensor name"))?;
        let bytes = tensor_bytes(ttype, n).ok_or_else(|| trunc("unknown tensor type"))?;
        let end = r.stream_position().map_err(|e| e.to_string())? + bytes;
        if end > len {
            return Err(trunc("tensor data cut short"));
        }
        r.seek(SeekFrom::Start(end)).map_err(|e| e.to_string())?;
        tensors += 1;
    }
    if tensors == 0 {
        return Err(trunc("no tensors"));
    }
    Ok(())
}
