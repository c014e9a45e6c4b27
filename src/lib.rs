//! osorganic spawns, updates and checks the child repositories of an autonomous AI development system.

pub mod cli;
pub mod commands;
pub mod doctor;
pub mod git;
pub mod printer;
pub mod record;
pub mod template;
pub mod update;
pub mod user_error;
