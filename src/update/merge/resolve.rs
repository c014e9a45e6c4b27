//! Turns what `merge_trees` produced on the normalised trees into the child's result: original bytes and line
//! endings back for resolved files, and the policy for each conflict (trivial by blob id, binary, markers).

use git2::{IndexConflict, IndexEntry, MergeFileInput, MergeFileOptions, Repository};

use super::changes::{ChangedPaths, NormalisedTrees};
use super::endings::{self, TextStyle};
use super::outcome::{
    Conflict, ConflictKind, Entry, Labels, StageEntry, ThreeTrees, blob_entry, file_mode, free_path,
};

pub(super) enum Resolution {
    /// A conflict `merge_trees` reported that the policy resolves: this entry at this path.
    Take(String, Entry),
    /// Resolved as a deletion.
    Remove,
    Conflict(Box<Conflict>),
}

pub(super) struct Resolver<'a, 'repo> {
    pub repo: &'repo Repository,
    pub trees: &'a ThreeTrees<'repo>,
    pub changes: &'a ChangedPaths,
    pub normalised: &'a NormalisedTrees<'repo>,
    pub labels: &'a Labels,
}

impl Resolver<'_, '_> {
    /// The final entry for a path `merge_trees` resolved: the original blob when the result is one side's file, the
    /// merged text in the child's style otherwise.
    pub fn restore(&self, path: &str, merged: Entry) -> Result<Entry, git2::Error> {
        let ours = blob_entry(&self.trees.ours, path);
        let theirs = blob_entry(&self.trees.theirs, path);
        // A file the child never changed takes the template's bytes as they are: a change of line endings or BOM
        // alone is a change too, though the merge of normalised text cannot see it.
        let base = blob_entry(&self.trees.base, path);
        if let (Some(ours), Some(base), Some(theirs)) = (ours, base, theirs) {
            if ours == base && self.normalised.normalised(theirs.id) == merged.id {
                return Ok(Entry {
                    id: theirs.id,
                    mode: merged.mode,
                });
            }
        }
        let style = self.target_style(path, ours, theirs);
        if let Some(ours) = ours.filter(|ours| self.normalised.normalised(ours.id) == merged.id) {
            return Ok(Entry {
                id: ours.id,
                mode: merged.mode,
            });
        }
        if let Some(theirs) = theirs.filter(|theirs| {
            self.normalised.normalised(theirs.id) == merged.id
                && self.normalised.style(theirs.id) == style
        }) {
            return Ok(Entry {
                id: theirs.id,
                mode: merged.mode,
            });
        }
        if style.is_plain() {
            return Ok(merged);
        }
        let blob = self.repo.find_blob(merged.id)?;
        if endings::is_binary(blob.content()) {
            return Ok(merged);
        }
        let id = self
            .repo
            .blob(&endings::apply_style(blob.content(), style))?;
        Ok(Entry {
            id,
            mode: merged.mode,
        })
    }

    /// The child's conventions for a path: its own file's, or the file the template renamed to it, or else the
    /// template's.
    fn target_style(&self, path: &str, ours: Option<Entry>, theirs: Option<Entry>) -> TextStyle {
        let renamed_from = self
            .changes
            .theirs_renames
            .get(path)
            .and_then(|old| blob_entry(&self.trees.ours, old));
        match ours.or(renamed_from).or(theirs) {
            Some(entry) => self.style_of(entry.id),
            None => TextStyle::default(),
        }
    }

    fn style_of(&self, id: git2::Oid) -> TextStyle {
        match self.normalised.styles.get(&id) {
            Some(style) => *style,
            None => self
                .repo
                .find_blob(id)
                .map(|blob| TextStyle::of(blob.content()))
                .unwrap_or_default(),
        }
    }

