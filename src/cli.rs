//! The command-line interface: clap types only. Their doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

/// Spawn, update and check the child repositories of an autonomous AI development system.
#[derive(Debug, Parser)]
#[command(name = "osorganic", version, about, propagate_version = true)]
#[command(after_help = "Examples:
  osorganic spawn my-shop --define domain=e-commerce
  osorganic update --from template
  osorganic doctor --json")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new child repository from a template
    Spawn(SpawnArgs),
    /// Bring a child up to a newer template version with a three-way merge
    Update(UpdateArgs),
    /// Check a child before it deploys: Vercel, Supabase, GitHub, runtime, tools, drift
    Doctor(DoctorArgs),
    /// Print shell completions to stdout
    #[command(after_help = "Examples:
  osorganic completions bash > ~/.local/share/bash-completion/completions/osorganic
  osorganic completions zsh > ~/.zfunc/_osorganic")]
    Completions {
        /// The shell to generate completions for
        shell: Shell,
    },
}

/// Arguments of `osorganic spawn`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  osorganic spawn demo --yes
  osorganic spawn shop --yes --define domain=e-commerce --define vercel_plan=pro
  osorganic spawn shop --answers-file answers.toml --dest ~/src/shop
  osorganic spawn demo --template ./my-template --dry-run
  osorganic spawn demo --template https://github.com/acme/osorganic.git --ref v1.2.0")]
pub struct SpawnArgs {
    /// Name of the child: a folder, Vercel project and Python package stem (e.g. `my-shop`)
    pub name: String,

    /// Folder to create [default: ./NAME]
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,

    /// Template to spawn from: `embedded` (built in), a local folder, or a git repository (path or URL)
    #[arg(
        long,
        visible_alias = "from",
        value_name = "SOURCE",
        default_value = "embedded"
    )]
    pub template: String,

    /// Revision to read when SOURCE is a git repository (branch, tag or commit)
    #[arg(long = "ref", visible_alias = "to", value_name = "REV")]
    pub git_ref: Option<String>,

    #[command(flatten)]
    pub answers: AnswerArgs,

    /// TOML file of answers (`key = value` at the top level; --define wins over it)
    #[arg(long, value_name = "FILE")]
    pub answers_file: Option<PathBuf>,

    /// Do not create a git repository
    #[arg(long)]
    pub no_git: bool,

    /// List what would be written, write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `osorganic update`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  osorganic update --from template
  osorganic update --from embedded --yes
  osorganic update --check
  osorganic update --dry-run --json
  osorganic update --define domain=fintech
  osorganic update --abort")]
pub struct UpdateArgs {
    /// Where the new template comes from: `template` (the git remote), `embedded`, a folder, or a git path or URL
    /// [default: the source recorded in .osorganic.toml]
    #[arg(long, visible_alias = "template", value_name = "SOURCE")]
    pub from: Option<String>,

    /// Tag, branch or commit of a git source [default: the remote's default branch head]
    #[arg(long, visible_alias = "ref", value_name = "REV")]
    pub to: Option<String>,

    #[command(flatten)]
    pub answers: AnswerArgs,

    /// Allow a template with another name than the one recorded in .osorganic.toml
    #[arg(long)]
    pub switch_template: bool,

    /// Write nothing; exit 0 when up to date, 1 when behind
    #[arg(long, conflicts_with_all = ["dry_run", "abort"])]
    pub check: bool,

    /// Write nothing; show what would happen to each file
    #[arg(long, conflicts_with = "abort")]
    pub dry_run: bool,

    /// Print the per-file result as JSON on stdout
    #[arg(long)]
    pub json: bool,

    /// Undo an unfinished update, restoring the child as it was before
    #[arg(long)]
    pub abort: bool,

    /// The child to update
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub path: PathBuf,
}

/// The answer flags spawn and update share.
#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// Answer a question, or change an answer on update: KEY=VALUE (repeatable)
    #[arg(long = "define", short = 'd', value_name = "KEY=VALUE")]
    pub defines: Vec<String>,

    /// Accept the default of every question not otherwise answered (on update, never of a secret one: give
    /// those with --define or OSORGANIC_ANSWER_<KEY>)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Arguments of `osorganic doctor`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  osorganic doctor
  osorganic doctor --path ../shop --json
  osorganic doctor --offline --env-file .env")]
pub struct DoctorArgs {
    /// The child to check
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub path: PathBuf,

    /// Print the report as JSON on stdout
    #[arg(long)]
    pub json: bool,

    /// Do not fetch a template remote for the drift check
    #[arg(long)]
    pub offline: bool,

    /// Read environment variables from this file over the environment and the child's `.env`
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
}

/// The command line with `help --help` (or `-h`) read as `--help`: clap's help subcommand takes no flags and would
/// refuse it.
pub fn arguments(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let asks_help_of_help = args.len() > 2
        && args[1] == "help"
        && args[2..].iter().all(|arg| arg == "--help" || arg == "-h");
    if asks_help_of_help {
        vec![args[0].clone(), "--help".into()]
    } else {
        args
    }
}

#[cfg(test)]
mod tests {
    use super::{Cli, arguments};
    use clap::CommandFactory;

    #[test]
    fn help_of_help_is_the_help() {
        let read = |line: &[&str]| -> Vec<String> {
            arguments(line.iter().map(std::ffi::OsString::from))
                .into_iter()
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            read(&["osorganic", "help", "--help"]),
            ["osorganic", "--help"]
        );
        assert_eq!(read(&["osorganic", "help", "-h"]), ["osorganic", "--help"]);
        assert_eq!(
            read(&["osorganic", "help", "spawn"]),
            ["osorganic", "help", "spawn"]
        );
    }

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
