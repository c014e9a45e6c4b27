//! An unfinished update: what `osorganic update` keeps under `.git/osorganic/` while conflicts wait for the user, how
//! it is recognised, and how `--abort` puts the child back exactly as it was.
//!
//! git's own merge state (MERGE_HEAD) is the truth about whether the update is still open: after `git commit` or
//! `git merge --abort` the state file is stale and is removed the next time osorganic looks.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use git2::build::CheckoutBuilder;
use git2::{Oid, Repository, RepositoryState, ResetType};
use serde::{Deserialize, Serialize};

pub use crate::git::TEMPLATE_REF;

/// Everything `--abort` needs to undo an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateState {
    /// HEAD before the update.
    pub orig_head: String,
    /// `refs/osorganic/template` before the update, if it existed.
    pub orig_template_ref: Option<String>,
    /// The new render, MERGE_HEAD of the unfinished merge.
    pub template_commit: String,
    /// Files the update created that HEAD did not have.
    pub added_paths: Vec<String>,
    /// Copies saved beside conflicts (untracked): the template's of a binary file, the child's of a file/folder
    /// conflict.
    pub template_copies: Vec<String>,
}

/// Held while an update writes into the child: a second update (or `--abort`) finds the file and stops, and git's own
/// `index.lock` stops an update before anything is written. Dropping it removes the file.
#[derive(Debug)]
pub struct UpdateLock {
    path: PathBuf,
}

/// Why the child cannot be written now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locked {
    /// Another osorganic update holds the child.
    Update(PathBuf),
    /// A git process holds the index.
    Index(PathBuf),
}

impl UpdateLock {
    /// Takes the lock, or says who holds the child.
    pub fn acquire(repo: &Repository) -> Result<std::result::Result<Self, Locked>> {
        let index_lock = repo.path().join("index.lock");
        if index_lock.exists() {
            return Ok(Err(Locked::Index(index_lock)));
        }
        let path = repo.path().join("osorganic").join("update.lock");
        if let Some(folder) = path.parent() {
            fs::create_dir_all(folder)
                .with_context(|| format!("cannot create `{}`", folder.display()))?;
        }
        if path.exists() && !holder_is_alive(&path) {
            // Left by an update that was killed: its process is gone.
            let _ = fs::remove_file(&path);
        }
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                use std::io::Write;
                let _ = write!(file, "{}", std::process::id());
                Ok(Ok(Self { path }))
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok(Err(Locked::Update(path)))
            }
            Err(error) => Err(error).with_context(|| format!("cannot create `{}`", path.display())),
        }
    }
}

/// Whether the process named in a lock file still runs. Only where `/proc` tells (Linux) is a lock found stale; a
/// lock without a process id, or elsewhere, is taken to be held.
fn holder_is_alive(lock: &Path) -> bool {
    let Ok(text) = fs::read_to_string(lock) else {
        return true;
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return true;
    };
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

impl Drop for UpdateLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Whether something is already going on in the child.
#[derive(Debug)]
pub enum InProgress {
    Nothing,
    /// An update waiting for its conflicts to be resolved.
    Update(UpdateState),
    /// Some other git operation (merge, rebase, cherry-pick...) or unresolved conflicts.
    GitOperation(String),
}

pub fn state_path(repo: &Repository) -> PathBuf {
    repo.path().join("osorganic").join("update.json")
}

pub fn save(repo: &Repository, state: &UpdateState) -> Result<()> {
    let path = state_path(repo);
    if let Some(folder) = path.parent() {
        fs::create_dir_all(folder)
            .with_context(|| format!("cannot create `{}`", folder.display()))?;
    }
    let text = serde_json::to_string_pretty(state)?;
    // Written beside and renamed into place: a process killed meanwhile leaves the old state or the new, never half.
    let partial = path.with_extension("json.partial");
    fs::write(&partial, text).with_context(|| format!("cannot write `{}`", partial.display()))?;
    fs::rename(&partial, &path).with_context(|| format!("cannot write `{}`", path.display()))
}

fn load(repo: &Repository) -> Result<Option<UpdateState>> {
    let path = state_path(repo);
    if !path.exists() {
        return Ok(None);
    }
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let state = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not an update state", path.display()))?;
    Ok(Some(state))
}

/// Removes the state of an update that finished.
pub fn forget(repo: &Repository) -> Result<()> {
    clear(repo)
}

fn clear(repo: &Repository) -> Result<()> {
    let path = state_path(repo);
    match fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove `{}`", path.display()))
        }
        _ => Ok(()),
    }
}

/// Finds an unfinished update or git operation; forgets a state file git has moved past.
pub fn in_progress(repo: &Repository) -> Result<InProgress> {
    if let Some(state) = load(repo)? {
        let merge_head = fs::read_to_string(repo.path().join("MERGE_HEAD")).unwrap_or_default();
        if repo.state() == RepositoryState::Merge && merge_head.trim() == state.template_commit {
            return Ok(InProgress::Update(state));
        }
        clear(repo)?;
    }
    if repo.state() != RepositoryState::Clean {
        return Ok(InProgress::GitOperation(
            format!("{:?}", repo.state()).to_lowercase(),
        ));
    }
    if repo.index()?.has_conflicts() {
        return Ok(InProgress::GitOperation("unresolved conflicts".to_owned()));
    }
    Ok(InProgress::Nothing)
}

/// Puts HEAD, the index, the working tree and the template ref back as they were before the update.
pub fn abort(repo: &Repository, state: &UpdateState) -> Result<()> {
    let workdir = repo
        .workdir()
        .context("the child has no working tree")?
        .to_path_buf();
    for copy in &state.template_copies {
        remove_file(&workdir, copy)?;
    }
    let orig_head = repo.find_commit(Oid::from_str(&state.orig_head)?)?;
    let mut checkout = CheckoutBuilder::new();
    checkout.force();
    repo.reset(orig_head.as_object(), ResetType::Hard, Some(&mut checkout))
        .context("cannot reset the child to its commit before the update")?;
    let orig_tree = orig_head.tree()?;
    for added in &state.added_paths {
        if orig_tree.get_path(Path::new(added)).is_err() {
            remove_file(&workdir, added)?;
        }
    }
    match &state.orig_template_ref {
        Some(id) => {
            repo.reference(
                TEMPLATE_REF,
                Oid::from_str(id)?,
                true,
                "osorganic update --abort",
            )?;
        }
        None => {
            if let Ok(mut reference) = repo.find_reference(TEMPLATE_REF) {
                reference.delete()?;
            }
        }
    }
    repo.cleanup_state()?;
    clear(repo)
}

/// Removes a file the update created, and the folders it leaves empty.
fn remove_file(workdir: &Path, relative: &str) -> Result<()> {
    let path = workdir.join(relative);
    if path.is_file() || path.is_symlink() {
        fs::remove_file(&path).with_context(|| format!("cannot remove `{}`", path.display()))?;
    }
    let mut folder = path.parent();
    while let Some(current) = folder.filter(|current| *current != workdir) {
        if fs::remove_dir(current).is_err() {
            break;
        }
        folder = current.parent();
    }
    Ok(())
}
