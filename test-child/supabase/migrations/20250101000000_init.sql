-- osorganic agent runtime: initial schema.
--
-- The backend (DATABASE_URL) is the only reader and writer of these tables. Row level security
-- is enabled on every table and no policy is defined, so Supabase's client roles (`anon`,
-- `authenticated`) would see no row even with a grant; the grants Supabase gives them by default
-- on new tables in `public` are revoked as well. Those roles exist only on Supabase, so every
-- statement naming them is guarded and this file also applies to plain PostgreSQL (15+).
-- No table is added to the `supabase_realtime` publication: agent state is not broadcast.

begin;

-- Fail fast instead of queueing behind another session's lock.
set local lock_timeout = '5s';
set local statement_timeout = '60s';

create function public.osorganic_set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

comment on function public.osorganic_set_updated_at() is
  'Trigger function: stamps updated_at on every update of an osorganic table.';

-- Every delivery GitHub sends, stored before it is routed. The unique delivery id makes a
-- redelivery a no-op (INSERT ... ON CONFLICT DO NOTHING), with no check-then-insert race.
create table public.webhook_events (
  id bigint generated always as identity primary key,
  delivery_id text not null,
  event text not null,
  action text,
  repository text,
  issue_number bigint,
  sender_login text,
  payload jsonb not null,
  outcome text not null default 'received',
  outcome_detail text,
  received_at timestamptz not null default pg_catalog.now(),
  updated_at timestamptz not null default pg_catalog.now(),
  constraint webhook_events_delivery_id_key unique (delivery_id),
  constraint webhook_events_delivery_id_check check (char_length(delivery_id) between 1 and 200),
  constraint webhook_events_outcome_check check (outcome in ('received', 'ignored', 'queued'))
);

comment on table public.webhook_events is 'GitHub webhook deliveries, one row per X-GitHub-Delivery.';

-- Agent work handed off to GitHub Actions. A job is written in the same transaction as its
-- event, then dispatched; the sweeper re-dispatches jobs left pending.
create table public.jobs (
  id uuid primary key default gen_random_uuid(),
  kind text not null,
  status text not null default 'pending',
  repository text not null,
  issue_number bigint not null,
  webhook_event_id bigint references public.webhook_events (id) on delete set null,
  attempts bigint not null default 0,
  last_error text,
  -- Set when the webhook could not look up the sender's permission (GitHub unreachable): the agent
  -- checks it before acting and stops if that login has no write or triage access.
  verify_permission_of text,
  dispatched_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz not null default pg_catalog.now(),
  updated_at timestamptz not null default pg_catalog.now(),
  constraint jobs_kind_check check (kind in ('product_owner', 'developer')),
  constraint jobs_status_check check (status in ('pending', 'dispatched', 'running', 'succeeded', 'failed')),
  constraint jobs_issue_number_check check (issue_number > 0),
  constraint jobs_attempts_check check (attempts >= 0),
  constraint jobs_verify_permission_of_check check (char_length(verify_permission_of) between 1 and 100)
);

comment on table public.jobs is 'Agent jobs: pending until dispatched to the agent workflow.';

-- The Product Owner's dialogue on an issue: user comments and the agent's replies.
create table public.conversations (
  id bigint generated always as identity primary key,
  repository text not null,
  issue_number bigint not null,
  role text not null,
  author_login text,
  github_comment_id bigint,
  content text not null,
  created_at timestamptz not null default pg_catalog.now(),
  constraint conversations_role_check check (role in ('user', 'assistant'))
);

comment on table public.conversations is 'Product Owner conversation history per issue.';

-- What each agent did, for audit.
create table public.agent_actions (
  id bigint generated always as identity primary key,
  job_id uuid references public.jobs (id) on delete set null,
  agent text not null,
  action_type text not null,
  repository text,
  issue_number bigint,
  payload jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default pg_catalog.now()
);

