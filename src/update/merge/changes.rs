//! What changed on each side since base (paths, and the template's renames), and the three trees with every
//! changed text file as plain LF text, so a merge sees lines, not line endings.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{DiffFindOptions, DiffOptions, ObjectType, Oid, Repository, Tree};

use super::endings::{self, TextStyle};
use super::outcome::{ThreeTrees, blob_entry, file_mode, index_entry, tracked_entry};

/// The paths either side changed since base, and where the template renamed files.
pub(crate) struct ChangedPaths {
    pub paths: BTreeSet<String>,
    /// New path in theirs -> old path in base.
    pub theirs_renames: HashMap<String, String>,
}

impl ChangedPaths {
    pub fn between(repo: &Repository, trees: &ThreeTrees<'_>) -> Result<Self, git2::Error> {
        let mut options = DiffOptions::new();
        options.skip_binary_check(true);
        let mut changes = Self {
            paths: BTreeSet::new(),
            theirs_renames: HashMap::new(),
        };
        let ours =
            repo.diff_tree_to_tree(Some(&trees.base), Some(&trees.ours), Some(&mut options))?;
        let mut theirs =
            repo.diff_tree_to_tree(Some(&trees.base), Some(&trees.theirs), Some(&mut options))?;
        theirs.find_similar(Some(DiffFindOptions::new().renames(true)))?;
        for delta in ours.deltas().chain(theirs.deltas()) {
            // A name that is not UTF-8 never comes from a template (its paths are text): such a file is the
            // child's own, and stays as it is.
            let utf8 = utf8_path;
            let (old_bytes, new_bytes) =
                (delta.old_file().path_bytes(), delta.new_file().path_bytes());
            if old_bytes.is_some() && utf8(old_bytes).is_none()
                || new_bytes.is_some() && utf8(new_bytes).is_none()
            {
                continue;
            }
            let old = utf8(old_bytes).map(str::to_owned);
            let new = utf8(new_bytes).map(str::to_owned);
            if let (git2::Delta::Renamed, Some(old), Some(new)) = (delta.status(), &old, &new) {
                changes.theirs_renames.insert(new.clone(), old.clone());
            }
            changes.paths.extend(old.into_iter().chain(new));
        }
        Ok(changes)
    }
}

impl ChangedPaths {
    /// True when a changed path is a folder in one of the trees, or lies under a path that is a file in one:
    /// merging such a change needs the paths around it, so it is merged on the whole trees.
    pub fn cross_a_folder(&self, trees: &ThreeTrees<'_>) -> bool {
        let all = [&trees.base, &trees.ours, &trees.theirs];
        self.paths.iter().any(|path| {
            let is_folder = all.iter().any(|tree| {
                tree.get_path(Path::new(path))
                    .is_ok_and(|entry| entry.kind() == Some(ObjectType::Tree))
            });
            let under_a_file = Path::new(path).ancestors().skip(1).any(|folder| {
                !folder.as_os_str().is_empty()
                    && all.iter().any(|tree| {
                        tree.get_path(folder)
                            .is_ok_and(|entry| entry.kind() != Some(ObjectType::Tree))
                    })
            });
            is_folder || under_a_file
        })
    }

    /// The three trees cut down to the changed paths.
    pub fn scope<'repo>(
        &self,
        repo: &'repo Repository,
        trees: &ThreeTrees<'repo>,
    ) -> Result<ThreeTrees<'repo>, git2::Error> {
        let only_changed = |tree: &Tree<'repo>| -> Result<Tree<'repo>, git2::Error> {
            let mut index = git2::Index::new()?;
            for path in &self.paths {
                if let Some(entry) = tracked_entry(tree, path) {
                    index.add(&index_entry(path, entry, 0))?;
                }
            }
            repo.find_tree(index.write_tree_to(repo)?)
        };
        Ok(ThreeTrees {
            base: only_changed(&trees.base)?,
            ours: only_changed(&trees.ours)?,
            theirs: only_changed(&trees.theirs)?,
        })
    }
}

/// The three trees with every changed text file as plain LF text without a BOM, so line endings never conflict.
pub(crate) struct NormalisedTrees<'repo> {
    pub base: Tree<'repo>,
    pub ours: Tree<'repo>,
    pub theirs: Tree<'repo>,
    /// Original blob -> normalised blob, for the blobs that changed.
    pub normalised_ids: HashMap<Oid, Oid>,
    /// The style of every original blob read.
    pub styles: HashMap<Oid, TextStyle>,
}

impl<'repo> NormalisedTrees<'repo> {
    pub fn build(
        repo: &'repo Repository,
        trees: &ThreeTrees<'repo>,
        changes: &ChangedPaths,
    ) -> Result<Self, git2::Error> {
        let mut normalised_ids = HashMap::new();
        let mut styles = HashMap::new();
        let mut normalise_tree = |tree: &Tree<'repo>| -> Result<Tree<'repo>, git2::Error> {
            let mut updates = TreeUpdateBuilder::new();
            let mut updated = false;
            for path in &changes.paths {
                let Some(entry) = blob_entry(tree, path) else {
                    continue;
                };
                let style = match styles.get(&entry.id) {
                    Some(style) => *style,
                    None => {
                        let blob = repo.find_blob(entry.id)?;
                        let style = TextStyle::of(blob.content());
                        styles.insert(entry.id, style);
                        if !style.is_plain() {
                            let plain = repo.blob(&endings::normalise(blob.content()))?;
                            normalised_ids.insert(entry.id, plain);
                        }
                        style
                    }
                };
                if !style.is_plain() {
                    updates.upsert(
                        path.as_str(),
                        normalised_ids[&entry.id],
                        file_mode(entry.mode),
                    );
                    updated = true;
                }
            }
            if !updated {
                return Ok(tree.clone());
            }
            let id = updates.create_updated(repo, tree)?;
            repo.find_tree(id)
        };
        let base = normalise_tree(&trees.base)?;
        let ours = normalise_tree(&trees.ours)?;
        let theirs = normalise_tree(&trees.theirs)?;
        Ok(Self {
            base,
            ours,
            theirs,
            normalised_ids,
            styles,
        })
    }

    /// The normalised id of an original blob (the same id when it needed no change).
    pub fn normalised(&self, id: Oid) -> Oid {
        self.normalised_ids.get(&id).copied().unwrap_or(id)
    }

    pub fn style(&self, id: Oid) -> TextStyle {
        self.styles.get(&id).copied().unwrap_or_default()
    }
}

/// A path as text, when it is UTF-8.
fn utf8_path(bytes: Option<&[u8]>) -> Option<&str> {
    bytes.and_then(|bytes| std::str::from_utf8(bytes).ok())
}
