//! osorganic spawns, updates and checks the child repositories of an autonomous AI development system.

pub mod cli;
pub mod commands;
pub mod merge;
pub mod printer;
pub mod update_state;
