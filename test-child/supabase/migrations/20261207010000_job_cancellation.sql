-- osorganic agent runtime: jobs that stop without finishing.
--
-- `cancelled`: a job stopped on purpose (its workflow run was cancelled, or a newer event replaced it).
-- `abandoned`: the conversation it belonged to ended (the pull request was closed without merging).
-- Neither is ever dispatched again; the sweeper only dispatches `pending` and `dispatched` jobs, and
-- fails jobs left `running` past their workflow's timeout. The reason is kept in `last_error` and the
-- time in `finished_at`, so no column is added, and the sweeper finds running jobs
-- through the existing (status, created_at) index. The status check is replaced NOT VALID and validated
-- afterwards, which scans the table without blocking writes for the whole scan. Only
-- jobs_status_check changes here; the table keeps its row level security and revoked grants.

begin;

-- Fail fast instead of queueing behind another session's lock.
set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.jobs drop constraint jobs_status_check;
alter table public.jobs add constraint jobs_status_check
  check (status in ('pending', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'abandoned')) not valid;

comment on column public.jobs.status is
  'pending, dispatched, running, then succeeded or failed; cancelled or abandoned when stopped. '
  'Only pending and dispatched jobs are ever dispatched.';
comment on column public.jobs.last_error is
  'Why the last dispatch or run failed, or why the job was cancelled or abandoned.';

commit;

-- Validated in a transaction of its own: VALIDATE CONSTRAINT takes only a SHARE UPDATE EXCLUSIVE
-- lock, so reads and writes go on while it scans.
begin;

set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.jobs validate constraint jobs_status_check;

commit;
