//! `osorganic spawn`: create a child repository from a template. Arguments are resolved once, the template is
//! loaded, answered and rendered in memory, then written into a temporary sibling of the destination, committed
//! there, and renamed into place: a failure or Ctrl-C at any point leaves nothing behind.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use console::style;
use tempfile::TempDir;

use super::exit_status::ExitStatus;
use crate::cli::SpawnArgs;
use crate::git;
use crate::printer::Printer;
use crate::record::{ChildRecord, RECORD_FILE, render_commit};
use crate::template::prompt::TerminalPrompter;
use crate::template::{
    self, AnswerLayer, Answers, ChildName, RenderedTree, SourceKind, SourceSpec, TemplateSource,
    Unanswered,
};
use crate::user_error::UserError;

/// Set by the Ctrl-C handler; checked before each file and each step so the staging folder is dropped cleanly.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// What to do with questions no flag answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AskMode {
    Prompt,
    Defaults,
    Refuse,
}

/// `SpawnArgs` resolved before any I/O on the destination.
struct SpawnOptions {
    name: ChildName,
    destination: PathBuf,
    source: SourceSpec,
    layers: Vec<AnswerLayer>,
    ask: AskMode,
    git: bool,
    dry_run: bool,
}

pub fn spawn(args: SpawnArgs, printer: &Printer) -> Result<ExitStatus> {
    let options = resolve_options(args)?;
    check_destination(&options.destination)?;
    let source = template::load(&options.source).context("could not load the template")?;
    install_interrupt_handler();
    let answers = answer_questions(&source, &options)?;
    let rendered = template::render(&source, &answers, &options.name)
        .context("could not render the template")?;
    let record = ChildRecord::new(
        options.name.project_name(),
        &source.manifest,
        &source.origin,
        &answers,
    );
    if options.dry_run {
        report_dry_run(printer, &options, &rendered)?;
        return Ok(ExitStatus::Success);
    }
    WRITING.store(true, Ordering::SeqCst);
    if let Some(parent) = options.destination.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("could not create the folder `{}`", parent.display()))?;
    }
    let staging = create_staging(&options.destination)?;
    write_child(staging.path(), &rendered, &record, &source, options.git)?;
    move_into_place(staging, &options.destination)?;
    report_spawned(printer, &options, &source, &rendered);
    Ok(ExitStatus::Success)
}

fn resolve_options(args: SpawnArgs) -> Result<SpawnOptions> {
    let name = ChildName::parse(&args.name)?;
    let destination = std::path::absolute(
        args.dest
            .unwrap_or_else(|| PathBuf::from(name.project_name())),
    )
    .context("could not resolve the destination folder")?;
    let source = SourceSpec::parse(&args.template, args.git_ref.as_deref())?;
    let mut layers = vec![AnswerLayer::from_defines(&args.answers.defines)?];
    if let Some(path) = &args.answers_file {
        layers.push(read_answers_file(path)?);
    }
    let ask = if args.answers.yes {
        AskMode::Defaults
    } else if TerminalPrompter::available() {
        AskMode::Prompt
    } else {
        AskMode::Refuse
    };
    Ok(SpawnOptions {
        name,
        destination,
        source,
        layers,
        ask,
        git: !args.no_git,
        dry_run: args.dry_run,
    })
}

fn read_answers_file(path: &Path) -> Result<AnswerLayer> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("could not read answers file `{}`", path.display()))?;
    let values: toml::Table = toml::from_str(&text)
        .with_context(|| format!("answers file `{}` is not valid TOML", path.display()))?;
    Ok(AnswerLayer::new(
        format!("answers file `{}`", path.display()),
        values,
    ))
}

/// The destination must be absent or an empty folder; missing parent folders are created when the child is
/// written, but no ancestor may be a file.
fn check_destination(destination: &Path) -> Result<()> {
    let shown = destination.display();
    let elsewhere = "name another folder with `--dest DIR`, or another child name";
    if destination.exists() && !destination.is_dir() {
        return Err(UserError::usage(format!(
            "`{shown}` is a file, not a folder: choose a folder that does not exist or is empty"
        ))
        .with_hint(elsewhere)
        .into());
    }
    if destination.exists() {
        let empty = fs::read_dir(destination)
            .with_context(|| format!("could not read `{shown}`"))?
            .next()
            .is_none();
        if !empty {
            return Err(UserError::usage(format!(
                "`{shown}` already exists and is not an empty folder"
            ))
            .with_hint(elsewhere)
            .into());
        }
    }
    let Some(parent) = destination.parent() else {
        return Err(
            UserError::usage(format!("`{shown}` cannot be a child's folder"))
                .with_hint(elsewhere)
                .into(),
        );
    };
    if let Some(file) = parent.ancestors().find(|ancestor| ancestor.is_file()) {
        return Err(UserError::usage(format!(
            "`{}` is a file, so `{shown}` cannot be created inside it",
            file.display()
        ))
        .with_hint(elsewhere)
        .into());
    }
    Ok(())
}

fn answer_questions(source: &TemplateSource, options: &SpawnOptions) -> Result<Answers> {
    let prompter = TerminalPrompter::new();
    let unanswered = match options.ask {
        AskMode::Prompt => Unanswered::Prompt(&prompter),
        AskMode::Defaults => Unanswered::UseDefaults,
        AskMode::Refuse => Unanswered::Refuse,
    };
    Ok(template::resolve(
        &source.manifest,
        &options.name,
        &options.layers,
        unanswered,
    )?)
}

/// Whether the child is being written: Ctrl-C then stops the spawn between two files.
static WRITING: AtomicBool = AtomicBool::new(false);

