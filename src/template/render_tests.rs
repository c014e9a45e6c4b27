//! Unit tests of rendering: .tera files, verbatim copies, templated paths and Tera error messages.

use std::path::Path;

use super::*;
use crate::template::answers::{AnswerLayer, Unanswered, resolve};
use crate::template::source::{SourceSpec, load};

fn write(root: &Path, path: &str, text: &str) {
    let target = root.join(path);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(target, text).unwrap();
}

const MANIFEST: &str = r#"
[template]
name = "t"
version = "1.0.0"

[questions.pkg]
type = "string"
default = "{{ python_name }}"

[questions.use_x]
type = "bool"
default = false

[files]
exclude = ["notes/**"]

[[include]]
from = "../part"
to = "config"
"#;

/// A template folder at `<tmp>/tpl` with a part at `<tmp>/part`, loaded from `<tmp>`'s layout.
fn template(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    write(
        folder.path(),
        "templates/child-template/template.toml",
        MANIFEST,
    );
    write(
        folder.path(),
        "templates/part/settings.toml.tera",
        "name = \"{{ project_name }}\"\n",
    );
    for (path, text) in extra {
        write(
            folder.path(),
            &format!("templates/child-template/{path}"),
            text,
        );
    }
    folder
}

fn render_with(folder: &Path, defines: &[&str]) -> Result<RenderedTree, RenderError> {
    let source = load(&SourceSpec::Folder(folder.to_path_buf())).unwrap();
    let child = ChildName::parse("my-shop").unwrap();
    let layer =
        AnswerLayer::from_defines(&defines.iter().map(|d| d.to_string()).collect::<Vec<_>>())
            .unwrap();
    let answers = resolve(&source.manifest, &child, &[layer], Unanswered::UseDefaults).unwrap();
    render(&source, &answers, &child)
}

fn text(tree: &RenderedTree, path: &str) -> String {
    String::from_utf8(
        tree.get(path)
            .unwrap_or_else(|| panic!("no `{path}`"))
            .contents
            .clone(),
    )
    .unwrap()
}

#[test]
fn tera_files_render_and_others_are_copied_verbatim() {
    let folder = template(&[
        (
            "README.md.tera",
            "# {{ project_name }} v{{ template_version }}\n",
        ),
        ("ci.yml", "token: ${{ secrets.X }} {{ not_rendered }}\n"),
        (
            "raw.yml.tera",
            "{% raw %}${{ github.ref }}{% endraw %} {{ python_name }}\n",
        ),
    ]);
    let tree = render_with(folder.path(), &[]).unwrap();
    assert_eq!(text(&tree, "README.md"), "# my-shop v1.0.0\n");
    assert_eq!(
        text(&tree, "ci.yml"),
        "token: ${{ secrets.X }} {{ not_rendered }}\n"
    );
    assert_eq!(text(&tree, "raw.yml"), "${{ github.ref }} my_shop\n");
    assert!(!tree.contains("template.toml"));
}

#[test]
fn parts_land_where_the_include_says() {
    let tree = render_with(template(&[]).path(), &[]).unwrap();
    assert_eq!(text(&tree, "config/settings.toml"), "name = \"my-shop\"\n");
}

#[test]
fn path_segments_render_and_empty_ones_skip() {
    let folder = template(&[
        ("src/{{ pkg }}/__init__.py", ""),
        ("{% if use_x %}x.toml{% endif %}", "x"),
        ("{% if use_x %}extra{% endif %}/inside.txt", "y"),
    ]);
    let without = render_with(folder.path(), &[]).unwrap();
    assert!(without.contains("src/my_shop/__init__.py"));
    assert!(
        !without
            .paths()
            .any(|path| path.contains("x.toml") || path.contains("inside.txt"))
    );
    let with = render_with(folder.path(), &["use_x=true", "pkg=app"]).unwrap();
    assert!(
        with.contains("x.toml")
            && with.contains("extra/inside.txt")
            && with.contains("src/app/__init__.py")
    );
}

#[test]
fn excluded_paths_are_not_rendered() {
    let tree = render_with(
        template(&[("notes/a.md", "a"), ("keep.md", "k")]).path(),
        &[],
    )
    .unwrap();
    assert!(tree.contains("keep.md") && !tree.contains("notes/a.md"));
}

#[test]
fn an_undefined_variable_names_file_line_and_variable() {
    let folder = template(&[("README.md.tera", "line one\n\nhello {{ nope }}\n")]);
    let error = render_with(folder.path(), &[]).unwrap_err();
    assert_eq!(
        error,
        RenderError::Template {
            template: "templates/child-template/README.md.tera".into(),
            line: Some(3),
            message: "variable `nope` is not defined".into(),
        }
    );
}

#[test]
fn a_syntax_error_names_file_and_line() {
    let folder = template(&[("bad.txt.tera", "ok\n{% if %}\n")]);
    let error = render_with(folder.path(), &[]).unwrap_err();
    let RenderError::Template { template, line, .. } = &error else {
        panic!("unexpected {error}");
    };
    assert_eq!(template, "templates/child-template/bad.txt.tera");
    assert_eq!(*line, Some(2));
}

#[test]
fn two_files_on_one_path_are_refused() {
    let folder = template(&[("a.txt", "plain"), ("a.txt.tera", "rendered")]);
    let error = render_with(folder.path(), &[]).unwrap_err();
    assert!(
        matches!(error, RenderError::Collision { ref child_path, .. } if child_path == "a.txt"),
        "{error}"
    );
}

#[test]
fn a_segment_rendering_to_a_path_is_refused() {
    let folder = template(&[("{{ pkg }}.txt", "x")]);
    let error = render_with(folder.path(), &["pkg=../up"]).unwrap_err();
    assert!(matches!(error, RenderError::Path { .. }), "{error}");
}

#[cfg(unix)]
#[test]
fn the_executable_bit_is_kept() {
    use std::os::unix::fs::PermissionsExt;
    let folder = template(&[("run.sh", "#!/bin/sh\n")]);
    let script = folder.path().join("templates/child-template/run.sh");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tree = render_with(folder.path(), &[]).unwrap();
    assert!(tree.get("run.sh").unwrap().executable);
    assert!(!tree.get("config/settings.toml").unwrap().executable);
}

#[test]
fn the_embedded_template_renders_with_defaults() {
    let source = load(&SourceSpec::Embedded).unwrap();
    let child = ChildName::parse("demo").unwrap();
    let answers = resolve(&source.manifest, &child, &[], Unanswered::UseDefaults).unwrap();
    let tree = render(&source, &answers, &child).unwrap();
    assert!(!tree.is_empty());
    assert!(
        tree.paths()
            .all(|path| !path.ends_with(".tera") && !path.ends_with("template.toml"))
    );
}
