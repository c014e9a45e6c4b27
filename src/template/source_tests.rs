//! Unit tests of template sources: embedded, folder and git trees, includes and their limits.

use super::*;

fn write(root: &Path, path: &str, text: &str) {
    let target = root.join(path);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(target, text).unwrap();
}

const MANIFEST: &str = "[template]\nname = \"t\"\nversion = \"1.0.0\"\n";

#[test]
fn the_embedded_template_loads_with_its_parts() {
    let source = load(&SourceSpec::Embedded).unwrap();
    assert_eq!(source.root, "child-template");
    assert_eq!(source.origin.kind, SourceKind::Embedded);
    assert_eq!(source.manifest.template.name, "child-template");
    assert!(
        source
            .parts
            .iter()
            .any(|part| part.child_path == ".github/workflows")
    );
    assert!(
        source
            .files
            .keys()
            .all(|path| !path.contains("__pycache__") && !path.ends_with(".pyc"))
    );
}

#[test]
fn a_project_copy_is_found_under_templates() {
    let folder = tempfile::tempdir().unwrap();
    write(
        folder.path(),
        "templates/child-template/template.toml",
        &format!("{MANIFEST}[[include]]\nfrom = \"../part\"\nto = \"x\"\n"),
    );
    write(folder.path(), "templates/part/a.txt", "a");
    write(folder.path(), "templates/part/__pycache__/a.pyc", "junk");
    let source = load(&SourceSpec::Folder(folder.path().to_path_buf())).unwrap();
    assert_eq!(source.root, "templates/child-template");
    assert_eq!(source.parts[1].tree_path, "templates/part");
    assert_eq!(source.parts[1].child_path, "x");
    assert!(source.files.contains_key("templates/part/a.txt"));
    assert!(!source.files.keys().any(|path| path.contains("__pycache__")));
}

#[test]
fn an_include_that_escapes_the_tree_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    write(
        folder.path(),
        "template.toml",
        &format!("{MANIFEST}[[include]]\nfrom = \"../outside\"\n"),
    );
    let error = load(&SourceSpec::Folder(folder.path().to_path_buf())).unwrap_err();
    assert!(
        matches!(error, SourceError::IncludeEscapes { .. }),
        "{error}"
    );
}

#[test]
fn a_missing_include_names_it() {
    let folder = tempfile::tempdir().unwrap();
    write(
        folder.path(),
        "template.toml",
        &format!("{MANIFEST}[[include]]\nfrom = \"parts/none\"\n"),
    );
    let error = load(&SourceSpec::Folder(folder.path().to_path_buf())).unwrap_err();
    assert!(error.to_string().contains("parts/none"), "{error}");
}

#[test]
fn include_paths_normalise_inside_the_tree() {
    assert_eq!(resolve_include_path("a/b", "../c").unwrap(), "a/c");
    assert_eq!(resolve_include_path("a", "./x/../y").unwrap(), "a/y");
    assert!(resolve_include_path("a", "../../c").is_err());
    assert!(resolve_include_path("", "/etc").is_err());
}

#[test]
fn source_specs_parse_by_shape() {
    assert_eq!(
        SourceSpec::parse("embedded", None).unwrap(),
        SourceSpec::Embedded
    );
    assert!(matches!(
        SourceSpec::parse("embedded", Some("v1")),
        Err(SourceError::RefWithoutGit(_))
    ));
    assert!(matches!(
        SourceSpec::parse("https://example.com/t.git", None).unwrap(),
        SourceSpec::Git { rev: None, .. }
    ));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().to_string_lossy().into_owned();
    assert!(matches!(
        SourceSpec::parse(&path, None).unwrap(),
        SourceSpec::Folder(_)
    ));
    assert!(matches!(
        SourceSpec::parse(&path, Some("main")).unwrap(),
        SourceSpec::Git { rev: Some(_), .. }
    ));
    assert!(matches!(
        SourceSpec::parse("/no/such/folder", None),
        Err(SourceError::NotFound(_))
    ));
}