/// Ctrl-C while the questions are asked ends the spawn with the terminal's cursor shown again (a choice menu
/// hides it); once writing has started it stops the spawn between two files instead of killing it mid-write.
fn install_interrupt_handler() {
    // Fails only when a handler is already installed, which then keeps doing the same job.
    let _ = ctrlc::set_handler(|| {
        if WRITING.load(Ordering::SeqCst) {
            INTERRUPTED.store(true, Ordering::SeqCst);
        } else {
            let _ = console::Term::stderr().show_cursor();
            let _ = console::Term::stdout().show_cursor();
            eprintln!();
            std::process::exit(130);
        }
    });
}

fn check_interrupted() -> std::io::Result<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "interrupted (Ctrl-C)",
        ))
    } else {
        Ok(())
    }
}

/// A hidden folder next to the destination, so the final rename stays on one file system.
fn create_staging(destination: &Path) -> Result<TempDir> {
    let parent = destination.parent().unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".osorganic-spawn-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The umask still applies, as for any folder the user creates.
        builder.permissions(fs::Permissions::from_mode(0o777));
    }
    builder.tempdir_in(parent).with_context(|| {
        format!(
            "could not create a temporary folder in `{}`",
            parent.display()
        )
    })
}

/// Writes the rendered files and the record, then (unless `--no-git`) the repository with commits P and M.
fn write_child(
    folder: &Path,
    rendered: &RenderedTree,
    record: &ChildRecord,
    source: &TemplateSource,
    with_git: bool,
) -> Result<()> {
    rendered
        .write_to(folder, check_interrupted)
        .context("could not write the child's files")?;
    let mut record = record.clone();
    if with_git {
        commit_child(folder, rendered, &mut record, source)
            .context("could not create the child's git repository")?;
    } else {
        record.write(folder)?;
    }
    Ok(check_interrupted()?)
}

/// P: the pristine render on `refs/osorganic/template`; M on `main`: P's tree plus `.osorganic.toml` naming P.
fn commit_child(
    folder: &Path,
    rendered: &RenderedTree,
    record: &mut ChildRecord,
    source: &TemplateSource,
) -> Result<()> {
    let repository = git::init(folder)?;
    let child_tree = git::write_objects_packed(&repository, || {
        let pristine_tree = git::tree_from(&repository, rendered.git_files())?;
        let template_info = &source.manifest.template;
        let pristine = git::commit(
            &repository,
            Some(git::TEMPLATE_REF),
            &render_commit::message(record),
            pristine_tree,
            &[],
        )?;
        record.template.base = Some(pristine.to_string());
        let record_blob = repository.blob(record.to_toml_string().as_bytes())?;
        let mut builder = repository.treebuilder(Some(&repository.find_tree(pristine_tree)?))?;
        builder.insert(RECORD_FILE, record_blob, i32::from(git2::FileMode::Blob))?;
        let child_tree = builder.write()?;
        let message = format!(
            "Spawn {} from {} {}",
            record.name, template_info.name, template_info.version
        );
        git::commit(&repository, Some("HEAD"), &message, child_tree, &[pristine])?;
        Ok(child_tree)
    })?;
    check_interrupted()?;
    record.write(folder)?;
    git::sync_index(&repository, child_tree)?;
    if source.origin.kind == SourceKind::Git {
        git::add_template_remote(&repository, &source.origin.source)?;
    }
    Ok(())
}

/// Renames the staging folder onto the destination; on failure the staging folder is removed with `staging`.
fn move_into_place(staging: TempDir, destination: &Path) -> Result<()> {
    check_interrupted()?;
    if destination.is_dir() {
        // An empty destination folder is replaced; rename(2) does that only for empty folders.
        fs::remove_dir(destination)
            .with_context(|| format!("could not replace `{}`", destination.display()))?;
    }
    fs::rename(staging.path(), destination)
        .with_context(|| format!("could not move the child into `{}`", destination.display()))?;
    let _moved = staging.keep();
    Ok(())
}

/// `--dry-run`: the paths that would be written, on stdout (data), and a summary on stderr.
fn report_dry_run(
    printer: &Printer,
    options: &SpawnOptions,
    rendered: &RenderedTree,
) -> Result<()> {
    let mut paths: Vec<&str> = rendered.paths().collect();
    paths.push(RECORD_FILE);
    paths.sort_unstable();
    let mut stdout = std::io::stdout().lock();
    for path in &paths {
        writeln!(stdout, "{path}").context("cannot write the list of files")?;
    }
    let git = if options.git {
        ", committed on `main`"
    } else {
        ""
    };
    printer.status(
        "Would spawn",
        format!(
            "`{}`: {}{git} (dry run, nothing written)",
            options.destination.display(),
            crate::printer::count(paths.len(), "file")
        ),
    );
    Ok(())
}

fn report_spawned(
    printer: &Printer,
    options: &SpawnOptions,
    source: &TemplateSource,
    rendered: &RenderedTree,
) {
    let file_count = rendered.len() + 1;
    let template_info = &source.manifest.template;
    let git = if options.git {
        ", committed on `main`"
    } else {
        ""
    };
    printer.status(
        "Spawned",
        format!(
            "`{}` from {} {} ({}): {}{git}",
            options.name,
            template_info.name,
            template_info.version,
            source.origin.source,
            crate::printer::count(file_count, "file")
        ),
    );
    let folder = relative_to_current(&options.destination);
    printer.info(format!("{}", style("Next steps:").bold()));
    printer.info(format!("  cd {}", folder.display()));
    if rendered.contains(".env.example") {
        printer.info(
            "  cp .env.example .env      # then fill in the secrets (README.md explains each)",
        );
    }
    printer.info(
        "  osorganic doctor          # check Vercel, Supabase and GitHub settings before deploying",
    );
}

fn relative_to_current(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|current| path.strip_prefix(current).ok().map(Path::to_path_buf))
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
}