    /// The policy for one conflict `merge_trees` left.
    pub fn resolve(&self, conflict: &IndexConflict) -> Result<Resolution, git2::Error> {
        let ancestor = conflict
            .ancestor
            .as_ref()
            .map(|entry| original(entry, &self.trees.base));
        let ours = conflict
            .our
            .as_ref()
            .map(|entry| original(entry, &self.trees.ours));
        let theirs = conflict
            .their
            .as_ref()
            .map(|entry| original(entry, &self.trees.theirs));
        let renamed_from = theirs
            .as_ref()
            .and_then(|stage| self.changes.theirs_renames.get(&stage.path));
        let (ancestor, ours) = match (renamed_from, &theirs) {
            (Some(old), Some(their_stage)) => self.follow_rename(old, their_stage, ancestor, ours),
            _ => (ancestor, ours),
        };
        // A file the child deleted and the template renamed is a rename/delete conflict, as git reports it.
        let renamed_and_deleted = renamed_from.is_some() && ours.is_none();
        if !renamed_and_deleted {
            if let Some(resolution) = trivial(ancestor.as_ref(), ours.as_ref(), theirs.as_ref()) {
                return Ok(resolution);
            }
        }
        let path = match (renamed_from, &theirs) {
            (Some(_), Some(their_stage)) => their_stage.path.clone(),
            _ => ours
                .as_ref()
                .or(theirs.as_ref())
                .or(ancestor.as_ref())
                .map(|stage| stage.path.clone())
                .unwrap_or_default(),
        };
        // A symlink's blob is its target and a gitlink has no blob: neither is ever text-merged, so no marker
        // lands in a link.
        let not_a_file = |stage: &&StageEntry| matches!(stage.entry.mode, 0o120000 | 0o160000);
        let link = [&ancestor, &ours, &theirs]
            .into_iter()
            .flatten()
            .any(|stage| not_a_file(&stage));
        let binary = link
            || self.marked_binary(&path)
            || [&ancestor, &ours, &theirs]
                .into_iter()
                .flatten()
                .map(|stage| {
                    self.repo
                        .find_blob(stage.entry.id)
                        .map(|blob| endings::is_binary(blob.content()))
                })
                .collect::<Result<Vec<bool>, _>>()?
                .contains(&true);
        let mut result = Conflict {
            path: path.clone(),
            kind: ConflictKind::Content,
            worktree: ours
                .as_ref()
                .or(theirs.as_ref())
                .map(|stage| stage.entry)
                .unwrap_or(Entry {
                    id: git2::Oid::ZERO_SHA1,
                    mode: 0o100644,
                }),
            template_copy: None,
            child_copy: None,
            ancestor: None,
            ours: None,
            theirs: None,
        };
        match (&ancestor, &ours, &theirs) {
            (Some(_), Some(_), None) => result.kind = ConflictKind::ModifyDelete,
            (Some(_), None, Some(_)) => result.kind = ConflictKind::DeleteModify,
            (_, Some(_), Some(their_stage)) if binary => {
                result.kind = if link {
                    ConflictKind::Link
                } else {
                    ConflictKind::Binary
                };
                result.template_copy = Some((
                    free_path(
                        &self.trees.ours,
                        format!("{path}.{}", self.labels.copy_suffix),
                    ),
                    their_stage.entry.id,
                ));
            }
            (_, Some(our_stage), Some(their_stage)) => {
                result.kind = if ancestor.is_some() {
                    ConflictKind::Content
                } else {
                    ConflictKind::AddAdd
                };
                let markers = self.markers(ancestor.as_ref(), our_stage, their_stage)?;
                result.worktree = Entry {
                    id: markers,
                    mode: our_stage.entry.mode,
                };
            }
            _ => {}
        }
        result.ancestor = ancestor;
        result.ours = ours;
        result.theirs = theirs;
        Ok(Resolution::Conflict(Box::new(result)))
    }

