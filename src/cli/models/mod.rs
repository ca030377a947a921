//! `clawctl models …`.

pub mod status;