comment on table public.agent_actions is 'Audit log of agent actions (comments, labels, commits, errors).';

-- Each Developer run: the files it proposed, and the pull request or the reasons it was rejected.
create table public.code_generations (
  id bigint generated always as identity primary key,
  job_id uuid references public.jobs (id) on delete set null,
  repository text not null,
  issue_number bigint not null,
  status text not null,
  branch text,
  commit_sha text,
  pull_request_number bigint,
  pull_request_url text,
  files jsonb not null default '[]'::jsonb,
  rejection_reasons jsonb not null default '[]'::jsonb,
  provider text,
  model text,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  created_at timestamptz not null default pg_catalog.now(),
  updated_at timestamptz not null default pg_catalog.now(),
  constraint code_generations_status_check check (status in ('opened', 'rejected', 'failed'))
);

comment on table public.code_generations is 'Developer agent runs and the pull requests they opened.';

-- Indexes. The tables are created above in this same migration, so they are empty and a plain
-- CREATE INDEX takes no noticeable lock.
create index webhook_events_received_at_idx on public.webhook_events (received_at);
create index webhook_events_issue_idx on public.webhook_events (repository, issue_number);
create index jobs_status_created_at_idx on public.jobs (status, created_at);
create index jobs_issue_idx on public.jobs (repository, issue_number);
create index jobs_webhook_event_id_idx on public.jobs (webhook_event_id);
create index conversations_issue_idx on public.conversations (repository, issue_number, created_at);
create unique index conversations_github_comment_id_key
  on public.conversations (github_comment_id)
  where github_comment_id is not null;
create index agent_actions_issue_idx on public.agent_actions (repository, issue_number);
create index agent_actions_job_id_idx on public.agent_actions (job_id);
create index agent_actions_created_at_idx on public.agent_actions (created_at);
create index code_generations_issue_idx on public.code_generations (repository, issue_number);
create index code_generations_status_idx on public.code_generations (status);
create index code_generations_job_id_idx on public.code_generations (job_id);
create index code_generations_created_at_idx on public.code_generations (created_at);

create trigger webhook_events_set_updated_at
  before update on public.webhook_events
  for each row execute function public.osorganic_set_updated_at();
create trigger jobs_set_updated_at
  before update on public.jobs
  for each row execute function public.osorganic_set_updated_at();
create trigger code_generations_set_updated_at
  before update on public.code_generations
  for each row execute function public.osorganic_set_updated_at();

-- Row level security on, no policies: only the table owner (the backend) and roles that bypass
-- RLS (Supabase's service_role) can read or write.
alter table public.webhook_events enable row level security;
alter table public.jobs enable row level security;
alter table public.conversations enable row level security;
alter table public.agent_actions enable row level security;
alter table public.code_generations enable row level security;

-- Least privilege: nobody but the owner executes the trigger function directly.
revoke all on function public.osorganic_set_updated_at() from public;

-- Supabase grants anon and authenticated everything on new tables, sequences and functions in
-- public (ALTER DEFAULT PRIVILEGES in its init script). Take that back, where those roles exist.
do $$
declare
  client_role text;
  table_name text;
  sequence_name text;
begin
  foreach client_role in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_catalog.pg_roles where rolname = client_role) then
      foreach table_name in array array[
        'webhook_events', 'jobs', 'conversations', 'agent_actions', 'code_generations'
      ] loop
        execute pg_catalog.format('revoke all on table public.%I from %I', table_name, client_role);
        sequence_name := pg_catalog.pg_get_serial_sequence(pg_catalog.format('public.%I', table_name), 'id');
        if sequence_name is not null then
          execute pg_catalog.format('revoke all on sequence %s from %I', sequence_name, client_role);
        end if;
      end loop;
      execute pg_catalog.format(
        'revoke all on function public.osorganic_set_updated_at() from %I', client_role
      );
    end if;
  end loop;
end
$$;

commit;