    /// A conflict where `merge_trees` found none: both sides changed a path the template manages. Markers where the
    /// text allows; otherwise the child's bytes stay and the template's are saved beside them.
    pub fn forced_conflict(
        &self,
        path: &str,
        base: Option<Entry>,
        ours: Entry,
        theirs: Entry,
    ) -> Result<Conflict, git2::Error> {
        let stage = |entry: Entry| StageEntry {
            path: path.to_owned(),
            entry,
        };
        let (ancestor, ours, theirs) = (base.map(stage), stage(ours), stage(theirs));
        let not_text = |entry: &StageEntry| -> Result<bool, git2::Error> {
            if matches!(entry.entry.mode, 0o120000 | 0o160000) {
                return Ok(true);
            }
            Ok(endings::is_binary(
                self.repo.find_blob(entry.entry.id)?.content(),
            ))
        };
        let binary = not_text(&ours)? || not_text(&theirs)? || self.marked_binary(path);
        let mut conflict = Conflict {
            path: path.to_owned(),
            kind: ConflictKind::Content,
            worktree: ours.entry,
            template_copy: None,
            child_copy: None,
            ancestor: None,
            ours: None,
            theirs: None,
        };
        if binary {
            conflict.kind = ConflictKind::Binary;
            conflict.template_copy = Some((
                free_path(
                    &self.trees.ours,
                    format!("{path}.{}", self.labels.copy_suffix),
                ),
                theirs.entry.id,
            ));
        } else {
            conflict.worktree = Entry {
                id: self.whole_file_markers(ancestor.as_ref(), &ours, &theirs)?,
                mode: ours.entry.mode,
            };
        }
        conflict.ancestor = ancestor;
        conflict.ours = Some(ours);
        conflict.theirs = Some(theirs);
        Ok(conflict)
    }

    /// True when the child's `.gitattributes` say the path is never text-merged: `binary`, `-merge` or
    /// `merge=binary`.
    fn marked_binary(&self, path: &str) -> bool {
        let value = self.repo.get_attr_bytes(
            std::path::Path::new(path),
            "merge",
            git2::AttrCheckFlags::FILE_THEN_INDEX,
        );
        match value.map(git2::AttrValue::from_bytes) {
            Ok(git2::AttrValue::False) => true,
            Ok(git2::AttrValue::Bytes(driver)) => driver == b"binary",
            _ => false,
        }
    }

    /// A conflict at a path the template renamed to: `merge_trees` leaves the base and the child at the old path
    /// (or out of the conflict); they are brought to the new path, where git puts all three stages.
    fn follow_rename(
        &self,
        old: &str,
        theirs: &StageEntry,
        ancestor: Option<StageEntry>,
        ours: Option<StageEntry>,
    ) -> (Option<StageEntry>, Option<StageEntry>) {
        let at_new_path = |entry: Entry| StageEntry {
            path: theirs.path.clone(),
            entry,
        };
        let ancestor = ancestor
            .map(|stage| stage.entry)
            .or_else(|| blob_entry(&self.trees.base, old))
            .map(at_new_path);
        let ours = ours
            .map(|stage| stage.entry)
            .or_else(|| blob_entry(&self.trees.ours, old))
            .map(at_new_path);
        (ancestor, ours)
    }

    /// One conflict block around the whole file (the child's, the base's, the template's), in the child's style: for
    /// a managed file, where even changes on different lines are the user's to reconcile.
    fn whole_file_markers(
        &self,
        ancestor: Option<&StageEntry>,
        ours: &StageEntry,
        theirs: &StageEntry,
    ) -> Result<git2::Oid, git2::Error> {
        let plain = |stage: Option<&StageEntry>| -> Result<Vec<u8>, git2::Error> {
            let mut text = match stage {
                Some(stage) => endings::normalise(self.repo.find_blob(stage.entry.id)?.content()),
                None => Vec::new(),
            };
            if !text.is_empty() && !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            Ok(text)
        };
        let mut merged = Vec::new();
        merged.extend_from_slice(format!("<<<<<<< {}\n", self.labels.ours).as_bytes());
        merged.extend(plain(Some(ours))?);
        merged.extend_from_slice(format!("||||||| {}\n", self.labels.base).as_bytes());
        merged.extend(plain(ancestor)?);
        merged.extend_from_slice(b"=======\n");
        merged.extend(plain(Some(theirs))?);
        merged.extend_from_slice(format!(">>>>>>> {}\n", self.labels.theirs).as_bytes());
        let style = self.style_of(ours.entry.id);
        self.repo.blob(&endings::apply_style(&merged, style))
    }

