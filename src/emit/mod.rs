//! Emitters: merged DTB, trimmed cfg, manifest, staging, atomic output.
