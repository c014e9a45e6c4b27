-- osorganic agent runtime: what a person does from the console to the agents.
--
-- `agent_controls` holds the switch that pauses and resumes every agent: one row (its key is the
-- constant `true`, so a second row cannot exist), with who changed it and when. While it is paused,
-- the webhook stores deliveries and their jobs but does not dispatch them (they stay `pending`, the
-- reason in `last_error`), the sweeper dispatches nothing, a job that starts ends without acting, and
-- a Developer run stops between two steps and keeps its work.
--
-- On `jobs`:
-- * `workflow_run_id`: the GitHub Actions run that claimed the job, so that cancelling the job
--   cancels that run;
-- * `budget_factor`: what the Developer run multiplies its `[developer]` budgets by. A person may
--   raise it once: the check allows only 1 (never raised) or 2 (raised, by someone, at some time);
-- * a new status `paused`: a run the switch stopped, its work kept; resuming the agents queues it again.
-- New columns are nullable or carry a constant default, so adding them rewrites no row. Checks are
-- added NOT VALID and validated afterwards, which scans the table without blocking writes for the
-- whole scan. The new table has row level security on and no policy, and the grants Supabase gives
-- its API roles are revoked, as for the init migration's tables.

begin;

-- Fail fast instead of queueing behind another session's lock.
set local lock_timeout = '5s';
set local statement_timeout = '60s';

create table public.agent_controls (
  id boolean primary key default true,
  paused boolean not null default false,
  changed_by text,
  changed_at timestamptz,
  constraint agent_controls_single_row_check check (id),
  constraint agent_controls_changed_by_check check (char_length(changed_by) between 1 and 100)
);

comment on table public.agent_controls is
  'The switch that pauses every agent: one row, with the login that last changed it and when.';

insert into public.agent_controls (id, paused) values (true, false);

alter table public.agent_controls enable row level security;

do $$
declare
  client_role text;
begin
  foreach client_role in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_catalog.pg_roles where rolname = client_role) then
      execute pg_catalog.format('revoke all on table public.agent_controls from %I', client_role);
    end if;
  end loop;
end
$$;

alter table public.jobs
  add column workflow_run_id bigint,
  add column budget_factor numeric(4, 2) not null default 1,
  add column budget_raised_by text,
  add column budget_raised_at timestamptz;

comment on column public.jobs.workflow_run_id is
  'The GitHub Actions run that claimed the job (github.run_id); cancelling the job cancels it.';
comment on column public.jobs.budget_factor is
  'What the Developer run multiplies its [developer] budgets by: 1, or 2 once a person raised it.';

alter table public.jobs add constraint jobs_workflow_run_id_check check (workflow_run_id > 0) not valid;

alter table public.jobs add constraint jobs_budget_factor_check
  check (
    (budget_factor = 1 and budget_raised_by is null and budget_raised_at is null)
    or (budget_factor = 2 and char_length(budget_raised_by) between 1 and 100 and budget_raised_at is not null)
  ) not valid;

alter table public.jobs drop constraint jobs_status_check;
alter table public.jobs add constraint jobs_status_check
  check (
    status in ('pending', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'abandoned', 'paused')
  ) not valid;

comment on column public.jobs.status is
  'pending, dispatched, running, then succeeded or failed; cancelled or abandoned when stopped; paused '
  'when the pause switch stopped its run (queued again on resume). Only pending and dispatched jobs are '
  'ever dispatched, and none while the agents are paused.';

commit;

-- Validated in a transaction of its own: VALIDATE CONSTRAINT takes only a SHARE UPDATE EXCLUSIVE
-- lock, so reads and writes go on while it scans.
begin;

set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.jobs validate constraint jobs_workflow_run_id_check;
alter table public.jobs validate constraint jobs_budget_factor_check;
alter table public.jobs validate constraint jobs_status_check;

commit;
