//! Golden files: compare output with a reviewed file; `XENCFG_BLESS=1`
//! rewrites them (review the diff before committing).

use std::path::Path;

pub fn assert_golden(path: &Path, actual: &str) {
    if std::env::var_os("XENCFG_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {} (run with XENCFG_BLESS=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "output differs from {}\n--- expected\n{expected}\n--- actual\n{actual}\n(run with XENCFG_BLESS=1 to accept, then review the diff)",
            path.display()
        );
    }
}
