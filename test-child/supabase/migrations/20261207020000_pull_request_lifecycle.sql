-- osorganic agent runtime: the life of the runtime's pull request after it opens.
--
-- New job kinds: `fix` (the Developer loop after the pull request's checks failed), `revise` (after a
-- person's review) and `lifecycle` (acting on checks, reviews, merges and deployments). The kind check
-- is replaced NOT VALID and validated afterwards, so the scan does not block writes.
--
-- `pull_request_states` keeps one row per issue worked as a pull request: its pull request, how many
-- fix rounds ran, the head commit last marked ready or last sent to a fix run (so one head is acted on
-- once whichever check suite reports it), and the conversation's state: open, done (merged) or
-- abandoned (closed unmerged; no further job runs for it). Row level security is on and the grants
-- Supabase gives its API roles are revoked, as for the init migration's tables.

begin;

set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.jobs drop constraint jobs_kind_check;
alter table public.jobs add constraint jobs_kind_check
  check (kind in ('product_owner', 'developer', 'fix', 'revise', 'lifecycle')) not valid;

create table public.pull_request_states (
  id bigint generated always as identity primary key,
  repository text not null,
  issue_number bigint not null,
  pull_number bigint not null,
  branch text not null,
  state text not null default 'open',
  fix_rounds bigint not null default 0,
  last_fix_sha text,
  ready_sha text,
  created_at timestamptz not null default pg_catalog.now(),
  updated_at timestamptz not null default pg_catalog.now(),
  constraint pull_request_states_state_check check (state in ('open', 'done', 'abandoned')),
  constraint pull_request_states_numbers_check check (issue_number > 0 and pull_number > 0 and fix_rounds >= 0),
  constraint pull_request_states_issue_key unique (repository, issue_number)
);

comment on table public.pull_request_states is
  'The runtime''s pull request per issue: fix rounds, the head acted on, and open/done/abandoned.';

create trigger pull_request_states_set_updated_at
  before update on public.pull_request_states
  for each row execute function public.osorganic_set_updated_at();

alter table public.pull_request_states enable row level security;

do $$
declare
  client_role text;
begin
  foreach client_role in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_catalog.pg_roles where rolname = client_role) then
      execute pg_catalog.format('revoke all on table public.pull_request_states from %I', client_role);
      execute pg_catalog.format(
        'revoke all on sequence %s from %I',
        pg_catalog.pg_get_serial_sequence('public.pull_request_states', 'id'),
        client_role
      );
    end if;
  end loop;
end
$$;

commit;

-- Validated in a transaction of its own: VALIDATE CONSTRAINT takes only a SHARE UPDATE EXCLUSIVE
-- lock, so reads and writes go on while it scans.
begin;

set local lock_timeout = '5s';
set local statement_timeout = '60s';

alter table public.jobs validate constraint jobs_kind_check;

commit;
