//! Examples live beside this crate manifest; see `quickstart.rs`.
