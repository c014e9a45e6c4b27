//! Rebuilds the binary whenever anything under `templates/` changes, so the embedded template is never stale.

fn main() {
    println!("cargo:rerun-if-changed=templates");
}
