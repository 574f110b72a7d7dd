//! Helpers shared by this crate's integration tests (each test file says `mod common;`).
//! Not every test file uses every helper.
#![allow(dead_code)]

pub(crate) mod redis;
