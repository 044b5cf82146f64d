//! Go-style flags (`-flag`, `-flag=value`, `-flag value`) as both binaries
//! normalise them before clap parses: kiss-server's `normalize_go_flags`
//! and kiss-tui's `options::normalize`. The input is the argument list,
//! separated by NUL bytes.
//!
//! Properties: nothing panics, parsing included; normalising twice is
//! normalising once; the server's normaliser only ever adds a dash to a
//! known flag and leaves everything after `--` alone.

#![no_main]

use std::ffi::OsString;

use clap::Parser;
use kiss_server::config::{Config, normalize_go_flags};
use kiss_tui::options::{Options, normalize, split_bool_value};
use libfuzzer_sys::fuzz_target;

const KNOWN: &[&str] = &[
    "jwks-url",
    "port",
    "host",
    "namespaces-regex",
    "dev",
    "token-path",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let args: Vec<&str> = text.split('\0').collect();
    if args.len() > 64 {
        return;
    }

    // kiss-server
    let once = normalize_go_flags(args.iter().copied(), KNOWN);
    assert_eq!(once.len(), args.len());
    assert_eq!(normalize_go_flags(once.clone(), KNOWN), once);
    let mut after_dashes = false;
    for (arg, out) in args.iter().zip(&once) {
        if after_dashes {
            assert_eq!(out, arg);
        } else {
            assert!(
                out == arg || *out == format!("-{arg}"),
                "{arg:?} became {out:?}"
            );
        }
        after_dashes |= *arg == "--";
    }
    let _ = Config::try_parse_args(std::iter::once("kiss-server").chain(args.iter().copied()));

    // kiss-tui
    let argv = || std::iter::once("kiss-tui").chain(args.iter().copied());
    let once: Vec<OsString> = normalize(argv());
    assert_eq!(
        once.first().map(OsString::as_os_str),
        Some("kiss-tui".as_ref())
    );
    assert!(once.len() <= args.len() + 1);
    assert_eq!(
        normalize(once.clone()),
        once,
        "normalising twice changed {args:?}"
    );
    let _ = split_bool_value(&once);
    let _ = Options::try_parse_from(once);
});
