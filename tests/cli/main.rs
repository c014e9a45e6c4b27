//! Integration tests: the built `osorganic` binary driven through its command line.

mod completions;
mod doctor;
mod doctor_settings;
mod help;
mod hermetic;
mod reports;
mod spawn;
mod spawn_interrupt;
mod spawn_templates;
mod support;
mod symlinks;
mod template_sync;
mod update;
mod update_attributes;
mod update_base;
mod update_conflicts;
mod update_crash;
mod update_env;
mod update_exit;
mod update_identity;
mod update_lost_data;
mod update_ownership;
mod update_rebuild;
