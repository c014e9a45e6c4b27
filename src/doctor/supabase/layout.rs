//! Where the Supabase checks look and how they are grouped: shared by every Supabase check module.

use crate::doctor::check::Group;

pub(super) const GROUP: Group = Group::Supabase;
pub(super) const MIGRATIONS: &str = "supabase/migrations";
