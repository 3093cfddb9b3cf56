//! Measures `hash_file` and `hash_files` throughput on files given on the
//! command line, to compare with `sha256sum` (spec §6):
//! `cargo run --release --example hash_throughput -- FILE...`

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let total: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let mib = total as f64 / f64::from(1 << 20);

    let start = Instant::now();
    for path in &paths {
        match xencfg::load::hash::hash_file(path) {
            Ok(facts) => println!("{}  {}", facts.sha256.unwrap_or_default(), path.display()),
            Err(e) => eprintln!("{e}"),
        }
    }
    let one_by_one = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let failed = xencfg::load::hash::hash_files(&paths)
        .iter()
        .filter(|r| r.is_err())
        .count();
    let parallel = start.elapsed().as_secs_f64();

    println!(
        "{mib:.0} MiB: hash_file {:.0} MiB/s, hash_files {:.0} MiB/s ({failed} failed)",
        mib / one_by_one,
        mib / parallel
    );
}
