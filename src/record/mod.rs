//! `.osorganic.toml`: how a child was made (template, source, answers, the pristine-render commit), read in this
//! one place into a typed value. Spawn writes it, update rewrites it, doctor reads it. Errors are typed so callers
//! can tell "not a child" from "broken". [`render_commit`] is the other half of the record: how the commits holding
//! a pristine render are named, so a base can be found and checked against the record.

mod child_record;
pub mod render_commit;

pub use child_record::*;
