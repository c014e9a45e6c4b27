-- osorganic agent runtime: what publishing a Developer proposal records in code_generations.
--
-- A Developer run now hands a proposal (a patch and proposal.json) to a separate publishing job. Each
-- publication is one code_generations row: the publishing outcome in `status`, and beside it the
-- proposal's own status, the commit it was based on, the checks it ran and the budgets it used.
-- New columns are nullable or carry a constant default, so adding them rewrites no row. The status
-- check is replaced NOT VALID and validated afterwards, which scans the table without blocking writes
-- for the whole scan. The table keeps the row level security and revoked grants of the init migration.

begin;

-- Fail fast instead of queueing behind another session's lock.
set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.code_generations
  add column proposal_status text,
  add column base_commit text,
  add column checks jsonb not null default '[]'::jsonb,
  add column check_rounds bigint not null default 0,
  add column steps bigint not null default 0,
  add column minutes numeric(10, 2) not null default 0,
  add column budget_exhausted text,
  add column budget_remaining text,
  add column detail text;

comment on column public.code_generations.status is
  'opened, rejected, failed (one-shot runs); published, commented, refused, conflict (published proposals).';
comment on column public.code_generations.proposal_status is
  'The proposal''s own status: ready, checks_failing, budget_exhausted, failed or no_changes.';
comment on column public.code_generations.checks is
  'The checks the run ran: name, command, exit code, passed, timed out, duration, output tail, round.';

alter table public.code_generations drop constraint code_generations_status_check;
alter table public.code_generations add constraint code_generations_status_check
  check (status in ('opened', 'rejected', 'failed', 'published', 'commented', 'refused', 'conflict')) not valid;

alter table public.code_generations add constraint code_generations_proposal_status_check
  check (proposal_status in ('ready', 'checks_failing', 'budget_exhausted', 'failed', 'no_changes')) not valid;

alter table public.code_generations add constraint code_generations_base_commit_check
  check (base_commit ~ '^[0-9a-f]{40}([0-9a-f]{24})?$') not valid;

alter table public.code_generations add constraint code_generations_usage_check
  check (check_rounds >= 0 and steps >= 0 and minutes >= 0) not valid;

commit;

-- Validated in a transaction of its own: VALIDATE CONSTRAINT takes only a SHARE UPDATE EXCLUSIVE
-- lock, so reads and writes go on while it scans.
begin;

set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.code_generations validate constraint code_generations_status_check;
alter table public.code_generations validate constraint code_generations_proposal_status_check;
alter table public.code_generations validate constraint code_generations_base_commit_check;
alter table public.code_generations validate constraint code_generations_usage_check;

commit;
