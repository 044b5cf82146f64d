//! Compiles the protos with protox, so no system `protoc` is needed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let descriptors = protox::compile(["kiss.proto"], ["proto"])?;
    std::fs::write(
        out_dir.join("kiss_descriptor.bin"),
        protox::prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;

    // The Go client's contract, client only, for compatibility tests.
    let legacy_dir = out_dir.join("legacy");
    std::fs::create_dir_all(&legacy_dir)?;
    let legacy = protox::compile(["kiss.proto"], ["proto/legacy"])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .out_dir(&legacy_dir)
        .compile_fds(legacy)?;
    Ok(())
}
