-- osorganic agent runtime: the merge commit of the runtime's pull request, and `deployed`.
--
-- A deployment of the default branch names no issue, only a commit. When the runtime's pull request
-- is merged, its merge commit (`merge_commit_sha` in the `pull_request` closed payload) is kept in
-- `pull_request_states`, so a `deployment_status` for that commit finds its issue. The column is
-- nullable, so adding it rewrites no row; the index serves that lookup, which every deployment of a
-- commit that is not the runtime's branch makes.
--
-- The conversation's state gains `deployed`: merged, then deployed from the default branch. The state
-- check is replaced NOT VALID and validated afterwards, which scans the table without blocking writes
-- for the whole scan. The table keeps its row level security and revoked grants.

begin;

-- Fail fast instead of queueing behind another session's lock.
set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.pull_request_states add column merge_commit_sha text;

comment on column public.pull_request_states.merge_commit_sha is
  'The merge commit of the merged pull request: a deployment of it (the default branch) belongs to this issue.';

alter table public.pull_request_states drop constraint pull_request_states_state_check;
alter table public.pull_request_states add constraint pull_request_states_state_check
  check (state in ('open', 'done', 'deployed', 'abandoned')) not valid;

-- pull_request_states holds one row per issue worked as a pull request, so building this index takes
-- its write lock for moments, and the lock_timeout above makes it give up rather than queue. CREATE
-- INDEX CONCURRENTLY cannot run in a transaction, and Supabase's CLI runs each migration file in one.
-- squawk-ignore require-concurrent-index-creation
create index pull_request_states_merge_commit_idx
  on public.pull_request_states (repository, merge_commit_sha)
  where merge_commit_sha is not null;

commit;

-- Validated in a transaction of its own: VALIDATE CONSTRAINT takes only a SHARE UPDATE EXCLUSIVE
-- lock, so reads and writes go on while it scans.
begin;

set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.pull_request_states validate constraint pull_request_states_state_check;

commit;