    /// The child's text with inline conflict markers, merged as plain LF text and given the child's style.
    fn markers(
        &self,
        ancestor: Option<&StageEntry>,
        ours: &StageEntry,
        theirs: &StageEntry,
    ) -> Result<git2::Oid, git2::Error> {
        let plain = |stage: Option<&StageEntry>| -> Result<Vec<u8>, git2::Error> {
            match stage {
                Some(stage) => Ok(endings::normalise(
                    self.repo.find_blob(stage.entry.id)?.content(),
                )),
                None => Ok(Vec::new()),
            }
        };
        let (ancestor_text, our_text, their_text) =
            (plain(ancestor)?, plain(Some(ours))?, plain(Some(theirs))?);
        let mut options = MergeFileOptions::new();
        options.ancestor_label(self.labels.base.as_str());
        options.our_label(self.labels.ours.as_str());
        options.their_label(self.labels.theirs.as_str());
        options.style_diff3(true);
        // Both texts are known not to be binary: libgit2 only ever sees text here, and a Repository is open, so
        // the library is initialised (merge_file fails with "no error" as the first libgit2 call of a process).
        let merged = git2::merge_file(
            &merge_input(&ancestor_text, ancestor),
            &merge_input(&our_text, Some(ours)),
            &merge_input(&their_text, Some(theirs)),
            Some(&mut options),
        )?;
        let style = self.style_of(ours.entry.id);
        self.repo
            .blob(&endings::apply_style(merged.content(), style))
    }
}

fn merge_input<'text>(text: &'text [u8], stage: Option<&StageEntry>) -> MergeFileInput<'text> {
    let mut input = MergeFileInput::new();
    input.content(text);
    if let Some(stage) = stage {
        input
            .path(stage.path.as_str())
            .mode(Some(file_mode(stage.entry.mode)));
    }
    input
}

/// A conflict side with its original blob (before normalisation), found by path in its own tree.
fn original(entry: &IndexEntry, tree: &git2::Tree<'_>) -> StageEntry {
    let path = String::from_utf8_lossy(&entry.path).into_owned();
    let entry = blob_entry(tree, &path).unwrap_or(Entry {
        id: entry.id,
        mode: entry.mode,
    });
    StageEntry { path, entry }
}

/// Resolution by blob id, before any text merge.
fn trivial(
    ancestor: Option<&StageEntry>,
    ours: Option<&StageEntry>,
    theirs: Option<&StageEntry>,
) -> Option<Resolution> {
    let take = |stage: &StageEntry| Some(Resolution::Take(stage.path.clone(), stage.entry));
    match (ancestor, ours, theirs) {
        (Some(base), Some(ours), Some(theirs)) if ours.entry == base.entry => take(theirs),
        (Some(base), Some(ours), Some(theirs)) if theirs.entry == base.entry => take(ours),
        (_, Some(ours), Some(theirs)) if ours.entry == theirs.entry => take(ours),
        (Some(base), Some(ours), None) if ours.entry == base.entry => Some(Resolution::Remove),
        (Some(base), None, Some(theirs)) if theirs.entry == base.entry => Some(Resolution::Remove),
        // Gone on both sides at this path (a rename's old path: its conflict is at the new one).
        (Some(_), None, None) => Some(Resolution::Remove),
        _ => None,
    }
}
