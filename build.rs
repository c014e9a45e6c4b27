//! Rebuilds the binary whenever anything under `templates/` changes, so the embedded template is never stale
//! (include_dir does not notice new files by itself), and lists the executable files of `templates/`: include_dir
//! keeps contents only, and a spawned child must keep its scripts' executable bit.

use std::fs;
use std::io;
use std::path::Path;

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed=templates");
    let mut executables = Vec::new();
    collect_executables(Path::new("templates"), "", &mut executables)?;
    executables.sort();
    let out_dir = std::env::var("OUT_DIR").map_err(io::Error::other)?;
    let mut listing = executables.join("\n");
    listing.push('\n');
    fs::write(
        Path::new(&out_dir).join("embedded_executables.txt"),
        listing,
    )
}

fn collect_executables(folder: &Path, prefix: &str, found: &mut Vec<String>) -> io::Result<()> {
    if !folder.is_dir() {
        return Ok(());
    }
    for entry in fs::read_dir(folder)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = format!("{prefix}{name}");
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            collect_executables(&entry.path(), &format!("{relative}/"), found)?;
        } else if file_type.is_file() && is_executable(&entry.metadata()?) {
            found.push(relative);
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(metadata: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_metadata: &fs::Metadata) -> bool {
    false
}
