//! Bringing a child to a newer template version: the library behind `osorganic update`, doctor's drift check and the
//! template-sync workflow (which runs the command).
//!
//! base = the pristine render the child last took ([`base`]), ours = the child's HEAD, theirs = the new version
//! rendered with the child's answers and committed as a child of base ([`plan`]). [`merge`] computes the three-way
//! result in memory; [`apply`] writes it: a merge commit when clean, git's own merge state otherwise, with what
//! `--abort` needs kept by [`state`]. [`request`] is what is asked, [`answers`] the answers of the new render,
//! [`refusal`] why an update stops for the user, [`child`] the child's repository. Nothing is written before the
//! merge is computed.

pub mod answers;
pub mod apply;
pub mod base;
pub mod child;
pub mod merge;
pub mod plan;
pub mod refusal;
pub mod request;
pub mod state;

pub use child::{dirty_files, open_child, read_record, tune_libgit2};
pub use plan::{Standing, describe_move, standing};
pub use request::UpdateRequest;
