//! validate-test-child fails for the right reason: each test breaks a copy of `templates/` one way.

use std::path::PathBuf;
use std::sync::Mutex;

use super::{TemplateUnderTest, ValidateOptions, validate_test_child};
use crate::project_root;
use crate::tree_copy::mirror_child_files;

/// The runs share one virtualenv under the target folder: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// A copy of `templates/` whose child template a test then breaks.
struct TemplatesCopy {
    _scratch: tempfile::TempDir,
    root: PathBuf,
}

impl TemplatesCopy {
    fn new() -> Self {
        let scratch = tempfile::tempdir().unwrap();
        let root = scratch.path().join("templates");
        mirror_child_files(&project_root().join("templates"), &root).unwrap();
        Self {
            _scratch: scratch,
            root,
        }
    }

    fn child_template(&self) -> PathBuf {
        self.root.join("child-template")
    }

    fn edit(&self, relative: &str, edit: impl FnOnce(String) -> String) {
        let path = self.root.join(relative);
        let before = std::fs::read_to_string(&path).unwrap();
        let after = edit(before.clone());
        assert_ne!(before, after, "the edit of {relative} changed nothing");
        std::fs::write(path, after).unwrap();
    }

    fn validate(&self) -> String {
        let _serial = SERIAL
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let options = ValidateOptions {
            template: TemplateUnderTest::Folder(self.child_template()),
            test_child: project_root().join("test-child"),
            write: false,
        };
        let error = validate_test_child(&options).expect_err("validation should fail");
        format!("{error:#}")
    }
}

fn replace_once(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not found");
    text.replacen(from, to, 1)
}

#[test]
fn fails_on_a_template_change_that_conflicts_with_the_specialisation() {
    let templates = TemplatesCopy::new();
    // The agents are `seeded` (never touched by an update): merged here, so the template's edit meets the child's.
    templates.edit("child-template/template.toml", |text| {
        replace_once(text, "seeded = [\"src/agents/**\"]", "seeded = []")
    });
    // test-child rewrote this docstring line of its Product Owner; the template now rewrites it too.
    templates.edit("child-template/src/agents/product_owner.py.tera", |text| {
        replace_once(
            text,
            "This file is yours: edit the domain knowledge below as the project learns.",
            "This file belongs to the child: keep its domain knowledge current.",
        )
    });
    let message = templates.validate();
    assert!(
        message.contains("conflicts with test-child's specialisation"),
        "{message}"
    );
    assert!(message.contains("src/agents/product_owner.py"), "{message}");
}

#[test]
fn fails_on_a_template_change_that_breaks_a_python_test() {
    let templates = TemplatesCopy::new();
    templates.edit("child-template/osorganicai/signature.py", |text| {
        replace_once(text, "PREFIX = \"sha256=\"", "PREFIX = \"sha1=\"")
    });
    let message = templates.validate();
    assert!(
        message.contains("test-child (updated copy): pytest"),
        "{message}"
    );
    // The failing step's output comes with the error: pytest names the broken test.
    assert!(
        message.contains("FAILED tests/test_signature.py"),
        "{message}"
    );
}

#[test]
fn fails_on_a_preset_that_does_not_spawn() {
    let templates = TemplatesCopy::new();
    templates.edit("child-template/template.toml", |text| {
        replace_once(text, "\"saas\"]", "\"saas\", \"retail\"]")
    });
    templates.edit("agent-configs/domain.toml.tera", |text| {
        format!("{{% if domain == \"retail\" %}}{{{{ retail_context }}}}{{% endif %}}\n{text}")
    });
    let message = templates.validate();
    assert!(
        message.contains("the `retail` preset does not spawn"),
        "{message}"
    );
    // osorganic's own error, carried in the failing step's output, names the undefined variable.
    assert!(message.contains("retail_context"), "{message}");
}

#[test]
fn python_summary_says_what_ran_where() {
    let tests = super::PythonTests {
        copy: 300,
        presets: vec![
            ("preset-saas".to_string(), 20),
            ("preset-fintech".to_string(), 21),
        ],
    };
    assert_eq!(
        tests.summary(),
        "python: 341 passed, 0 failed (test-child copy: the whole suite, 300; 2 presets: \
         tests/test_agents.py tests/test_packaging.py, 41 in all)"
    );
}

#[test]
fn the_preset_tests_exist_in_the_template() {
    // Each preset runs only these files: a rename in the template must not turn them into "no tests ran".
    for test in super::PRESET_TESTS {
        let path = project_root().join("templates/child-template").join(test);
        assert!(path.is_file(), "`{}` is missing", path.display());
    }
}
