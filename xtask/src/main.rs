//! Project automation: `cargo xtask <task>`.

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some(other) => bail!("unknown task `{other}`"),
        None => bail!("usage: cargo xtask <task>"),
    }
}
