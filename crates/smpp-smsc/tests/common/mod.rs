//! Shared by the virtual-clock test files (each includes it with `mod common;`).
#![allow(dead_code, unreachable_pub)]

pub mod rig;
