//! Token files as kiss-tui reads them: kubelogin's cache JSON
//! (`{"id_token": "..."}`) or a raw JWT, from any bytes.
//!
//! Properties: nothing panics (decoding, labels, expiry); a file and the
//! token inside it decode the same; a `.lock` file is never a token; the
//! token never shows in `Debug` output.

#![no_main]

use std::path::Path;
use std::time::{Duration, SystemTime};

use kiss_tui::tokens::{TokenInfo, TokenStatus, decode_file};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/home/ann/.kube/cache/oidc-login/0123abcd");
    let status = decode_file(path, data);
    let lock = decode_file(Path::new("/home/ann/.kube/cache/oidc-login/x.LOCK"), data);
    assert!(matches!(lock, TokenStatus::Unusable { .. }));

    // The file holds a token, or is JSON around one: the same decoding.
    if let Ok(text) = std::str::from_utf8(data) {
        let text = text.trim();
        let inner = if text.starts_with('{') {
            serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("id_token").and_then(Value::as_str).map(str::to_owned))
        } else if text.is_empty() {
            None
        } else {
            Some(text.to_owned())
        };
        if let Some(inner) = inner {
            let direct = TokenInfo::from_jwt(&inner);
            match (&status, &direct) {
                (TokenStatus::Usable(a), Ok(b)) => assert_eq!(a, b),
                (TokenStatus::Unusable { reason }, Err(r)) => assert_eq!(reason, r),
                _ => panic!("the file and its token decode differently"),
            }
        }
    }

    let TokenStatus::Usable(info) = &status else {
        return;
    };
    assert_eq!(info.token, info.token.trim());
    assert_eq!(info.token.split('.').count(), 3);
    let debug = format!("{status:?}");
    assert!(!debug.contains(&info.token), "Debug shows the token");
    for now in [
        SystemTime::UNIX_EPOCH,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000),
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 64),
    ] {
        let label = info.label(now);
        assert!(!label.contains(&info.token));
        let expired = info.is_expired(now);
        if info.expires_at.is_none() {
            assert!(!expired);
        }
    }
});
