//! Integration tests: the built `osorganic` binary driven through its command line.

mod completions;
mod update;
mod update_env;
